"""What the infrastructure tests share besides fixtures: the test configuration and the synth result."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
STACK = "EksMonitor"

# A configuration that exercises the single-Lambda branches of the stack: e-mails, member accounts (one
# excluded), and schedules that differ from the defaults. Organization mode (the member-role StackSet and
# the Step Functions fan-out) has its own synth in test_deployment.py.
TEST_SETTINGS: dict[str, Any] = {
    "accounts": {
        "ids": ["111111111111", "222222222222"],
        "exclude": ["222222222222"],
        "role_name": "eksmon-reader-test",
    },
    "notifications": {"emails": ["ops@example.com", "oncall@example.com"]},
    "schedules": {
        "lifecycle": "cron(0 6 * * ? *)",
        "quotas": "rate(2 hours)",
        "metrics": "rate(5 minutes)",
        "kubernetes": "rate(3 hours)",
    },
}


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template: dict[str, Any]
    report: dict[str, Any]
    error: str | None  # the synth's exception (cdk-nag findings fail it); None when it passed

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context
