"""The command line: ``eksmon scan | demo | checks`` (docs/reference.md, "The command line").

Exit codes: 0 done, nothing at or above --fail-on; 1 findings at or above it; 2 bad usage or
configuration (the message names the key); 3 the scan could not run at all (or failed unexpectedly:
one line, the traceback only with --debug); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from eksmon.context import COLLECTION_ERROR
from eksmon.environment import ENV_TOPIC_ARN
from eksmon.errors import ConfigError, ScanAborted
from eksmon.models import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
FORMATS = ("table", "json", "markdown", "html")


def _now(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--now: {text!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"--timeout: {text!r} is not a number of seconds in (0, 86400]")
    return value


def _window(text: str) -> int:
    from eksmon.settings import MAX_WINDOW_MINUTES

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_WINDOW_MINUTES:
        raise argparse.ArgumentTypeError(
            f"--window: {text!r} is not a whole number of minutes in 1..{MAX_WINDOW_MINUTES} (the CloudWatch "
            "checks read this much, ending at --now; default 60)"
        )
    return value


def _group(text: str) -> str:
    from eksmon.rbac import group_name

    return group_name(text)


def _context(text: str) -> tuple[str, str]:
    cluster, sep, context = text.partition("=")
    if not sep or not cluster or not context:
        raise argparse.ArgumentTypeError(f"--kube-context: expected CLUSTER=CONTEXT, got {text!r}")
    return cluster, context


def _version() -> str:
    """The installed package's version (its metadata), so it is the one place a release sets it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eksmon")
    except PackageNotFoundError:
        return "unknown (not installed: pip install .)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eksmon", description="Watch Amazon EKS control planes before they hurt."
    )
    p.add_argument("--version", action="version", version=f"eksmon {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scan", help="run the checks with the current AWS credentials")
    s.add_argument("--config", metavar="FILE", help="YAML configuration (see README)")
    s.add_argument("--region", action="append", default=[], metavar="R", help="region to scan (repeatable)")
    s.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="NAME",
        help="cluster name, glob or ARN (repeatable); one that matches no cluster exits 2",
    )
    s.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="ID",
        help="check id or glob (repeatable); one that matches no check exits 2",
    )
    s.add_argument("--format", choices=FORMATS, default="table")
    s.add_argument("--fail-on", choices=("critical", "warning", "never"), default="never")
    s.add_argument("--now", type=_now, help="evaluate as of this ISO 8601 instant")
    s.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig for --kube-context")
    s.add_argument("--kube-context", type=_context, action="append", default=[], metavar="CLUSTER=CONTEXT")
    s.add_argument(
        "--no-kubernetes", action="store_true", help="skip every check that reads the Kubernetes API"
    )
    s.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="stop reading after this long and report what was read (default: aws.scan_timeout_seconds, 600)",
    )
    s.add_argument(
        "--window",
        type=_window,
        default=60,
        metavar="MINUTES",
        help="minutes of CloudWatch data the error, throttling, latency, webhook and capacity checks read, "
        "ending at --now; a burst anywhere in them is judged (default: 60, the metrics monitor's hour)",
    )
    s.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")

    d = sub.add_parser("demo", help="run the deployed code path against a built-in simulated fleet")
    d.add_argument("--format", choices=FORMATS, default="table")
    d.add_argument("--now", type=_now, help="evaluate the simulated fleet as of this instant")

    c = sub.add_parser("checks", help="the check catalogue: id, sources, thresholds, IAM actions, docs")
    c.add_argument("--format", choices=("table", "json", "markdown"), default="table")

    r = sub.add_parser(
        "rbac", help="the read-only RBAC the Kubernetes checks need (ClusterRole, kube-system Role, bindings)"
    )
    r.add_argument(
        "--group", default="eksmon-readers", type=_group, help="group of the monitor's access entry"
    )
    r.add_argument(
        "--config", metavar="FILE", help="grant only what the checks this configuration enables read"
    )
    r.add_argument("--check", action="append", default=[], metavar="ID", help="check id or glob (repeatable)")

    n = sub.add_parser("notify-test", help="one sample finding through the configured notification path")
    n.add_argument(
        "--topic-arn", metavar="ARN", help="the alert topic (default: the TOPIC_ARN environment variable)"
    )
    n.add_argument("--severity", choices=("info", "warning", "critical"), default="info")
    from eksmon.commands import add_parsers

    add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    try:
        from eksmon.commands import MODULES, run

        return run(args, out, err) if args.command in MODULES else _command(args, out, err)
    except KeyboardInterrupt:
        print("eksmon: interrupted", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`eksmon checks | head`): what it read is what it wanted, not an error.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a user unless asked for
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc(file=err)
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        hint = "" if getattr(args, "debug", False) else " (--debug shows the traceback)"
        print(f"eksmon: unexpected error: {type(exc).__name__}: {first}{hint}", file=err)
        return EXIT_ABORTED


