"""What the functions' code asset holds: the handlers and what they import, nothing else.

The boundary is computed, not listed: the entry points are every module of ``eksmon.handlers`` and of the
packages the registry discovers by listing them (``eksmon.registry.DISCOVERED_PACKAGES``); the asset is
their import closure (infra/imports.py: lazy imports included, ``TYPE_CHECKING`` ones not). A module only
the command line or the simulator imports stays out without being named, and a module a handler starts
to import comes in without being named. Only ``.py`` sources are shipped: no shipped module reads files
beside it (tests/unit/test_asset.py holds them to that, and tests/infra/test_deployment.py imports every
shipped module from the synthesised asset alone).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from eksmon.registry import DISCOVERED_PACKAGES
from infra.imports import closure, import_graph, modules

HANDLERS_PACKAGE = "eksmon.handlers"
ENTRY_PACKAGES = (HANDLERS_PACKAGE, *DISCOVERED_PACKAGES)


def asset_modules(functions_dir: Path) -> dict[str, Path]:
    """The modules the asset ships (dotted name -> source file under ``functions_dir``), sorted by name."""
    known = modules(_packages(functions_dir))
    missing = [p for p in ENTRY_PACKAGES if p not in known]
    if missing:
        raise FileNotFoundError(f"{functions_dir} has no package {', '.join(missing)}")
    roots = [m for m in known if any(m == p or m.startswith(p + ".") for p in ENTRY_PACKAGES)]
    return {m: known[m] for m in sorted(closure(import_graph(known), roots))}


def stage(functions_dir: Path, destination: Path) -> list[str]:
    """Make ``destination`` hold exactly the asset's files (paths relative to it, returned sorted).

    Contents only (no timestamps): the same sources give the same asset hash wherever they are staged.
    """
    if destination.exists():
        shutil.rmtree(destination)
    files = sorted(
        path.relative_to(functions_dir).as_posix() for path in asset_modules(functions_dir).values()
    )
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(functions_dir / relative, target)
    return files


def missing_imports(asset_dir: Path, functions_dir: Path) -> dict[str, list[str]]:
    """Each module in ``asset_dir`` that imports (at any time), or sits in, a package of ``functions_dir``
    the asset lacks. Read from the shipped files: it judges the asset as deployed, whatever built it."""
    source = modules(_packages(functions_dir))
    shipped = modules({p.name: p for p in sorted(asset_dir.iterdir()) if p.is_dir()})
    graph = import_graph({**source, **shipped})
    lacking: dict[str, list[str]] = {}
    for module in shipped:
        # importing a.b.c runs a/__init__.py and a/b/__init__.py first
        needed = {
            ".".join(parts[:i])
            for parts in (name.split(".") for name in {module, *graph[module]})
            for i in range(1, len(parts) + 1)
        } - {module}
        absent = sorted(m for m in needed if m in source and m not in shipped)
        if absent:
            lacking[module] = absent
    return lacking


def _packages(directory: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(directory.iterdir()) if (p / "__init__.py").is_file()}
