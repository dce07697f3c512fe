"""tools/screenshots.py picks the demo's fullest message about a cluster for the e-mail and Slack pictures,
whatever count of new findings the fleet's checks give it."""

from __future__ import annotations

import pytest

from tools.screenshots import message


def _message(subject: str, body: str) -> str:
    return f"Subject: [eksmon] {subject}\nAttributes: {{}}\n\n{body}\n-- Slack ----\n:red_circle: {body}\n"


def test_the_message_with_the_most_new_findings_about_the_cluster_is_drawn() -> None:
    stdout = "\n=====\n".join(
        (
            _message("CRITICAL ml-training (eu-west-1): 3 new — subnet", "three"),
            _message("CRITICAL payments-prod (us-east-1): 12 new — webhook", "other cluster"),
            _message("CRITICAL ml-training (eu-west-1): 9 new — apiserver", "nine"),
            _message("WARNING ml-training (eu-west-1): Fargate profiles: 90 % used", "quota"),
        )
    )
    email, slack = message(stdout, "ml-training (eu-west-1)")
    assert "9 new" in email and email.endswith("nine")
    assert slack == ":red_circle: nine"


def test_no_message_about_the_cluster_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="no message about ml-training"):
        message(_message("CRITICAL payments-prod (us-east-1): 2 new", "x"), "ml-training (eu-west-1)")
