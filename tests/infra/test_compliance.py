"""cdk-nag (AwsSolutions) and cfn-lint over the synthesised template.

Given the stack synthesised once (conftest.py), when the validation report and cfn-lint are read,
then nothing is left unacknowledged, every acknowledgment says why, and the template lints clean.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.support import Synthesized

pytestmark = pytest.mark.infra

MIN_REASON = 40
# cfn-lint warnings accepted, each with why. W3005: CDK adds an explicit DependsOn on the role that a
# function already references with GetAtt (needed for the role's default policy ordering).
ACCEPTED_LINT_WARNINGS = {"W3005"}


def _plugin(synthesized: Synthesized, name: str) -> dict[str, Any]:
    (report,) = [r for r in synthesized.report["pluginReports"] if r["pluginName"] == name]
    return dict(report)


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['ruleName']} at {', '.join(c['constructPath'] for c in v['violatingConstructs'])}"
        for v in violations
    )


def test_cdk_nag_leaves_no_unacknowledged_error_or_warning(synthesized: Synthesized) -> None:
    report = _plugin(synthesized, "AwsSolutions")
    assert report["violations"] == [], _describe(report["violations"])
    assert report["conclusion"] == "success"


def test_no_other_validation_plugin_complains(synthesized: Synthesized) -> None:
    for report in synthesized.report["pluginReports"]:
        assert report["violations"] == [], f"{report['pluginName']}: {_describe(report['violations'])}"


def test_every_acknowledgment_gives_a_reason(synthesized: Synthesized) -> None:
    suppressed = _plugin(synthesized, "AwsSolutions").get("suppressedViolations", [])
    assert suppressed, "expected the documented acknowledgments (IAM5 wildcards, SQS3 on the DLQs)"
    for violation in suppressed:
        assert len(violation["reason"].strip()) >= MIN_REASON, violation["acknowledgedId"]


def test_no_acknowledgment_is_stale(synthesized: Synthesized) -> None:
    """Each acknowledgment written into the template matches a finding cdk-nag actually made."""
    used = {v["acknowledgedId"] for v in _plugin(synthesized, "AwsSolutions").get("suppressedViolations", [])}
    written = {
        rule["id"]
        for resource in synthesized.template["Resources"].values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert written, (
        "acknowledgments are written to the template for audit (write_suppressions_to_cloud_formation)"
    )
    assert written <= used, sorted(written - used)


def test_cfn_lint_finds_no_errors(synthesized: Synthesized) -> None:
    from cfnlint.api import lint

    matches = lint(json.dumps(synthesized.template), regions=["us-east-1", "eu-west-1"])
    problems = [m for m in matches if m.rule.id not in ACCEPTED_LINT_WARNINGS]
    assert problems == [], "\n".join(str(m) for m in problems)
    assert not [m for m in matches if m.rule.id.startswith("E")]
