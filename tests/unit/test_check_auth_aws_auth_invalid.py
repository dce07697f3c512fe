"""auth.aws_auth_invalid as a pure function, with the validation of the aws-auth ConfigMap it reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from eksmon.checks.auth_aws_auth_invalid import aws_auth_invalid, validate
from eksmon.collectors.kubernetes_system import AwsAuth, aws_auth_data
from eksmon.models import Severity
from eksmon.parts import ClusterInfo
from eksmon.registry import NoThresholds

from .kubernetes_builders import snapshot

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
NONE = NoThresholds()
NODE = {
    "rolearn": "arn:aws:iam::123456789012:role/node",
    "username": "system:node:{{EC2PrivateDNSName}}",
    "groups": ["system:nodes"],
}


def auth(
    data: dict[str, str], mode: str = "API_AND_CONFIG_MAP", present: bool = True, problem: str | None = None
) -> list:
    return list(
        aws_auth_invalid(snapshot(AwsAuth(present, data, problem), authentication_mode=mode), NONE, NOW)
    )


def auth_without_describe_cluster(data: dict[str, str]) -> list:
    snap = snapshot(AwsAuth(True, data, None))
    del snap.parts[ClusterInfo]  # DescribeCluster denied: the mode is not known
    return list(aws_auth_invalid(snap, NONE, NOW))


def roles(*entries: object) -> dict[str, str]:
    return {"mapRoles": yaml.safe_dump(list(entries))}


class TestAwsAuth:
    def test_a_broken_config_map_is_judged_when_describe_cluster_failed_and_says_the_mode_is_unknown(
        self,
    ) -> None:
        [p] = auth_without_describe_cluster(roles({"username": "x", "groups": ["g"]}))
        assert p.severity == Severity.CRITICAL and p.details["authentication_mode"] == "unknown"
        assert "authentication mode unknown" in p.message and "cluster prod" in p.message
        assert "access entries still work" not in p.message
        # the healthy near-miss: a valid ConfigMap passes without DescribeCluster too
        assert auth_without_describe_cluster(roles(NODE)) == []

    def test_a_known_mode_is_in_the_details(self) -> None:
        [p] = auth(roles({"username": "x", "groups": ["g"]}), mode="CONFIG_MAP")
        assert p.details["authentication_mode"] == "CONFIG_MAP" and "no other way in" in p.message
        assert auth(roles({"username": "x", "groups": ["g"]}), mode="API") == []

    def test_a_valid_config_map_passes(self) -> None:
        user = {"userarn": "arn:aws:iam::123456789012:user/alice", "username": "alice", "groups": ["admins"]}
        data = {**roles(NODE), "mapUsers": yaml.safe_dump([user]), "mapAccounts": "- '123456789012'\n"}
        assert auth(data) == []
        assert auth({}) == []
        assert auth({"mapRoles": ""}) == []

    @pytest.mark.parametrize(
        ("entry", "problem"),
        [
            ({"username": "x", "groups": ["g"]}, "no rolearn"),
            ({"roleARN": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": ["g"]}, "no rolearn"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "groups": ["g"]}, "no username"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x"}, "no groups"),
            ({"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": []}, "no groups"),
            (
                {"rolearn": "arn:aws:iam::123456789012:role/x", "username": "x", "groups": "admins"},
                "not a list",
            ),
            ({"rolearn": "role/x", "username": "x", "groups": ["g"]}, "is not an IAM ARN"),
            ({"rolearn": None, "username": "", "groups": None}, "no rolearn, no username, no groups"),
        ],
    )
    def test_entries_missing_their_arn_username_or_groups_are_critical(self, entry, problem) -> None:
        [p] = auth(roles(NODE, entry))
        assert p.severity is Severity.CRITICAL
        assert p.resource == "ConfigMap/kube-system/aws-auth"
        assert "mapRoles entry 2" in p.message and problem in p.message
        assert p.details["broken_entries"] == 1 and p.details["entries"][0]["entry"] == 2

    def test_map_users_need_a_userarn(self) -> None:
        [p] = auth(
            {
                "mapUsers": yaml.safe_dump(
                    [{"rolearn": "arn:aws:iam::123456789012:role/x", "username": "u", "groups": ["g"]}]
                )
            }
        )
        assert "no userarn" in p.message

    @pytest.mark.parametrize(
        ("data", "complaint"),
        [
            ({"mapRoles": "- rolearn: a\n\tusername: b\n"}, "mapRoles is not valid YAML at line 2"),
            ({"mapRoles": "rolearn: arn:aws:iam::1:role/x\n"}, "mapRoles is a YAML mapping, not a list"),
            ({"mapUsers": "- just-a-string\n"}, "mapUsers entry 1 is a string, not a mapping"),
            ({"mapAccounts": "- 12345\n"}, "not a 12-digit account id"),
        ],
    )
    def test_what_does_not_parse_is_critical_and_says_where(self, data, complaint) -> None:
        [p] = auth(data)
        assert p.severity is Severity.CRITICAL and "does not parse" in p.title
        assert complaint in p.message

    def test_a_data_value_that_is_not_text_does_not_parse(self) -> None:
        part = aws_auth_data({"data": {"mapRoles": ["a", "list"]}})
        assert part.problem == "data.mapRoles is a list, not a string"
        [p] = auth(part.data, problem=part.problem)
        assert "data.mapRoles is a list" in p.message

    def test_config_map_only_clusters_are_told_there_is_no_other_way_in(self) -> None:
        [p] = auth(roles({"username": "x"}), mode="CONFIG_MAP")
        assert "no other way in" in p.message

    def test_api_only_clusters_and_absent_config_maps_are_not_reported(self) -> None:
        assert auth(roles({"username": "x"}), mode="API") == []
        assert auth({}, present=False) == []

    def test_validate_lists_every_broken_entry(self) -> None:
        result = validate({**roles(NODE, {"username": "a"}, {"username": "b"}), "mapUsers": "[}"})
        assert [e["entry"] for e in result.entries] == [2, 3]
        assert result.parse_errors and not result.ok
