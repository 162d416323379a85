"""Helpers for the browser test: Debian's Chromium, a private JupyterLab server, a notebook page.

Example::

    with LabServer(root_dir) as lab:                      # 127.0.0.1, free port, random token
        ctx = launch_chromium(playwright, profile_dir)    # headless, no network chatter
        page = ctx.new_page()
        notebook = open_notebook(page, lab, "00_welcome/00_welcome.ipynb")
        run_all_and_wait(page)

Nothing here downloads anything: Chromium comes from Debian (``apt-get install chromium``),
JupyterLab's news and update checks are turned off, and the server only listens on loopback.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv" / "bin"

# The flags machines/python.md lists for headless Chromium as root on a closed network.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--no-default-browser-check",
]
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def find_chromium() -> str | None:
    """Debian's Chromium binary, or None when it is not installed."""
    env = os.environ.get("COURSE_CHROMIUM")
    for path in ([env] if env else []) + list(CHROMIUM_CANDIDATES):
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_exe() -> str:
    exe = VENV_BIN / "jupyter"
    return str(exe) if exe.exists() else str(Path(sys.executable).with_name("jupyter"))


# JupyterLab settings that keep a test session quiet: no news prompt, no update check.
_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": True},
    # every cell stays in the DOM, so a locator finds an output however far down it is
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


class LabServer:
    """A JupyterLab server on 127.0.0.1 serving ``root_dir``, stopped (process group) on exit.

    ``state_dir`` holds its config, data, runtime, settings and workspaces so that nothing from
    the user's ``~/.jupyter`` leaks in and nothing leaks out. ``log`` is the server's output.
    """

    def __init__(self, root_dir: Path, state_dir: Path, start_timeout: float = 90.0):
        self.root_dir, self.state_dir = Path(root_dir), Path(state_dir)
        self.start_timeout = start_timeout
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.state_dir / "jupyterlab.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def _env(self) -> dict:
        env = dict(os.environ)
        s = self.state_dir
        for name, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                          ("JUPYTER_RUNTIME_DIR", "runtime"),
                          ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                          ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                          ("IPYTHONDIR", "ipython")):
            (s / sub).mkdir(parents=True, exist_ok=True)
            env[name] = str(s / sub)
        for rel, data in _LAB_SETTINGS.items():
            f = s / "settings" / rel
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(data))
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("MPLBACKEND", "Agg")
        env.setdefault("TQDM_DISABLE", "1")
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("JUPYTER_TOKEN", None)
        return env

    def start(self) -> "LabServer":
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            jupyter_exe(), "lab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.extension_manager=readonly",
            f"--LabApp.workspaces_dir={self.state_dir / 'workspaces'}",
            f"--LabApp.user_settings_dir={self.state_dir / 'settings'}",
            "--ServerApp.open_browser=False",
            "--MappingKernelManager.cull_idle_timeout=0",
        ]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=self._env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        json.load(r)
                        return
            except (urllib.error.URLError, OSError, ValueError) as exc:
                last = exc
            try:  # poll interval; returns at once if the server dies
                self.proc.wait(timeout=0.25)
            except subprocess.TimeoutExpired:
                pass
        raise RuntimeError(f"JupyterLab not ready after {self.start_timeout:.0f}s ({last}):\n"
                           f"{self.log()}")

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server and everything it started (kernels): SIGTERM the group, then SIGKILL."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # kernels live in the same process group: make sure none is left
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=15)
        self._log.close()

    def __enter__(self) -> "LabServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright, profile_dir: Path, executable: str):
    """Headless Debian Chromium with a new, empty profile (a persistent context)."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 1000}, device_scale_factor=1,
        ignore_default_args=["--enable-automation"], timeout=60_000)


# ---- the notebook page -----------------------------------------------------------------------

_NOTEBOOK_STATE_JS = """
() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext) return null;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = [];
  w.content.widgets.forEach((cell, i) => {
    const m = cell.model;
    if (m.type !== 'code') return;
    const outs = [];
    for (let j = 0; j < m.outputs.length; j++) {
      const o = m.outputs.get(j).toJSON();
      outs.push({type: o.output_type, name: o.name || null, ename: o.ename || null,
                 evalue: o.evalue || null});
    }
    cells.push({index: i, source: m.sharedModel.getSource(), count: m.executionCount,
                executing: cell.node.querySelector('.jp-InputPrompt') ?
                  cell.node.querySelector('.jp-InputPrompt').textContent.includes('*') : false,
                outputs: outs});
  });
  return {kernel: kernel ? kernel.status : 'none', busy: w.sessionContext.kernelDisplayStatus,
          cells};
}
"""


def wait_for_app(page, timeout_ms: int = 90_000) -> None:
    """Wait until JupyterLab has started and restored its layout."""
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell && "
        "window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
        timeout=timeout_ms)
    page.evaluate("() => window.jupyterapp.restored")


def open_notebook(page, lab: LabServer, rel_path: str, timeout_ms: int = 90_000) -> None:
    """Open ``rel_path`` (relative to the server's root) and wait for its kernel to be idle."""
    page.goto(lab.url(f"lab/tree/{rel_path}?reset"), wait_until="domcontentloaded",
              timeout=timeout_ms)
    wait_for_app(page, timeout_ms)
    page.wait_for_function(
        """(path) => { const w = window.jupyterapp.shell.currentWidget;
             return w && w.context && w.context.path === path && w.sessionContext &&
               w.sessionContext.session && w.sessionContext.session.kernel &&
               w.sessionContext.session.kernel.status === 'idle'; }""",
        arg=rel_path, timeout=timeout_ms)


def notebook_state(page) -> dict:
    return page.evaluate(_NOTEBOOK_STATE_JS)


def wait_until_all_ran(page, timeout_ms: int) -> dict:
    """Wait until every non-empty code cell has an execution count, none shows ``[*]`` and the
    kernel is idle; return the notebook state (cells, outputs)."""
    page.wait_for_function(
        f"""() => {{ const s = ({_NOTEBOOK_STATE_JS})();
             if (!s || s.kernel !== 'idle') return false;
             return s.cells.every(c => !c.executing &&
               (c.source.trim() === '' || c.count !== null) ) ||
               s.cells.some(c => c.outputs.some(o => o.type === 'error')); }}""",
        timeout=timeout_ms, polling=250)
    return notebook_state(page)


def run_all_and_wait(page, timeout_ms: int = 300_000) -> dict:
    """"Run All Cells" through JupyterLab's own command, then wait as in wait_until_all_ran."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return wait_until_all_ran(page, timeout_ms)


def errors_in(state: dict) -> list[str]:
    """Cells whose outputs hold an error or anything written to stderr."""
    bad = []
    for c in state["cells"]:
        for o in c["outputs"]:
            if o["type"] == "error" or o["name"] == "stderr":
                what = f"{o['ename']}: {o['evalue']}" if o["type"] == "error" else "stderr output"
                bad.append(f"cell {c['index']}: {what}\n{c['source'][:300]}")
    return bad
