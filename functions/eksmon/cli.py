"""The command line: ``eksmon scan | demo | checks`` (docs/reference.md, "The command line").

Exit codes: 0 done, nothing at or above --fail-on; 1 findings at or above it; 2 bad usage or
configuration (the message names the key); 3 the scan could not run at all (or failed unexpectedly:
one line, the traceback only with --debug); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import shlex
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from eksmon.environment import ENV_TOPIC_ARN
from eksmon.errors import ConfigError, ScanAborted
from eksmon.models import Severity
from eksmon.parts.scan import COLLECTION_ERROR

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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and epilogs as written (examples keep their lines), every default worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # a flag's False, an empty list or an unset option says nothing a reader needs
        if action.default in (None, False, []):
            return action.help
        return super()._get_help_string(action)


EXIT_CODES = f"""exit codes:
  {EXIT_OK}    done; nothing at or above --fail-on
  {EXIT_FINDINGS}    findings at or above --fail-on
  {EXIT_USAGE}    bad usage or configuration (the message names what is wrong)
  {EXIT_ABORTED}    the scan could not run at all (no credentials, STS unreachable, an unexpected error)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)"""

SCAN_HELP = f"""Run eksmon's checks against the EKS clusters the current AWS credentials can see, and print
the findings: a table grouped by cluster (each finding with what to do), or json / markdown / html.

examples:
  eksmon scan --region us-east-1 --region eu-west-1
  eksmon scan --cluster 'prod-*' --fail-on critical        # a CI gate
  eksmon scan --format html --output report.html
  eksmon scan --format json | jq '.findings[] | select(.severity == "critical")'
  eksmon scan --check 'version.*' --no-kubernetes

{EXIT_CODES}"""

DEMO_HELP = """Run the deployed code path (every scheduled Lambda, the alert topic, the Slack forwarder) against a
built-in simulated fleet on loopback: no AWS account, no network. Prints the fleet's findings; the
e-mail and Slack messages and the HTML report only when asked.

examples:
  eksmon demo
  eksmon demo --show-alerts                      # the e-mails and Slack messages as sent
  eksmon demo --html report.html                 # the report with pictures, for a browser
  eksmon demo --format json > findings.json"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eksmon",
        description="Watch Amazon EKS control planes before they hurt.",
        epilog="`eksmon COMMAND --help` describes each command, with examples.",
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"eksmon {_version()}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "scan",
        help="run the checks with the current AWS credentials",
        description=SCAN_HELP,
        formatter_class=_HelpFormatter,
    )
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
    s.add_argument("--format", choices=FORMATS, default="table", help="how to print the findings")
    s.add_argument(
        "--fail-on",
        choices=("critical", "warning", "never"),
        default="never",
        help="exit 1 when a finding is at or above this severity",
    )
    s.add_argument("--now", type=_now, help="evaluate as of this ISO 8601 instant")
    s.add_argument("--kubeconfig", metavar="PATH", help="kubeconfig for --kube-context")
    s.add_argument(
        "--kube-context",
        type=_context,
        action="append",
        default=[],
        metavar="CLUSTER=CONTEXT",
        help="reach CLUSTER's Kubernetes API through CONTEXT of --kubeconfig (repeatable)",
    )
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
        help="minutes of CloudWatch data the error, throttling, latency, webhook, scheduler and capacity "
        "checks read, ending at --now; a burst anywhere in them is judged (60 is the metrics monitor's hour)",
    )
    _output_options(s)
    s.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")

    d = sub.add_parser(
        "demo",
        help="run the deployed code path against a built-in simulated fleet",
        description=DEMO_HELP,
        formatter_class=_HelpFormatter,
    )
    d.add_argument("--format", choices=FORMATS, default="table", help="how to print the findings")
    d.add_argument("--now", type=_now, help="evaluate the simulated fleet as of this instant")
    d.add_argument(
        "--show-alerts",
        action="store_true",
        help="also print every e-mail and Slack message the Lambdas sent, as received",
    )
    d.add_argument("--html", metavar="FILE", help="also write the fleet report with pictures to FILE")
    _output_options(d)

    c = sub.add_parser(
        "checks",
        help="the check catalogue: id, sources, thresholds, IAM actions, docs",
        formatter_class=_HelpFormatter,
    )
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

    n = sub.add_parser(
        "notify-test",
        help="one sample finding through the configured notification path",
        formatter_class=_HelpFormatter,
    )
    n.add_argument(
        "--topic-arn", metavar="ARN", help="the alert topic (default: the TOPIC_ARN environment variable)"
    )
    n.add_argument("--severity", choices=("info", "warning", "critical"), default="info")
    from eksmon.commands import add_parsers

    add_parsers(sub)
    return p


