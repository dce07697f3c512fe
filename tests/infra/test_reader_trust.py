"""accounts.trusted_principal_arns: the member reader role also trusts named people and CI roles.

Given a configuration naming an SSO role and a CI role, when EksMonitorReader is synthesised, then its
trust policy lets exactly those two ARNs assume it besides the monitor account's monitor roles; without
the setting it trusts the monitor roles only. A malformed ARN is a configuration error naming the key.
"""

from __future__ import annotations

from typing import Any

import pytest

from eksmon.errors import ConfigError
from eksmon.settings import parse_settings
from infra.constants import MONITOR_ROLE_PATH

pytestmark = pytest.mark.infra

SSO = (
    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
    "AWSReservedSSO_PlatformAdmin_0123456789abcdef"
)
CI = "arn:aws:iam::444455556666:role/ci/eksmon-scan"


def trust(accounts: dict[str, Any]) -> list[dict[str, Any]]:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.reader_stack import ReaderStack

    settings = parse_settings({"accounts": accounts}, source="tests")
    stack = ReaderStack(
        App(),
        "EksMonitorReader",
        settings=settings,
        actions=["eks:ListClusters"],
        monitor_account="999988887777",
    )
    (role,) = Template.from_stack(stack).find_resources("AWS::IAM::Role").values()
    statements: list[dict[str, Any]] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statements


def test_named_principals_are_trusted_besides_the_monitor_roles() -> None:
    statements = trust({"ids": ["111122223333"], "trusted_principal_arns": [SSO, CI]})
    assert len(statements) == 2
    monitors, people = statements
    assert monitors["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Join"][1][-1].endswith(
        f"role{MONITOR_ROLE_PATH}*"
    )
    assert people == {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": [SSO, CI]},
        "Sid": "TrustedPrincipals",
    }


def test_without_the_setting_only_the_monitor_roles_are_trusted() -> None:
    (only,) = trust({"ids": ["111122223333"]})
    assert "ArnLike" in only["Condition"]


def test_a_malformed_principal_names_the_key() -> None:
    with pytest.raises(ConfigError, match="trusted_principal_arns"):
        parse_settings({"accounts": {"trusted_principal_arns": ["111122223333"]}}, source="tests")