def _command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        if args.command == "checks":
            return _checks(args, out)
        if args.command == "rbac":
            from eksmon.rbac import configured_manifest

            print(configured_manifest(args.config, args.check, group=args.group), end="", file=out)
            return EXIT_OK
        if args.command == "notify-test":
            return _notify_test(args, out, err)
        if args.command == "demo":
            from eksmon.demo import run_demo

            return run_demo(args.format, out=out, err=err, now=args.now)
        return _scan(args, out, err)
    except ConfigError as exc:
        print(f"eksmon: configuration error: {exc}", file=err)
        return EXIT_USAGE


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from eksmon.aws import Deadline
    from eksmon.engine import scan
    from eksmon.publish.output import render
    from eksmon.registry import load
    from eksmon.settings import load_settings

    settings = load_settings(args.config)
    update: dict[str, Any] = {}
    if args.region:
        update["regions"] = list(dict.fromkeys(args.region))
    elif arn_regions := _arn_regions(args.cluster):
        update["regions"] = _with_arn_regions(settings, args.cluster, arn_regions)
    if args.cluster:
        update["clusters"] = settings.clusters.model_copy(update={"include": args.cluster})
    if args.no_kubernetes:
        update["kubernetes"] = settings.kubernetes.model_copy(update={"enabled": False})
    if update:
        from eksmon.settings import parse_settings

        settings = parse_settings(
            {**settings.model_dump(), **{k: _dump(v) for k, v in update.items()}}, "command line"
        )
    registry = load()
    if _unknown_checks(registry, args.check, err):
        return EXIT_USAGE
    now = args.now or datetime.now(UTC)
    progress = _progress(err) if args.format != "json" and err.isatty() else None
    deadline = Deadline(args.timeout or settings.aws.scan_timeout_seconds)
    try:
        result = scan(
            settings,
            now,
            patterns=args.check,
            progress=progress,
            services=_services(args, settings),
            deadline=deadline,
            window_minutes=args.window,
        )
    except ScanAborted as exc:
        print(f"eksmon: cannot scan: {exc}", file=err)
        return EXIT_ABORTED
    if progress:
        err.write("\r\033[K")
    if result.filter_misses:
        # a filter that selected nothing is a mistake to fix, not an all-clear; when some clusters could not
        # be listed, the report shows those collection errors too
        if any(m.unread for m in result.filter_misses):
            print(render(result, args.format, now), file=out)
        origin = "--cluster" if args.cluster else "clusters.include"
        for miss in result.filter_misses:
            print(f"eksmon: {origin} {miss.text()}", file=err)
        return EXIT_USAGE
    print(render(result, args.format, now), file=out)
    return _exit_code(result.findings, args.fail_on)


def _unknown_checks(registry: Any, patterns: Sequence[str], err: TextIO) -> bool:
    """Say which --check matches no check, with the closest ids; True when one does not."""
    from eksmon.clusterfilter import closest

    unknown = [p for p in patterns if not registry.select([p])]
    for pattern in unknown:
        near = ", ".join(closest(pattern, [c.id for c in registry.select()]))
        print(
            f"eksmon: --check {pattern!r} matches no check; closest: {near} (see `eksmon checks`)", file=err
        )
    return bool(unknown)


