"""The Lambda asset is what the handlers import: lazy imports in, command-line and simulator code out.

The synthesised asset itself is checked in tests/infra/test_deployment.py; these tests read the source
tree (and a miniature one) without CDK.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from eksmon.registry import MONITORS
from infra.asset import asset_modules, missing_imports, stage
from infra.imports import imported

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"

# Never in a Lambda: the simulator, the command line and the demo (and what only they import).
CLI_OR_SIMULATOR = ("eksmon.sim", "eksmon.cli", "eksmon.__main__", "eksmon.demo", "eksmon.commands")


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


MINIATURE = {
    "eksmon/__init__.py": "",
    "eksmon/handlers/__init__.py": "from eksmon import settings\n",
    "eksmon/handlers/scan.py": (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from eksmon.report import Page\n"
        "def handler(event, context):\n"
        "    from ..kube.client import connect  # lazy, relative\n"
        "    return connect()\n"
    ),
    "eksmon/settings.py": "import json\n",
    "eksmon/kube/__init__.py": "",
    "eksmon/kube/client.py": "import eksmon.errors\ndef connect(): ...\n",
    "eksmon/errors.py": "",
    "eksmon/report.py": "import rich\n",  # only under TYPE_CHECKING above
    "eksmon/registry.py": "",
    "eksmon/checks/__init__.py": "",
    "eksmon/checks/age.py": "from eksmon.registry import *\n",  # found by listing, never named
    "eksmon/collectors/__init__.py": "",
    "eksmon/collectors/eks.py": "",
    "eksmon/cli.py": "from eksmon.handlers import scan\nimport eksmon.sim.server\n",
    "eksmon/sim/__init__.py": "",
    "eksmon/sim/server.py": "",
    "eksmon/py.typed": "",
}


def test_the_asset_is_the_import_closure_of_the_handlers_and_the_discovered_packages(tmp_path: Path) -> None:
    """Given a handler that imports a client lazily (relative), a page under TYPE_CHECKING only, and a
    command line that imports the handler and the simulator, then the asset holds the handler, its
    package's __init__ and what that imports, the lazily imported client with its package and its own
    imports, every check and collector module, and neither the page, the command line, the simulator
    nor package data."""
    functions = _tree(tmp_path, MINIATURE)
    assert sorted(asset_modules(functions)) == [
        "eksmon",
        "eksmon.checks",
        "eksmon.checks.age",
        "eksmon.collectors",
        "eksmon.collectors.eks",
        "eksmon.errors",
        "eksmon.handlers",
        "eksmon.handlers.scan",
        "eksmon.kube",
        "eksmon.kube.client",
        "eksmon.registry",
        "eksmon.settings",
    ]


def test_a_module_new_to_the_command_line_stays_out_and_one_new_to_a_handler_comes_in(
    tmp_path: Path,
) -> None:
    """Nobody lists modules: a new command-line module is left out, and the moment a handler imports a
    new module (here inside a function) it ships."""
    functions = _tree(tmp_path, {**MINIATURE, "eksmon/regions.py": "", "eksmon/commands/__init__.py": ""})
    assert {"eksmon.regions", "eksmon.commands"}.isdisjoint(asset_modules(functions))
    _tree(tmp_path, {"eksmon/checks/age.py": "def check():\n    import eksmon.regions\n"})
    assert "eksmon.regions" in asset_modules(functions)


def test_staging_copies_exactly_the_asset_and_replaces_what_a_previous_synth_left(tmp_path: Path) -> None:
    functions = _tree(tmp_path / "functions", MINIATURE)
    staged = tmp_path / "staged"
    _tree(staged, {"eksmon/cli.py": "stale"})
    files = stage(functions, staged)
    assert files == sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    assert "eksmon/cli.py" not in files and "eksmon/py.typed" not in files
    assert "eksmon/kube/client.py" in files
    assert (staged / "eksmon/kube/client.py").read_bytes() == (
        functions / "eksmon/kube/client.py"
    ).read_bytes()
    assert missing_imports(staged, functions) == {}


def test_missing_imports_names_a_lazily_imported_module_the_asset_lacks(tmp_path: Path) -> None:
    """The check the synthesised asset is held to (tests/infra/test_deployment.py) can fail: a module
    imported only inside a function, or a package __init__, missing from the asset is reported."""
    functions = _tree(tmp_path / "functions", MINIATURE)
    staged = tmp_path / "staged"
    stage(functions, staged)
    (staged / "eksmon/kube/client.py").unlink()
    assert missing_imports(staged, functions) == {"eksmon.handlers.scan": ["eksmon.kube.client"]}
    (staged / "eksmon/kube/__init__.py").unlink()
    assert missing_imports(staged, functions) == {
        "eksmon.handlers.scan": ["eksmon.kube", "eksmon.kube.client"]
    }


def test_the_functions_asset_holds_every_entry_point_and_no_command_line_or_simulator_module() -> None:
    shipped = asset_modules(FUNCTIONS)
    assert {f"eksmon.handlers.{m}" for m in (*MONITORS, "slack_forwarder")} <= set(shipped)
    for package in ("checks", "collectors"):
        listed = {p.stem for p in (FUNCTIONS / "eksmon" / package).glob("*.py") if p.stem != "__init__"}
        assert {f"eksmon.{package}.{name}" for name in listed} <= set(shipped), package
    assert "eksmon.kube.client" in shipped  # imported only when a handler reaches a cluster
    landed = [m for m in shipped if any(m == c or m.startswith(c + ".") for c in CLI_OR_SIMULATOR)]
    assert landed == []


_DYNAMIC = {"import_module", "__import__", "iter_modules", "walk_packages", "find_spec"}


def _calls(path: Path, names: set[str]) -> list[int]:
    """Lines of ``path`` that call a function or method named one of ``names``."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in names
    )


