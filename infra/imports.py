"""The project's import graph, read from the source: nothing it describes is imported.

Every import counts, including those inside functions (a lazy import still runs, later: the module it names
must be there when it does). Imports under ``if TYPE_CHECKING:`` never run and do not count. The CDK app
uses the graph to decide what the Lambda asset holds (infra/asset.py); tests/unit/test_architecture.py uses
it to keep the layers free of cycles.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path


def modules(packages: Mapping[str, Path]) -> dict[str, Path]:
    """Every module of the given packages (top-level name -> its directory): dotted name -> source file."""
    found: dict[str, Path] = {}
    for name, top in packages.items():
        for path in sorted(top.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            parts = [name, *path.relative_to(top).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported(module: str, path: Path) -> set[str]:
    """Every name ``module`` imports when it runs (top level or inside functions), absolute.

    ``from a import b`` yields both ``a`` and ``a.b``: ``b`` may be a submodule or a name defined in ``a``;
    :func:`import_graph` keeps whichever is a module.
    """
    names: set[str] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]

    def walk(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                for stmt in child.orelse:  # type: ignore[attr-defined]
                    walk(stmt)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package[: len(package) - child.level + 1]
                    base = ".".join([*anchor, *([child.module] if child.module else [])])
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in child.names)
            walk(child)

    walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return names


def import_graph(known: Mapping[str, Path]) -> dict[str, set[str]]:
    """module -> the known modules it imports (a name like ``eksmon.x.Class`` resolves to ``eksmon.x``)."""
    graph: dict[str, set[str]] = {}
    for module, path in known.items():
        targets: set[str] = set()
        for name in imported(module, path):
            target = name
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def closure(graph: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """What importing the roots can run: the roots and everything they import, transitively, each with its
    parent packages (importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` first)."""
    todo = list(roots)
    unknown = sorted(set(todo) - set(graph))
    if unknown:
        raise ValueError(f"no such module in the import graph: {', '.join(unknown)}")
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module not in graph:
            continue
        seen.add(module)
        todo.extend(graph[module])
        parent = module.rpartition(".")[0]
        if parent:
            todo.append(parent)
    return seen
