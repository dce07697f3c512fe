"""Tests of checks mirror the checks: each registered check id has one test module of its own,
``tests/unit/test_check_<id with dots as underscores>.py``, so a new check's tests have an obvious home
(CONTRIBUTING.md, recipe 1).

The registry holds only the pure checks; the findings the monitor reports about itself
(``monitor.*``) are not registered checks and are tested beside the scanner.
"""

from __future__ import annotations

from pathlib import Path

from eksmon.registry import load

UNIT = Path(__file__).parent
CHECKS = load().checks


def module_of(check_id: str) -> str:
    return f"test_check_{check_id.replace('.', '_')}.py"


def test_every_registered_check_has_its_own_test_module() -> None:
    missing = [
        f"{cid}: tests/unit/{module_of(cid)}"
        for cid in sorted(CHECKS)
        if not (UNIT / module_of(cid)).is_file()
    ]
    assert not missing, "checks without their test module (CONTRIBUTING.md, recipe 1):\n" + "\n".join(missing)


def test_each_check_test_module_tests_the_check_it_is_named_after() -> None:
    # a module named after the id that never imports the check's code would be a home with nobody in it
    hollow = [
        f"{module_of(cid)} does not import {spec.fn.__module__}"
        for cid, spec in sorted(CHECKS.items())
        if (UNIT / module_of(cid)).is_file() and spec.fn.__module__ not in (UNIT / module_of(cid)).read_text()
    ]
    assert not hollow, "\n".join(hollow)


def test_no_check_test_module_names_a_check_that_is_not_registered() -> None:
    # a check renamed or removed leaves its tests behind under the old id
    expected = {module_of(cid) for cid in CHECKS}
    stray = sorted(p.name for p in UNIT.glob("test_check_*.py") if p.name not in expected)
    assert not stray, f"test modules named after no registered check id: {stray}"