def _reads_package_data(module: str, path: Path) -> list[str]:
    """What in ``path`` reads files shipped beside it: ``__file__``, importlib.resources, pkgutil.get_data."""
    found = [
        n for n in imported(module, path) if n.startswith("importlib.resources") or n == "pkgutil.get_data"
    ]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found += [
        f"__file__ (line {n.lineno})"
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id == "__file__"
    ]
    return found + [f"get_data (line {line})" for line in _calls(path, {"get_data"})]


def test_no_shipped_module_but_the_registry_imports_by_a_computed_name() -> None:
    """An import by a computed name is invisible to the walk that builds the asset: the one there is
    (the registry listing its check and collector packages) is declared in DISCOVERED_PACKAGES."""
    computed = {m: lines for m, path in asset_modules(FUNCTIONS).items() if (lines := _calls(path, _DYNAMIC))}
    assert list(computed) == ["eksmon.registry"], computed


def test_no_shipped_module_reads_files_beside_it(tmp_path: Path) -> None:
    """Only .py files are shipped: a module reading package data would find none in the Lambda."""
    shipped = asset_modules(FUNCTIONS).items()
    assert {m: found for m, path in shipped if (found := _reads_package_data(m, path))} == {}
    probe = _tree(
        tmp_path,
        {
            "a.py": "from importlib import resources\n",
            "b.py": "print(__file__)\n",
            "c.py": "import pkgutil\npkgutil.get_data('x', 'y')\n",
        },
    )
    assert [bool(_reads_package_data(n, probe / f"{n}.py")) for n in "abc"] == [True, True, True]


def _layer_build() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layer_build", FUNCTIONS.parent / "layers" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_shipped_module_imports_a_package_the_layer_leaves_out() -> None:
    """What the asset ships runs with the dependency layer alone: no shipped module imports, even inside a
    function, a command-line-only package (rich: the terminal table) or one the layer prunes (the
    kubernetes asyncio client and the aiohttp stack)."""
    build = _layer_build()
    left_out = set(build.CLI_ONLY) | {
        p.replace("/", ".") for p in build._PRUNE if "*" not in p and p != "bin"
    }
    found = {
        module: sorted(
            n for n in imported(module, path) if any(n == x or n.startswith(x + ".") for x in left_out)
        )
        for module, path in asset_modules(FUNCTIONS).items()
    }
    assert {m: names for m, names in found.items() if names} == {}
    assert "rich" in left_out and "kubernetes.aio" in left_out and "aiohttp" in left_out


def test_a_tree_without_the_handlers_package_is_an_error_not_an_empty_asset(tmp_path: Path) -> None:
    functions = _tree(tmp_path, {k: v for k, v in MINIATURE.items() if not k.startswith("eksmon/handlers/")})
    with pytest.raises(FileNotFoundError, match=r"has no package eksmon\.handlers"):
        asset_modules(functions)
