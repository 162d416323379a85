"""environment.yml (for conda users) must list exactly the dependencies of pyproject.toml."""
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _normalise(req: str) -> str:
    return req.replace(" ", "").lower()


def drift(pyproject_text: str, environment_text: str) -> tuple[list[str], list[str]]:
    """(only in pyproject, only in environment.yml), comparing normalised requirement strings."""
    project = tomllib.loads(pyproject_text)["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    expected = {_normalise(r) for r in reqs}
    env = yaml.safe_load(environment_text)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {_normalise(r) for r in pip}
    return sorted(expected - listed), sorted(listed - expected)


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    only_py, only_env = drift((ROOT / "pyproject.toml").read_text(),
                              (ROOT / "environment.yml").read_text())
    assert not only_py and not only_env, (
        f"environment.yml and pyproject.toml drifted. Only in pyproject: {only_py}; "
        f"only in environment.yml: {only_env}")


def test_environment_yml_names_python_311():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["name"] == "finetuning-course"
    assert "python=3.11" in env["dependencies"]


def test_a_changed_range_counts_as_drift():
    env_text = (ROOT / "environment.yml").read_text().replace("torch>=2.2,<2.15", "torch>=2.2")
    only_py, only_env = drift((ROOT / "pyproject.toml").read_text(), env_text)
    assert only_py == ["torch>=2.2,<2.15"] and only_env == ["torch>=2.2"]
