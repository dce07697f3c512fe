"""``eksmon findings``: the open findings of a deployed monitor, read back from its findings table.

The table (``FindingsTableName`` output of the stack, or ``--table``) holds one item per finding the
monitors told about; the open ones are what an alert said and no later run resolved. They are shown with
the scan's own renderers, in each of its formats, with a summary line saying where they were read.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, TextIO

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3
FORMATS = ("table", "json", "markdown", "html")


def add_parser(sub: Any) -> None:
    f = sub.add_parser(
        "findings",
        help="the open findings of a deployed monitor (from its findings table)",
        description="List what the deployed monitor has found and not yet seen resolved, from its DynamoDB table.",
    )
    f.add_argument("--stack", default="EksMonitor", help="the monitor stack (its FindingsTableName output)")
    f.add_argument("--region", metavar="R", help="region of the stack (default: your AWS region)")
    f.add_argument("--table", metavar="NAME", help="read this findings table instead of the stack's output")
    f.add_argument("--check", action="append", default=[], metavar="ID", help="check id or glob (repeatable)")
    f.add_argument("--format", choices=FORMATS, default="table")
    f.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")


def run(args: argparse.Namespace, out: TextIO, err: TextIO, session_factory: Any = None) -> int:
    import boto3
    import botocore.exceptions

    from eksmon.stack_outputs import FINDINGS_TABLE, StackOutputsError, read_stack_outputs
    from eksmon.state import StateError, open_items

    session = (session_factory or boto3.Session)(region_name=args.region)
    region = session.region_name
    if not region:
        print("eksmon: findings needs the stack's region: set AWS_REGION or pass --region", file=err)
        return EXIT_USAGE
    table = args.table
    try:
        if not table:
            table = read_stack_outputs(session.client("cloudformation"), args.stack, region).require(
                FINDINGS_TABLE
            )
        items = open_items(session.client("dynamodb"), table)
    except (StackOutputsError, StateError) as exc:
        print(f"eksmon: {exc}", file=err)
        return EXIT_FAILED
    except botocore.exceptions.BotoCoreError as exc:
        print(f"eksmon: cannot read the findings table {table}: {exc}", file=err)
        return EXIT_FAILED
    findings = [i.finding for i in items if i.finding is not None]
    if args.check:
        findings = [f for f in findings if any(fnmatchcase(f.check, p) for p in args.check)]
    print(render(findings, args.format, datetime.now(UTC), f"findings table {table} in {region}"), file=out)
    return EXIT_OK


def render(findings: list[Any], fmt: str, now: datetime, source: str) -> str:
    """The scan's renderers over the open findings; the scan's summary (clusters scanned, API calls)
    does not apply to a table read, so the table and markdown forms say where they came from instead."""
    from eksmon.aws import ApiCallCounter
    from eksmon.models import Severity, iso_utc
    from eksmon.parts.scan import ScanResult
    from eksmon.publish.output import render as render_scan
    from eksmon.publish.output import scan_document
    from eksmon.publish.terminal import render_terminal

    ordered = sorted(
        findings, key=lambda f: (-f.severity.rank, f.account, f.region, f.cluster or "", f.check, f.resource)
    )
    result = ScanResult(
        findings=ordered,
        regions=[],
        api_calls=ApiCallCounter(),
        started_at=now,
        duration_seconds=0.0,
        checks=[],
    )
    counts = {s.value: sum(1 for f in ordered if f.severity is s) for s in Severity}
    summary = (
        f"{len(ordered)} open findings ({counts['critical']} critical, {counts['warning']} warning, "
        f"{counts['info']} info) in the {source}; as of {iso_utc(now)}"
    )
    if fmt == "json":
        document = scan_document(result, now)
        document["summary"] = {"findings": len(ordered), "by_severity": counts, "source": source}
        return json.dumps(document, indent=2)
    if fmt == "table":
        # never the scan's "every selected check passed" nor its summary: nothing was checked, only read
        return render_terminal(ordered, None, now, closing=summary, empty="No open findings.")
    text = render_scan(result, fmt, now)
    if fmt == "markdown":
        lines = text.splitlines()
        return "\n".join(["# eksmon open findings", "", summary, *lines[3:]])
    return text
