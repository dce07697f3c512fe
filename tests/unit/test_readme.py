"""The README is what a newcomer runs first: keep its commands and its configuration example true."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from eksmon.registry import load
from eksmon.settings import parse_settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_users_guide_of_at_most_400_lines() -> None:
    assert len(README.splitlines()) <= 400


def test_first_screen_holds_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen


def test_configuration_example_is_valid_for_the_real_schema() -> None:
    block = re.search(r"```yaml\n(.*?)```", README, re.S)
    assert block is not None
    settings = parse_settings(yaml.safe_load(block.group(1)), source="README")
    assert settings.regions == ["eu-west-1", "us-east-1"] and settings.notifications.renotify_days == 7


def test_every_check_of_the_registry_is_in_the_catalogue_table() -> None:
    start = README.index("## What it catches")
    table = README[start : README.index("\n## ", start + 1)]
    missing = [c for c in load().checks if f"`{c}`" not in table and f"`.{c.split('.', 1)[1]}`" not in table]
    assert not missing, missing
