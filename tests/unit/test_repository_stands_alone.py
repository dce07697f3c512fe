"""The repository stands alone: no file of the project reads a path outside it.

A user clones eksmon into an empty folder; nothing sits beside it. Every file the simulator, the tests
and the benchmarks read must therefore ship inside the repository (the real /metrics dumps do, gzipped).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import PurePosixPath

import pytest

from tests.conftest import REPO

# What is checked: code, tests, benchmarks, build and CI files (documentation may name the provenance).
CHECKED_SUFFIXES = {".py", ".toml", ".json", ".txt", ".cfg", ".ini", ".sh", ".yaml", ".yml"}
CHECKED_NAMES = {"Makefile", "run"}
SHARED = "sha" + "red"  # spelt apart so that a plain grep for the way out does not find these examples

_CLIMB = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?"
    r"(?P<before>(?:\.parent\b)*)(?:\.parents\[(?P<index>\d+)\])?(?P<after>(?:\.parent\b)*)"
)
_OUTSIDE = (
    re.compile(r"\.\./+shared\b"),  # the developers' shared folder beside the checkout
    re.compile(r"""["']shared["']\s*/|/\s*["']shared["']"""),  # ... built with pathlib
    re.compile(r"\b(?:REPO|ROOT|REPO_ROOT)\.parent\b"),  # one level above the repository root
    re.compile(r"""["'](?:/work|/home|/Users)/"""),  # an absolute path of somebody's machine
)


def outside_references(path: str, text: str) -> list[str]:
    """Lines of ``text`` (the file at repository-relative ``path``) that name a place outside the repository."""
    depth = len(PurePosixPath(path).parts)  # levels from the file up to the repository root
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for m in _CLIMB.finditer(line):
            levels = m["before"].count(".parent") + m["after"].count(".parent")
            levels += int(m["index"]) + 1 if m["index"] is not None else 0
            if levels > depth:
                found.append(
                    f"{path}:{number}: climbs {levels} levels from a file {depth} deep: {line.strip()}"
                )
        found += [f"{path}:{number}: {line.strip()}" for p in _OUTSIDE if p.search(line)]
    return found


def project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    here = PurePosixPath(__file__).name
    return [
        f
        for f in listed
        if (PurePosixPath(f).suffix in CHECKED_SUFFIXES or PurePosixPath(f).name in CHECKED_NAMES)
        and PurePosixPath(f).name != here
        and (REPO / f).is_file()
    ]


def test_no_project_file_names_a_path_outside_the_repository() -> None:
    files = project_files()
    assert len(files) > 100 and "Makefile" in files and ".ci/run" in files  # the scan really covers them
    offenders = [hit for f in files for hit in outside_references(f, (REPO / f).read_text(errors="replace"))]
    assert offenders == []


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("tests/conftest.py", "SHARED = REPO.parent / " + '"' + SHARED + '" / "fixtures"'),
        ("functions/eksmon/sim/x.py", 'F = Path(__file__).resolve().parents[3].parent / "data"'),
        ("functions/eksmon/sim/x.py", "F = Path(__file__).parent.parent.parent.parent.parent"),
        ("tests/unit/test_x.py", 'F = Path(__file__).resolve().parents[3] / "fixtures"'),
        ("Makefile", f"\tcp ../{SHARED}/fixtures/metrics/*.prom tests/"),
        ("bench/b.py", 'open("/work/main/x.prom")'),
    ],
)
def test_the_guard_catches_each_way_out(path: str, line: str) -> None:
    assert outside_references(path, line), line


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("tests/conftest.py", "REPO = Path(__file__).resolve().parents[1]"),
        ("functions/eksmon/sim/x.py", 'DATA = Path(__file__).resolve().parents[3] / "pyproject.toml"'),
        ("bench/b.py", 'sys.path.insert(0, str(Path(__file__).parent.parent / "functions"))'),
        ("tests/unit/test_x.py", "shared = tmp_path.parent  # the directory xdist workers share"),
    ],
)
def test_the_guard_lets_paths_inside_the_repository_pass(path: str, line: str) -> None:
    assert outside_references(path, line) == []
