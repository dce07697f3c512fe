"""`eksmon rbac --config FILE`: the RBAC grants only what the enabled checks read."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksmon.cli import main
from eksmon.rbac import permissions
from eksmon.registry import KubeNonResource, load

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def rbac(*args: str) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["rbac", *args], out=out, err=err)
    return code, [d for d in yaml.safe_load_all(out.getvalue()) if d], err.getvalue()


def granted(docs: list[dict[str, Any]]) -> set[str]:
    """'verb resource.group' / 'verb /url' for every rule of every Role and ClusterRole."""
    found = set()
    for doc in docs:
        for rule in doc.get("rules", []) if doc["kind"] in ("Role", "ClusterRole") else []:
            for verb in rule["verbs"]:
                found.update(f"{verb} {u}" for u in rule.get("nonResourceURLs", []))
                for group in rule.get("apiGroups", []):
                    found.update(f"{verb} {r}.{group or 'core'}" for r in rule.get("resources", []))
    return found


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eksmon.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_listing_pods_is_granted_only_while_the_sysctl_check_is_enabled(tmp_path: Path) -> None:
    code, everything, _ = rbac("--config", config(tmp_path, "{}\n"))
    assert code == 0 and "list pods.core" in granted(everything)
    code, docs, _ = rbac("--config", config(tmp_path, "checks:\n  disabled: [pod.unsafe_sysctls]\n"))
    assert code == 0
    assert granted(docs) == granted(everything) - {"list pods.core"}


def test_the_grants_are_exactly_what_the_enabled_checks_collectors_declare(tmp_path: Path) -> None:
    registry = load()
    metrics_readers = [c.id for c in registry.select() if "get /metrics" in _declared(registry, c)]
    assert metrics_readers
    path = config(tmp_path, "checks:\n  disabled: [" + ", ".join(metrics_readers) + "]\n")
    _, docs, _ = rbac("--config", path)
    assert "get /metrics" not in granted(docs)
    _, docs, _ = rbac("--check", "webhook.*")
    assert granted(docs) == {p for c in registry.select(["webhook.*"]) for p in _declared(registry, c)}
    assert [d["kind"] for d in docs] == ["ClusterRole", "ClusterRoleBinding"]  # no kube-system Role


def _declared(registry: Any, check: Any) -> set[str]:
    found = set()
    for p in permissions(registry, [check]):
        found.update(
            f"{v} {p.url}" if isinstance(p, KubeNonResource) else f"{v} {p.resource}.{p.api_group or 'core'}"
            for v in p.verbs
        )
    return found


def test_without_a_configuration_every_check_is_granted() -> None:
    _, plain, _ = rbac()
    _, everything, _ = rbac("--check", "*")
    assert granted(plain) == granted(everything) and "list pods.core" in granted(plain)


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("kubernetes:\n  enabled: false\n", [], "no enabled check reads the Kubernetes API"),
        ("{}\n", ["--check", "nope.*"], "--check 'nope.*' matches no check"),
        ("checks:\n  disabled: [nope]\n", [], "checks.disabled"),
    ],
)
def test_what_grants_nothing_or_is_wrong_is_said(
    tmp_path: Path, text: str, args: list[str], message: str
) -> None:
    code, docs, err = rbac("--config", config(tmp_path, text), *args)
    assert code == 2 and docs == [] and message in err


def test_the_readme_says_what_each_permission_exposes() -> None:
    start = README.index("What each permission of `eksmon rbac` exposes")
    rows = [
        line for line in README[start:].split("\n\n", 2)[1].splitlines() if line.strip().startswith("| `")
    ]
    _, docs, _ = rbac()
    for grant in granted(docs):
        what = grant.split(" ", 1)[1]
        name = what if what.startswith("/") else what.split(".", 1)[0]
        assert any(line.split("|")[1].count(name) for line in rows), f"{grant} is not explained in the README"
