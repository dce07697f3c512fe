"""The exec credential plugin runner: what it accepts, how long it waits, when it runs again, what it shows."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from eksmon.kube.errors import KubeCredentialError
from eksmon.kube.exec_plugin import ExecPlugin, redact

V1BETA1 = "client.authentication.k8s.io/v1beta1"
NOW = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def credential(token: str = "tok-1", expires_in: float | None = 3600, **extra: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"token": token}
    if expires_in is not None:
        when = datetime.fromtimestamp(NOW + expires_in, UTC)
        status["expirationTimestamp"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"apiVersion": V1BETA1, "kind": "ExecCredential", "status": status, **extra}


def plugin(tmp_path: Path, body: str, clock: Clock | None = None, **kwargs: Any) -> ExecPlugin:
    """A shell-script plugin; each run appends a line to ``runs``."""
    script = tmp_path / "plugin.sh"
    script.write_text(f'echo run >> "{tmp_path}/runs"\n{body}\n')
    return ExecPlugin(
        {"apiVersion": V1BETA1, "command": "/bin/sh", "args": [str(script)]},
        where="context prod",
        clock=clock or Clock(),
        **kwargs,
    )


def printing(tmp_path: Path, doc: Any, clock: Clock | None = None, **kwargs: Any) -> ExecPlugin:
    (tmp_path / "out.json").write_text(json.dumps(doc))
    return plugin(tmp_path, f'cat "{tmp_path}/out.json"', clock, **kwargs)


def runs(tmp_path: Path) -> int:
    return len((tmp_path / "runs").read_text().splitlines())


def test_a_token_is_kept_until_a_minute_before_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    p = printing(tmp_path, credential(expires_in=600), clock)
    assert [p() for _ in range(20)] == ["tok-1"] * 20 and runs(tmp_path) == 1
    clock.now = NOW + 539  # 61 s left: still kept
    assert p() == "tok-1" and runs(tmp_path) == 1
    clock.now = NOW + 541  # 59 s left: fetched again
    p()
    assert runs(tmp_path) == 2


def test_a_token_born_near_its_expiry_is_used_until_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    p = printing(tmp_path, credential(expires_in=30), clock)
    for second in range(0, 30, 3):
        clock.now = NOW + second
        p()
    assert runs(tmp_path) == 1  # not once per request
    clock.now = NOW + 30  # expired: fetched again
    with pytest.raises(KubeCredentialError, match="already expired"):
        p()  # the script still prints the old token, now expired
    assert runs(tmp_path) == 2


def test_a_token_without_expiry_is_kept_and_a_401_makes_it_run_again(tmp_path: Path) -> None:
    p = printing(tmp_path, credential(expires_in=None))
    p()
    p()
    assert runs(tmp_path) == 1
    p.invalidate()
    p()
    assert runs(tmp_path) == 2


@pytest.mark.parametrize(
    ("doc", "said"),
    [
        ({"kind": "Secret"}, "printed JSON that is not an ExecCredential"),
        ([1, 2], "printed JSON that is not an ExecCredential"),
        ({**credential(), "apiVersion": "client.authentication.k8s.io/v1"}, "of apiVersion"),
        ({**credential(), "status": {}}, "without status.token"),
        ({**credential(), "status": {"token": ""}}, "without status.token"),
        (
            {**credential(), "status": {"clientCertificateData": "x", "clientKeyData": "y"}},
            "client certificate",
        ),
        ({**credential(), "status": {"token": "t", "expirationTimestamp": "soon"}}, "not RFC 3339"),
        (credential(expires_in=-5), "already expired"),
    ],
    ids=[
        "other-kind",
        "a-list",
        "api-version",
        "no-token",
        "empty-token",
        "certificate",
        "bad-expiry",
        "expired",
    ],
)
def test_output_that_is_not_a_usable_exec_credential_is_named(tmp_path: Path, doc: Any, said: str) -> None:
    with pytest.raises(KubeCredentialError, match=said) as failed:
        printing(tmp_path, doc)()
    assert failed.value.reason == "ExecPluginBadOutput" and failed.value.cluster_wide
    assert "the credential plugin `sh " in str(failed.value) and "context prod" in str(failed.value)


def test_a_failure_names_the_plugin_and_its_stderr_redacted_and_is_not_run_again(tmp_path: Path) -> None:
    p = plugin(
        tmp_path,
        'echo "Error loading SSO Token: Token for my-sso does not exist" >&2\n'
        'echo "  sent Authorization: Bearer k8s-aws-v1.c2VjcmV0c2VjcmV0c2VjcmV0" >&2\nexit 1',
    )
    with pytest.raises(KubeCredentialError) as failed:
        p()
    message = str(failed.value)
    assert "exited with status 1: Error loading SSO Token: Token for my-sso does not exist" in message
    assert "c2VjcmV0" not in message and "<redacted>" in message
    assert "Run the credential plugin yourself (`sh " in failed.value.fix
    with pytest.raises(KubeCredentialError):
        p()  # the same error at once: the cluster's other readers do not each wait for it
    assert runs(tmp_path) == 1


def test_stdout_is_never_shown(tmp_path: Path) -> None:
    p = plugin(tmp_path, "echo 'k8s-aws-v1.notjson-but-a-secret'")
    with pytest.raises(KubeCredentialError, match=r"not JSON \(\d+ bytes\)") as failed:
        p()
    assert "notjson" not in str(failed.value)


def test_a_hanging_plugin_is_killed_at_its_timeout_with_its_children(tmp_path: Path) -> None:
    p = plugin(tmp_path, f'sleep 30 &\necho $! > "{tmp_path}/child"\nwait', timeout=0.5)
    started = time.monotonic()
    with pytest.raises(
        KubeCredentialError, match=r"did not finish within kubernetes.exec_timeout_seconds \(0.5 s\)"
    ):
        p()
    assert time.monotonic() - started < 3
    child = int((tmp_path / "child").read_text())
    time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_the_scans_deadline_bounds_the_plugin_and_a_passed_deadline_does_not_run_it(tmp_path: Path) -> None:
    p = plugin(tmp_path, "sleep 30", timeout=20)
    p.deadline = lambda: 1.3  # stopped a second before the deadline
    started = time.monotonic()
    with pytest.raises(KubeCredentialError, match=r"did not finish before the scan's deadline \(0.3 s\)"):
        p()
    assert time.monotonic() - started < 3
    late = plugin(tmp_path, "exit 0")
    late.deadline = lambda: 0.9
    with pytest.raises(KubeCredentialError, match="deadline was too close"):
        late()
    assert runs(tmp_path) == 1  # only the first ran


def test_a_command_that_does_not_exist_is_named(tmp_path: Path) -> None:
    p = ExecPlugin({"apiVersion": V1BETA1, "command": "aws-nonexistent-cli"}, where="context prod")
    with pytest.raises(
        KubeCredentialError, match="`aws-nonexistent-cli` of context prod could not be started"
    ):
        p()


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"apiVersion": V1BETA1}, "command is missing"),
        ({"command": "aws", "apiVersion": "client.authentication.k8s.io/v1alpha1"}, "apiVersion must be"),
        ({"command": "aws", "apiVersion": V1BETA1, "args": "eks get-token"}, "args must be a list"),
        ({"command": "aws", "apiVersion": V1BETA1, "env": {"A": "b"}}, "env must be a list"),
    ],
)
def test_an_exec_section_that_cannot_be_used_is_refused_up_front(config: dict[str, Any], said: str) -> None:
    with pytest.raises(ValueError, match=said):
        ExecPlugin(config, where="context prod")


def test_env_and_exec_info_reach_the_plugin(tmp_path: Path) -> None:
    script = tmp_path / "plugin.sh"
    (tmp_path / "out.json").write_text(json.dumps(credential()))
    script.write_text(
        f'echo "$AWS_PROFILE|$KUBERNETES_EXEC_INFO" > "{tmp_path}/seen"\ncat "{tmp_path}/out.json"\n'
    )
    ExecPlugin(
        {
            "apiVersion": V1BETA1,
            "command": "/bin/sh",
            "args": [str(script)],
            "env": [{"name": "AWS_PROFILE", "value": "prod-sso"}],
        },
        where="context prod",
        clock=Clock(),
    )()
    profile, info = (tmp_path / "seen").read_text().strip().split("|", 1)
    assert profile == "prod-sso"
    assert json.loads(info) == {
        "apiVersion": V1BETA1,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("cached k8s-aws-v1.aHR0cHM6Ly9zdHM is stale", "aHR0cHM6Ly9zdHM"),
        ("Authorization: Bearer abc.def", "abc.def"),
        ("id token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln rejected", "eyJhbGciOiJSUzI1NiJ9"),
        ("--token s3cr3t-value", "s3cr3t-value"),
        ('{"access_token": "opaque-value"}', "opaque-value"),
        ("password=hunter2", "hunter2"),
        ("key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("session 0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"),
    ],
)
def test_token_like_text_is_redacted(text: str, hidden: str) -> None:
    assert hidden not in redact(text) and "<redacted>" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "Error loading SSO Token: Token for my-sso does not exist",
        "python /home/dev/.local/bin/get-token.py --cluster-name payments-prod --region us-east-1",
        "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation",
    ],
)
def test_ordinary_messages_and_paths_are_kept(text: str) -> None:
    assert redact(text) == text
