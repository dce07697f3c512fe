"""Where eksmon's own findings point people: the project's README, at a heading that exists.

REPOSITORY_URL is the package metadata's project URL (pyproject.toml, ``[project.urls] Repository``); it
is a constant here because the Lambdas run without the package's metadata, and
tests/unit/test_links.py fails when the two differ or when an anchor below is not a README heading.
"""

from __future__ import annotations

REPOSITORY_URL = "https://github.com/eksmon/eksmon"

# README headings (GitHub's anchor of each) that the monitor's own findings link to
ANCHOR_COVERAGE = "what-it-catches"
ANCHOR_COLLECTION_ERROR = "when-a-source-cannot-be-read"
ANCHOR_RUN_TIME = "when-a-run-nears-its-time-budget"
ANCHOR_ALERTS = "alerts-once-per-change"
ANCHOR_FILTERS = "scan-options"


def readme_url(anchor: str = "") -> str:
    """The README on the project's page, at ``anchor`` (a heading's GitHub anchor) if given."""
    return f"{REPOSITORY_URL}#{anchor}" if anchor else f"{REPOSITORY_URL}#readme"
