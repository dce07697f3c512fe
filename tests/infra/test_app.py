"""infra/app.py: settings from the cdk.json context, a bad key stops the synth, the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.support import REPO, cdk_json_context

pytestmark = pytest.mark.infra


def test_a_bad_context_key_is_a_config_error_naming_the_key() -> None:
    from aws_cdk import App

    from eksmon.errors import ConfigError
    from infra.app import settings_from_context

    app = App(context={"eksmon": {"notifications": {"emailz": ["ops@example.com"]}}})
    with pytest.raises(ConfigError, match=r"cdk\.json context eksmon: notifications\.emailz: unknown key"):
        settings_from_context(app)


def test_a_bad_value_names_the_key() -> None:
    from aws_cdk import App

    from eksmon.errors import ConfigError
    from infra.app import settings_from_context

    app = App(context={"eksmon": {"schedules": {"lifecycle": "every day"}}})
    with pytest.raises(ConfigError, match=r"schedules\.lifecycle"):
        settings_from_context(app)


def test_synth_stops_with_the_message_before_building_anything(tmp_path: Path) -> None:
    """The real entry point, as `cdk synth` runs it (context through CDK_CONTEXT_JSON)."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({"eksmon": {"bogus": 1}}),
        "CDK_OUTDIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "infra.app"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode != 0
    assert "eksmon: cdk.json context eksmon: bogus: unknown key" in done.stderr
    assert not list(tmp_path.iterdir())  # nothing synthesised, no layer built


def test_context_given_as_json_on_the_command_line() -> None:
    from aws_cdk import App

    from infra.app import settings_from_context

    app = App(context={"eksmon": '{"notifications": {"emails": ["ops@example.com"]}}'})
    assert settings_from_context(app).notifications.emails == ["ops@example.com"]


def test_the_shipped_cdk_json_context_is_valid() -> None:
    from eksmon.settings import parse_settings

    config = json.loads((REPO / "cdk.json").read_text())
    assert config["app"].endswith("-m infra.app")
    parse_settings(cdk_json_context()["eksmon"], source="cdk.json")


def test_environment_agnostic_unless_pinned() -> None:
    from aws_cdk import App

    from infra.app import environment

    assert environment(App()) is None
    pinned = environment(App(context={"eksmon:account": "123456789012", "eksmon:region": "eu-west-1"}))
    assert pinned is not None
    assert (pinned.account, pinned.region) == ("123456789012", "eu-west-1")
