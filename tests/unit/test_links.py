"""Links that resolve: every README link eksmon prints goes to the project's URL and to a real heading.

The base is the package metadata's project URL (pyproject.toml ``[project.urls] Repository``); the
anchor must be one GitHub generates for a README heading (lower case; punctuation other than ``-`` and
``_`` dropped; each space a ``-``; a repeated heading gets ``-1``, ``-2``, ...).
"""

from __future__ import annotations

import io
import json
import re
import tomllib
from pathlib import Path

import pytest

from eksmon.cli import main
from eksmon.links import REPOSITORY_URL, readme_url

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def github_slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def readme_anchors(markdown: str) -> set[str]:
    anchors: set[str] = {"readme"}  # GitHub's anchor of the README itself on the repository page
    seen: dict[str, int] = {}
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading and not in_code:
            slug = github_slug(heading.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Alerts: once per change", "alerts-once-per-change"),
        (
            "eksmon — warnings before an EKS control plane gets into trouble",
            "eksmon--warnings-before-an-eks-control-plane-gets-into-trouble",
        ),
        ("Kubernetes access: budgets", "kubernetes-access-budgets"),
        ("`eksmon scan` options & exit codes", "eksmon-scan-options--exit-codes"),
        ("What it costs (per month)", "what-it-costs-per-month"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_slugs_follow_githubs_rules(heading: str, slug: str) -> None:
    assert github_slug(heading) == slug


def test_repeated_headings_are_numbered() -> None:
    assert {"slack", "slack-1", "slack-2"} <= readme_anchors(
        "## Slack\n### Slack\n```\n# not a heading\n```\n# Slack\n"
    )
    assert "not-a-heading" not in readme_anchors("```sh\n# not a heading\n```\n")


def test_the_base_url_is_the_package_metadatas_project_url() -> None:
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert urls["Repository"] == REPOSITORY_URL
    assert urls["Documentation"] == readme_url()


def printed_readme_links() -> list[str]:
    """Every docs link `eksmon checks` lists (each check and the monitor's own findings) that points at
    the project, plus the one the notification test sends."""
    from eksmon.runner import TEST_CHECK

    out = io.StringIO()
    assert main(["checks", "--format", "json"], out=out) == 0
    rows = json.loads(out.getvalue())
    assert TEST_CHECK in {r["id"] for r in rows}
    return [r["docs"] for r in rows if r["docs"].startswith(REPOSITORY_URL)]


def test_every_readme_anchor_the_product_prints_is_a_heading() -> None:
    from datetime import UTC, datetime

    from eksmon.models import Severity
    from eksmon.runner import sample_finding

    sent = sample_finding("123456789012", "eu-west-1", datetime(2026, 1, 1, tzinfo=UTC), Severity.INFO)
    links = [*printed_readme_links(), sent.docs]
    assert len(links) >= 4
    anchors = readme_anchors(README)
    for link in links:
        base, _, anchor = link.partition("#")
        assert base == REPOSITORY_URL, link
        assert anchor in anchors, f"{link}: the README has no heading with anchor #{anchor}"


def test_no_source_spells_the_repository_url_itself() -> None:
    """One place: every other module builds its links with eksmon.links."""
    spelled = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "functions" / "eksmon").rglob("*.py")
        if p.name != "links.py" and "github.com/eksmon" in p.read_text(encoding="utf-8")
    ]
    assert not spelled


def test_the_readmes_own_links_to_its_headings_resolve() -> None:
    anchors = readme_anchors(README)
    broken = [a for a in re.findall(r"\]\(#([^)]+)\)", README) if a not in anchors]
    assert not broken