def _arn_regions(patterns: Sequence[str]) -> list[str]:
    from eksmon.clusterfilter import ARN

    return list(dict.fromkeys(m["region"] for p in patterns if (m := ARN.match(p))))


def _with_arn_regions(settings: Any, patterns: Sequence[str], arn_regions: list[str]) -> list[str]:
    """Without --region, a cluster ARN's region is scanned; only those when every --cluster is an ARN."""
    if all(p.startswith("arn:") for p in patterns):
        return arn_regions
    import boto3

    current = boto3.Session().region_name or os.environ.get("AWS_REGION")
    regions = list(settings.regions) or ([current] if current else [])
    return list(dict.fromkeys([*regions, *arn_regions]))


def _notify_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Publish one sample finding through the same code path as the Lambdas (`eksmon notify-test`)."""
    import boto3
    import botocore.exceptions

    from eksmon.aws import error_code
    from eksmon.runner import NotificationError, send_test_notification

    topic_arn = args.topic_arn or os.environ.get(ENV_TOPIC_ARN)
    if not topic_arn:
        print("eksmon: notify-test needs the alert topic: pass --topic-arn or set TOPIC_ARN", file=err)
        return EXIT_USAGE
    if not re.match(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$", topic_arn):
        print(f"eksmon: --topic-arn: {topic_arn!r} is not an SNS topic ARN", file=err)
        return EXIT_USAGE
    region = topic_arn.split(":")[3]
    try:
        sns = boto3.Session().client("sns", region_name=region)
        message_id, message = send_test_notification(
            sns, topic_arn, datetime.now(UTC), Severity(args.severity)
        )
    except (NotificationError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        cause = exc.__cause__ or exc
        print(f"eksmon: notify-test: publishing to {topic_arn} failed: {error_code(cause)}", file=err)
        return EXIT_ABORTED
    print(f"Published test notification {message_id} to {topic_arn}", file=out)
    print(f"Subject: {message.subject}", file=out)
    print("", file=out)
    print(message.text, file=out)
    print("", file=out)
    print("Slack (AWS Chatbot custom notification):", file=out)
    print(json.dumps(message.chatbot, indent=2), file=out)
    return EXIT_OK


def _dump(value: Any) -> Any:
    return value.model_dump() if hasattr(value, "model_dump") else value


def _services(args: argparse.Namespace, settings: Any) -> Any:
    """Kubernetes access for the scan; filled in by the Kubernetes access layer when present."""
    try:
        from eksmon.kube import cli_services
    except ImportError:
        return None
    return cli_services(settings, kubeconfig=args.kubeconfig, contexts=dict(args.kube_context))


def _exit_code(findings: Sequence[Any], fail_on: str) -> int:
    """--fail-on counts findings about the fleet; the monitor's own (a source it could not read, a scan
    near its time budget) are reported but do not fail a CI job."""
    from eksmon.engine import ABOUT_THE_MONITOR

    if fail_on == "never":
        return EXIT_OK
    bar = Severity(fail_on).rank
    hit = any(f.severity.rank >= bar and f.check not in ABOUT_THE_MONITOR for f in findings)
    return EXIT_FINDINGS if hit else EXIT_OK


def _progress(err: TextIO) -> Any:
    def show(done: int, total: int) -> None:
        err.write(f"\r\033[Kscanning clusters: {done}/{total}")
        err.flush()

    return show


def _checks(args: argparse.Namespace, out: TextIO) -> int:
    from eksmon.registry import load

    registry = load()
    rows: list[dict[str, Any]] = []
    for spec in registry.select():
        cols = registry.collectors_for([spec])
        rows.append(
            {
                "id": spec.id,
                "title": spec.title,
                "monitor": spec.monitor,
                "severity": spec.severity_rules,
                "sources": list(spec.sources) or sorted({c.name for c in cols}),
                "thresholds": spec.thresholds().model_dump(),
                "iam_actions": registry.iam_actions([spec]),
                "kubernetes": [_perm(p) for c in cols for p in c.kube],
                "docs": spec.docs,
            }
        )
    rows += _monitor_rows()
    if args.format == "json":
        print(json.dumps(rows, indent=2), file=out)
    elif args.format == "markdown":
        print(
            "| id | monitor | raises | default thresholds | IAM actions | docs |\n|---|---|---|---|---|---|",
            file=out,
        )
        for r in rows:
            th = ", ".join(f"{k}={v}" for k, v in r["thresholds"].items()) or "—"
            print(
                f"| `{r['id']}` | {r['monitor']} | {r['severity']} | {th} | {', '.join(r['iam_actions'])} | "
                f"{r['docs']} |",
                file=out,
            )
    else:
        for r in rows:
            th = ", ".join(f"{k}={v}" for k, v in r["thresholds"].items()) or "none"
            print(f"{r['id']}  [{r['monitor']}]  {r['title']}", file=out)
            print(f"    raises:     {r['severity']}", file=out)
            print(f"    thresholds: {th}", file=out)
            print(f"    sources:    {', '.join(r['sources'])}", file=out)
            print(f"    IAM:        {', '.join(r['iam_actions']) or 'none'}", file=out)
            if r["kubernetes"]:
                print(f"    Kubernetes: {', '.join(r['kubernetes'])}", file=out)
            print(f"    docs:       {r['docs']}", file=out)
    return EXIT_OK


def _monitor_rows() -> list[dict[str, Any]]:
    """The monitor's own findings: no thresholds and no permissions of their own, but ids a user filters on."""
    from eksmon.context import COLLECTION_ERROR_DOCS
    from eksmon.engine import (
        COVERAGE,
        COVERAGE_DOCS,
        FILTER_DOCS,
        FILTER_MATCHES_NOTHING,
        RUN_TIME,
        RUN_TIME_DOCS,
    )
    from eksmon.links import ANCHOR_ALERTS, readme_url
    from eksmon.runner import TEST_CHECK

    own = (
        (
            COLLECTION_ERROR,
            "A source could not be read",
            "warning, one per root cause: an AWS operation denied or failing in a region, a cluster whose "
            "Kubernetes API refuses or cannot be reached (resource source/kubernetes), a scan cut off by its deadline",
            COLLECTION_ERROR_DOCS,
        ),
        (
            COVERAGE,
            "Checks that could not be evaluated",
            "info, at most one per cluster: the checks an optional source has no data for, each with the reason",
            COVERAGE_DOCS,
        ),
        (
            FILTER_MATCHES_NOTHING,
            "A cluster filter that selects nothing",
            "warning, one per pattern: a deployed monitor's clusters.include pattern selects no cluster "
            "anywhere it scans (eksmon scan exits 2 instead)",
            FILTER_DOCS,
        ),
        (
            RUN_TIME,
            "A run near its time budget",
            "warning, one per run (resource run/<monitor>): its collection took more than "
            "aws.run_time_warning_percent (80 %) of its time budget, or the deadline cut it",
            RUN_TIME_DOCS,
        ),
        (
            TEST_CHECK,
            "Notification test",
            "the sample finding `eksmon notify-test` sends (severity as asked)",
            readme_url(ANCHOR_ALERTS),
        ),
    )
    return [
        {
            "id": check_id,
            "title": title,
            "monitor": "every",
            "severity": rules,
            "sources": ["the monitor itself"],
            "thresholds": {},
            "iam_actions": [],
            "kubernetes": [],
            "docs": docs,
        }
        for check_id, title, rules, docs in own
    ]


def _perm(p: Any) -> str:
    if hasattr(p, "url"):
        return f"{'/'.join(p.verbs)} {p.url}"
    group = p.api_group or "core"
    return f"{'/'.join(p.verbs)} {p.resource}.{group}"


if __name__ == "__main__":
    raise SystemExit(main())
