"""Subcommands that stand on their own: each module here has ``add_parser(sub)`` and ``run(args, out, err)``.

eksmon.cli registers them with two calls, so they touch nothing of its own subcommands. Each module imports
only the standard library at its top (``eksmon --help`` stays instant); what a command runs is imported
when it runs.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any, TextIO

EXIT_USAGE = 2
MODULES = {
    "grant-access": "eksmon.commands.grant_access",
    "iam-policy": "eksmon.commands.iam_policy",
    "findings": "eksmon.commands.findings",
}


def add_parsers(sub: Any) -> None:
    for module in MODULES.values():
        importlib.import_module(module).add_parser(sub)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run ``args.command`` (one of MODULES); a bad configuration is exit code 2, as for every command."""
    from eksmon.errors import ConfigError

    try:
        code: int = importlib.import_module(MODULES[args.command]).run(args, out, err)
    except ConfigError as exc:
        print(f"eksmon: configuration error: {exc}", file=err)
        return EXIT_USAGE
    return code
