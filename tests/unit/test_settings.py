"""One configuration schema: defaults that work, and errors that name the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksmon.errors import ConfigError
from eksmon.settings import load_settings, parse_settings, settings_from_json


def test_empty_configuration_is_a_working_default() -> None:
    s = parse_settings(None)
    assert s.regions == [] and s.clusters.include == ["*"] and s.notifications.renotify_days == 7
    assert s.schedules.lifecycle == "rate(1 day)" and s.kubernetes.enabled


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"regionz": ["us-east-1"]}, "regionz: unknown key"),
        ({"regions": ["mars-1"]}, "regions"),
        (
            {"checks": {"thresholds": {"version.standard_support_ending": {"warning_dayz": 3}}}},
            "checks.thresholds.version.standard_support_ending.warning_dayz: unknown key",
        ),
        (
            {"checks": {"thresholds": {"version.standard_support_ending": {"warning_days": "soon"}}}},
            "checks.thresholds.version.standard_support_ending.warning_days",
        ),
        ({"checks": {"thresholds": {"nope.check": {}}}}, "unknown check id 'nope.check'"),
        ({"checks": {"disabled": ["version.nope"]}}, "unknown check id 'version.nope'"),
        ({"schedules": {"lifecycle": "every day"}}, "schedules.lifecycle"),
        ({"notifications": {"emails": ["not-an-address"]}}, "notifications.emails.0"),
        ({"notifications": {"slack": {"workspace_id": "T1"}}}, "workspace_id and channel_id go together"),
        ({"accounts": {"ids": ["12345"]}}, "accounts.ids.0"),
        ({"max_workers": 8}, "max_workers: replaced by aws.max_in_flight_per_region"),
        ({"aws": {"max_in_flight_per_region": 0}}, "aws.max_in_flight_per_region"),
        ({"aws": {"max_pages": "many"}}, "aws.max_pages"),
        ({"kubernetes": {"max_list_pages": 0}}, "kubernetes.max_list_pages"),
        ({"kubernetes": {"max_list_pages": "many"}}, "kubernetes.max_list_pages"),
        (
            {"aws": {"run_time_warning_percent": 0}},
            "aws.run_time_warning_percent: 0 is not a percent in 1..100",
        ),
        ({"aws": {"run_time_warning_percent": 150}}, "aws.run_time_warning_percent: 150 is not a percent"),
        ({"aws": {"run_time_warning_percent": "most"}}, "aws.run_time_warning_percent"),
    ],
)
def test_bad_configuration_names_the_key(data: dict, named: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings(data, source="cfg.yaml")
    assert named in str(err.value) and str(err.value).startswith("cfg.yaml: ")


def test_thresholds_reach_the_check() -> None:
    from eksmon.registry import load

    s = parse_settings({"checks": {"thresholds": {"version.standard_support_ending": {"warning_days": 120}}}})
    spec = load().checks["version.standard_support_ending"]
    assert s.thresholds_for(spec).warning_days == 120  # type: ignore[attr-defined]
    assert s.thresholds_for(load().checks["version.extended_support"]).critical_days == 30  # type: ignore[attr-defined]


def test_yaml_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("regions: [us-east-1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)
    top = tmp_path / "list.yaml"
    top.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_settings(top)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")


def test_round_trip_through_the_lambda_environment() -> None:
    s = parse_settings({"regions": ["eu-west-1"], "clusters": {"exclude": ["sandbox-*"]}})
    assert settings_from_json(s.to_json()) == s
    with pytest.raises(ConfigError, match="EKSMON_CONFIG: not valid JSON"):
        settings_from_json("{oops")
