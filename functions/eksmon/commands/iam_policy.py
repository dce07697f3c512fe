"""``eksmon iam-policy``: the least-privilege IAM policy for a person or CI identity that runs ``eksmon scan``.

Generated from the check registry like the deployed monitors' policies, for the checks the configuration
enables (``--config``, ``--check``), so attaching it grants exactly what those scans read.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any, TextIO

EXIT_OK, EXIT_USAGE = 0, 2


def _account(text: str) -> str:
    if text != "*" and not re.fullmatch(r"\d{12}", text):
        raise argparse.ArgumentTypeError(f"--account: {text!r} is not a 12-digit account id (or *)")
    return text


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "iam-policy",
        help="the least-privilege IAM policy (JSON) for an identity that runs eksmon scan",
        description=(
            "Print the IAM identity policy a person or CI role needs to run `eksmon scan` with this "
            "configuration: the read actions of the enabled checks, and sts:AssumeRole on the member "
            "accounts' reader role (organizations:ListAccounts in organization mode)."
        ),
    )
    p.add_argument("--config", metavar="FILE", help="YAML configuration (see README)")
    p.add_argument("--check", action="append", default=[], metavar="ID", help="check id or glob (repeatable)")
    p.add_argument(
        "--account",
        type=_account,
        default="*",
        help="the identity's own account id, for the EKS resource ARNs (default *: any account)",
    )
    p.add_argument(
        "--partition", default="aws", choices=("aws", "aws-cn", "aws-us-gov"), help="AWS partition"
    )


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from eksmon.iam_policy import cli_policy, enabled_checks
    from eksmon.registry import load
    from eksmon.settings import load_settings

    settings = load_settings(args.config)
    registry = load()
    for pattern in args.check:
        if not registry.select([pattern]):
            print(f"eksmon: --check {pattern!r} matches no check; see `eksmon checks`", file=err)
            return EXIT_USAGE
    checks = enabled_checks(registry, settings, args.check)
    if not checks:
        print("eksmon: every selected check is disabled by the configuration: no policy to print", file=err)
        return EXIT_USAGE
    policy = cli_policy(registry, settings, checks, partition=args.partition, account=args.account)
    print(json.dumps(policy, indent=2), file=out)
    return EXIT_OK
