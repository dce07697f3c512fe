"""The shape of the code: no import cycle in the runtime package or the CDK app.

Every import counts, including those inside functions (a cycle hidden by a lazy import is still a
cycle: the next contributor who moves the import to the top gets an ImportError). Imports under
``if TYPE_CHECKING:`` do not run and do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from infra import imports
from infra.imports import imported

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"eksmon": ROOT / "functions" / "eksmon", "infra": ROOT / "infra"}


def modules() -> dict[str, Path]:
    return imports.modules(PACKAGES)


def import_graph() -> dict[str, set[str]]:
    """module -> the project modules it imports (a name like ``eksmon.x.Class`` resolves to ``eksmon.x``)."""
    return imports.import_graph(modules())


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_runtime_package_and_the_cdk_app_have_no_import_cycle() -> None:
    graph = import_graph()
    assert "eksmon.engine" in graph and "infra.app" in graph  # the walk found both trees
    assert "eksmon.context" in graph["eksmon.collectors.eks"]
    found = cycles(graph)
    detail = "; ".join(" <-> ".join(f"{m} (imports {sorted(graph[m] & set(c))})" for m in c) for c in found)
    assert not found, f"import cycles: {detail}"


def test_a_cycle_through_a_lazy_import_is_found(tmp_path: Path) -> None:
    """The walk sees imports inside functions: exactly how the engine <-> collectors cycle hid."""
    engine = tmp_path / "engine.py"
    engine.write_text("def run():\n    from eksmon.collectors.eks import ClusterNames\n")
    eks = tmp_path / "eks.py"
    eks.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from eksmon.settings import Settings\n"
        "from eksmon.engine import CollectContext\n"
    )
    assert imported("eksmon.engine", engine) >= {"eksmon.collectors.eks"}
    assert "eksmon.settings" not in imported("eksmon.collectors.eks", eks)
    graph = {
        "eksmon.engine": {"eksmon.collectors.eks"},
        "eksmon.collectors.eks": {"eksmon.engine"},
        "x": set(),
    }
    assert cycles(graph) == [["eksmon.collectors.eks", "eksmon.engine"]]


def test_comments_cite_public_sources_not_a_file_the_repository_lacks() -> None:
    """The notes file beside the project (FACTS + .md) is not in it: a reader of the code cannot open it."""
    citing = [
        str(path.relative_to(ROOT))
        for top in (*PACKAGES.values(), ROOT / "tests", ROOT / "bench")
        for path in top.rglob("*.py")
        if "FACTS" + ".md" in path.read_text(encoding="utf-8")
    ]
    assert not citing, citing
