"""`eksmon iam-policy`: the policy a laptop or CI identity needs for the scans its configuration runs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from eksmon.cli import main
from eksmon.iam_policy import ALSO_SCOPED_TO, RESOURCE_SCOPED_ACTIONS
from eksmon.registry import load


def policy(*args: str) -> tuple[int, dict[str, Any], str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["iam-policy", *args], out=out, err=err)
    return code, (json.loads(out.getvalue()) if code == 0 else {}), err.getvalue()


# actions IAM scopes to several resource types (eksmon.iam_policy.ALSO_SCOPED_TO): one statement each
MULTI_RESOURCE = frozenset(ALSO_SCOPED_TO)


def granted(doc: dict[str, Any]) -> dict[str, str | list[str]]:
    """action -> resource(s), for every statement; an action in two statements only when IAM scopes it to
    several resource types, and then on its cluster first."""
    found: dict[str, str | list[str]] = {}
    for s in doc["Statement"]:
        assert s["Effect"] == "Allow"
        for action in [s["Action"]] if isinstance(s["Action"], str) else s["Action"]:
            if action in found:
                assert action in MULTI_RESOURCE, f"{action} granted twice"
                assert s["Resource"] != found[action], f"{action} granted twice on {s['Resource']}"
                if "cluster/" not in str(found[action]):
                    found[action] = s["Resource"]
                continue
            found[action] = s["Resource"]
    return found


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "eksmon.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_default_policy_is_every_registry_read_and_nothing_else() -> None:
    code, doc, _ = policy()
    assert code == 0 and doc["Version"] == "2012-10-17"
    registry = load()
    actions = granted(doc)
    assert sorted(actions) == registry.iam_actions(registry.select())
    assert not any("*" in a for a in actions)
    assert "sts:AssumeRole" not in actions and "organizations:ListAccounts" not in actions
    for action, resource in actions.items():  # an ARN wherever IAM has a resource type, any account
        expected = RESOURCE_SCOPED_ACTIONS.get(action, "*")
        assert resource == expected.replace("{partition}", "aws").replace("{account}", "*")
    assert len({s["Sid"] for s in doc["Statement"]}) == len(doc["Statement"])


def test_checks_and_account_narrow_the_policy() -> None:
    code, doc, _ = policy("--check", "version.*", "--account", "444455556666", "--partition", "aws-cn")
    assert code == 0
    registry = load()
    actions = granted(doc)
    assert sorted(actions) == registry.iam_actions(registry.select(["version.*"]))
    assert "cloudwatch:GetMetricData" not in actions and "servicequotas:ListServiceQuotas" not in actions
    assert actions["eks:DescribeCluster"] == "arn:aws-cn:eks:*:444455556666:cluster/*"


def test_checks_the_configuration_disables_grant_nothing(tmp_path: Path) -> None:
    registry = load()
    quota_checks = [c.id for c in registry.select(["quota.*"])]
    assert quota_checks
    path = config(tmp_path, "checks:\n  disabled: [" + ", ".join(quota_checks) + "]\n")
    code, doc, _ = policy("--config", path)
    assert code == 0
    actions = granted(doc)
    assert "servicequotas:ListServiceQuotas" not in actions
    assert sorted(actions) == registry.iam_actions(registry.select(disabled=quota_checks))


def test_member_accounts_add_assume_role_on_their_reader_role_only(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        "accounts:\n  ids: ['111122223333', '222233334444']\n  exclude: ['222233334444']\n"
        "  role_name: eksmon-ro\n",
    )
    _, doc, _ = policy("--config", path)
    assert granted(doc)["sts:AssumeRole"] == ["arn:aws:iam::111122223333:role/eksmon-ro"]
    path = config(tmp_path, "accounts:\n  organization: true\n")
    _, doc, _ = policy("--config", path)
    actions = granted(doc)
    assert actions["organizations:ListAccounts"] == "*"
    assert actions["sts:AssumeRole"] == "arn:aws:iam::*:role/eksmon-reader"
    (org,) = [s for s in doc["Statement"] if s["Action"] == "sts:AssumeRole"]
    assert org["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "${aws:PrincipalOrgID}"}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--check", "nope.*"], "--check 'nope.*' matches no check"),
        (["--config", "/nonexistent/eksmon.yaml"], "cannot read the configuration file"),
    ],
)
def test_bad_input_is_named(args: list[str], message: str) -> None:
    code, _, err = policy(*args)
    assert code == 2 and message in err


def test_a_bad_account_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["iam-policy", "--account", "12345"])
    assert exited.value.code == 2 and "12-digit account id" in capsys.readouterr().err
