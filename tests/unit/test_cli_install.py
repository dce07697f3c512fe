"""The CLI as `pip install .` / `pipx install .` gives it: no simulator extras, a version, a clear demo.

The `sim` extra (moto, waitress, cryptography) is only for `eksmon demo`; each test here runs the CLI in a
fresh interpreter where importing any of them fails, as on a machine that never installed them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SIM = ("moto", "waitress", "cryptography")

BLOCK = f"""
import importlib.abc, sys
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {SIM!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}")
        return None
sys.meta_path.insert(0, NotInstalled())
from eksmon.cli import main
"""


def without_sim(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_package_depends_on_no_simulator_module() -> None:
    names = {re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0].lower() for d in PYPROJECT["project"]["dependencies"]}
    assert not names & set(SIM)
    sim_extra = {
        re.split(r"[<>=!\[ ;]", d, maxsplit=1)[0].lower()
        for d in PYPROJECT["project"]["optional-dependencies"]["sim"]
    }
    assert set(SIM) <= sim_extra


@pytest.mark.parametrize("command", [["checks"], ["rbac"], ["iam-policy"], ["checks", "--format", "json"]])
def test_commands_that_need_no_simulator_run_without_it(command: list[str]) -> None:
    done = without_sim(
        f"code = main({command!r})\n"
        f"assert not [m for m in sys.modules if m.split('.')[0] in {SIM!r}], 'a simulator module was loaded'\n"
        "sys.exit(code)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_demo_without_the_simulator_says_what_to_install() -> None:
    done = without_sim("sys.exit(main(['demo']))")
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "pip install 'eksmon[sim]'" in done.stderr and "moto" in done.stderr


def test_version_is_the_package_metadata() -> None:
    done = without_sim("main(['--version'])")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"eksmon {PYPROJECT['project']['version']}"
