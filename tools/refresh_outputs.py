"""Execute lesson notebooks and keep only the outputs nbval checks.

    python tools/refresh_outputs.py notebooks/02_freezing_and_counting/02_freezing_and_counting.ipynb

Cells whose source contains ``# NBVAL_CHECK_OUTPUT`` keep their outputs and execution counts
(nbval compares them in ``make test``); every other cell is stripped (no outputs, no count), so
the repository holds no volatile output: no timings, progress bars, losses or images.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def strip(nb) -> None:
    nb.metadata.pop("widgets", None)  # saved widget state: volatile, and large
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if MARK in cell.source:
            # keep stdout/text results; drop widget views and images, which nbval never compares
            cell.outputs = [o for o in cell.outputs
                            if o.get("output_type") == "stream" and o.get("name") == "stdout"
                            or o.get("output_type") == "execute_result"]
            for o in cell.outputs:
                if "data" in o:
                    o["data"] = {k: v for k, v in o["data"].items() if k == "text/plain"}
        else:
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)


def refresh(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    took = time.perf_counter() - start
    strip(nb)
    nbformat.write(nb, str(path))
    return took


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"{arg}: executed in {refresh(Path(arg)):.1f} s")