def _output_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--output", metavar="FILE", help="write the report to FILE instead of standard output (any format)"
    )
    command.add_argument(
        "--no-color",
        action="store_true",
        help="no colours in the table (also: the NO_COLOR environment variable; never when piped)",
    )
    command.add_argument(
        "-v", "--verbose", action="store_true", help="log what the scan does to standard error"
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    # what the HTML report's footer says made it (`eksmon scan --region …`)
    args.command_line = "eksmon " + shlex.join(list(argv) if argv is not None else sys.argv[1:])
    try:
        from eksmon.commands import MODULES, run

        with _logging(err, verbose=getattr(args, "verbose", False), debug=getattr(args, "debug", False)):
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

            return run_demo(
                args.format,
                out=out,
                err=err,
                now=args.now,
                show_alerts=args.show_alerts,
                html=args.html,
                output=args.output,
                color=_color(args, out),
                width=_width(out),
                command=args.command_line,
            )
        return _scan(args, out, err)
    except ConfigError as exc:
        print(f"eksmon: configuration error: {exc}", file=err)
        return EXIT_USAGE


def _scan(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from eksmon.aws import Deadline
    from eksmon.engine import scan
    from eksmon.publish.output import render, write_report
    from eksmon.regions import unknown_region_message
    from eksmon.registry import load
    from eksmon.settings import load_settings

    settings = load_settings(args.config)
    unknown = unknown_region_message(list(dict.fromkeys([*args.region, *settings.regions])))
    if unknown:
        print(f"eksmon: {'--region' if args.region else 'regions'}: {unknown}", file=err)
        return EXIT_USAGE
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
    deadline = Deadline(args.timeout or settings.aws.scan_timeout_seconds)
    # on a terminal only, and never beside a json document on the same screen
    shown = err.isatty() and (args.format != "json" or args.output is not None)
    try:
        with _progress_bar(err, enabled=shown) as progress:
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
    text = render(
        result, args.format, now, width=_width(out), color=_color(args, out), command=args.command_line
    )
    if result.filter_misses:
        # a filter that selected nothing is a mistake to fix, not an all-clear; when some clusters could not
        # be listed, the report shows those collection errors too
        if any(m.unread for m in result.filter_misses):
            write_report(text, args.output, out, err, args.format)
        origin = "--cluster" if args.cluster else "clusters.include"
        for miss in result.filter_misses:
            print(f"eksmon: {origin} {miss.text()}", file=err)
        return EXIT_USAGE
    write_report(text, args.output, out, err, args.format)
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


def _color(args: argparse.Namespace, out: TextIO) -> bool:
    """Colour only on a terminal, unless --no-color or NO_COLOR (https://no-color.org) says no."""
    if args.no_color or os.environ.get("NO_COLOR") or args.output is not None:
        return False
    return out.isatty()


def _width(out: TextIO) -> int:
    """The terminal's width; on a pipe, COLUMNS or 100."""
    try:
        if out.isatty():
            return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):
        pass
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return 100


@contextlib.contextmanager
def _logging(err: TextIO, verbose: bool, debug: bool) -> Iterator[None]:
    """eksmon's log lines on standard error with -v (INFO) or --debug (DEBUG), else none: what went wrong
    reaches the user as findings and messages, not log lines. Restored afterwards (tests call main)."""
    own = logging.getLogger("eksmon")
    root = logging.getLogger()
    saved = (list(own.handlers), own.level, own.propagate, root.level)
    handler: logging.Handler = logging.StreamHandler(err) if verbose or debug else logging.NullHandler()
    handler.setFormatter(logging.Formatter("eksmon: %(levelname)s %(name)s: %(message)s"))
    # Powertools' handler (the Lambdas' JSON lines on stdout) would write into the report
    for h in saved[0]:
        own.removeHandler(h)
    own.addHandler(handler)
    own.propagate = False
    own.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
    # other libraries' warnings (urllib3, botocore) stay off the screen too, unless asked for
    quiet = logging.NullHandler()
    root.addHandler(quiet)
    try:
        yield
    finally:
        root.removeHandler(quiet)
        own.removeHandler(handler)
        for h in saved[0]:
            own.addHandler(h)
        own.setLevel(saved[1])
        own.propagate = saved[2]


def _notify_test(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Publish one sample finding through the same code path as the Lambdas (`eksmon notify-test`)."""
    import boto3
    import botocore.exceptions

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
        print(f"eksmon: notify-test: cannot publish to {topic_arn}: {_aws_failure(cause)}", file=err)
        return EXIT_ABORTED
    print(f"Published test notification {message_id} to {topic_arn}", file=out)
    print(f"Subject: {message.subject}", file=out)
    print("", file=out)
    print(message.text, file=out)
    print("", file=out)
    print("Slack (AWS Chatbot custom notification):", file=out)
    print(json.dumps(message.chatbot, indent=2), file=out)
    return EXIT_OK


def _aws_failure(exc: BaseException) -> str:
    """What went wrong calling AWS, and what to do, in the words `scan` uses (accounts.py)."""
    import botocore.exceptions

    from eksmon.aws import error_code, is_access_denied

    if isinstance(exc, (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError)):
        return "no AWS credentials: set AWS_PROFILE or the AWS_* variables, or run inside AWS"
    if is_access_denied(exc) or error_code(exc) == "AuthorizationError":
        return f"access denied ({error_code(exc)}): the credentials need sns:Publish on the topic"
    if error_code(exc) in {"NotFound", "NotFoundException"}:
        return f"no such topic ({error_code(exc)}): check --topic-arn (account, region and name)"
    if error_code(exc) in {"InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken"}:
        return f"the AWS credentials do not work ({error_code(exc)}): refresh them or pick another profile"
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return f"cannot reach SNS ({error_code(exc)}): check the network and the topic's region"
    return error_code(exc)


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
    from eksmon.parts.scan import ABOUT_THE_MONITOR

    if fail_on == "never":
        return EXIT_OK
    bar = Severity(fail_on).rank
    hit = any(f.severity.rank >= bar and f.check not in ABOUT_THE_MONITOR for f in findings)
    return EXIT_FINDINGS if hit else EXIT_OK


@contextlib.contextmanager
def _progress_bar(err: TextIO, enabled: bool) -> Iterator[Any]:
    """A progress bar on standard error (regions and clusters done, elapsed), gone when the scan ends;
    None (no bar) when not ``enabled``."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from eksmon.collection import ScanProgress

    bar = Progress(
        SpinnerColumn(),
        TextColumn("scanning: regions {task.fields[regions]}, clusters {task.fields[clusters]}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=Console(file=err),
        transient=True,
    )
    task = bar.add_task("scan", total=None, regions="…", clusters="…")

    def show(p: ScanProgress) -> None:
        # the cluster total grows while regions list their clusters: known once every region is read
        settled = p.regions_done == p.regions_total
        bar.update(
            task,
            total=p.clusters_total if settled and p.clusters_total else None,
            completed=p.clusters_done,
            regions=f"{p.regions_done}/{p.regions_total}",
            clusters=f"{p.clusters_done}/{p.clusters_total}" if p.clusters_total else "…",
        )

    with bar:
        yield show


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
    from eksmon.links import ANCHOR_ALERTS, readme_url
    from eksmon.monitor_findings import COVERAGE, COVERAGE_DOCS, FILTER_DOCS, RUN_TIME_DOCS
    from eksmon.parts.scan import FILTER_MATCHES_NOTHING, RUN_TIME
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
