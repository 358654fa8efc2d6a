"""The README's two commands: `make run` installs only the application, `make test` the rest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the rest runs everywhere

ROOT = Path(__file__).resolve().parent.parent


def recipe(makefile: str, target: str) -> tuple[str, str]:
    """(prerequisites, recipe lines) of `target`."""
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n?)*)", makefile, re.MULTILINE)
    assert match, target
    return match.group(1), match.group(2)


def test_make_run_installs_only_what_the_app_needs_and_make_test_the_dev_extras():
    makefile = (ROOT / "Makefile").read_text()
    run_needs, _ = recipe(makefile, "run")
    assert run_needs.split() == ["$(STAMP)"]
    _, install = recipe(makefile, "$(STAMP)")
    assert "pip install -c $(LOCK) -e ." in install and "[dev]" not in install
    _, dev_install = recipe(makefile, "$(DEV_STAMP)")
    assert "-c $(LOCK) -e '.[dev]'" in dev_install
    test_needs, _ = recipe(makefile, "test")
    lint_needs, _ = recipe(makefile, "lint")
    assert "lint" in test_needs.split() and "$(DEV_STAMP)" in lint_needs.split()
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_readme_names_the_system_package_beside_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    commands = readme.index("make test")
    assert "libxcb-cursor0" in readme[commands:commands + 600]


def test_the_licence_is_an_spdx_string_with_a_setuptools_that_reads_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # a table is deprecated since setuptools 77
    requires = project["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(\d+)", r) and int(r.split(">=")[1]) >= 77
               for r in requires)


def _pinned() -> dict[str, str]:
    lines = (ROOT / "requirements-lock.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_a_fresh_clone_installs_the_locked_version_of_every_dependency():
    # Unpinned, a fresh clone took OpenCV 5 the day it came out and failed its first `make test`.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    names = {re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]).lower() for r in wanted}
    pins = _pinned()
    assert names <= set(pins), f"not in the lock: {sorted(names - set(pins))}"
    assert "pip" in pins and "torch" in pins and "opencv-python-headless" in pins
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements-lock.txt" in makefile
    _, install = recipe(makefile, "$(STAMP)")
    assert all("-c $(LOCK)" in line for line in install.splitlines() if "pip install" in line)
