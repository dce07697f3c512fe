"""``eksmon grant-access``: EKS access entries for the monitor roles, with the user's own credentials.

The stack creates access entries only for the clusters named literally in ``clusters.include``; with the
default ``["*"]`` the Kubernetes-reading monitors would get 401 everywhere. This command, run once by
someone allowed to manage access entries, gives each monitor role (``KubernetesRoleArn*`` outputs of the
stack, or ``--role-arn``) an entry with the Kubernetes group ``eksmon-readers`` and no access policy in
every matching cluster: what they may read is the RBAC that ``eksmon rbac`` prints, nothing more.
Idempotent: an entry that is already there is reported, not an error. ``--dry-run`` prints the
equivalent ``aws eks create-access-entry`` commands and changes nothing.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, TextIO

from eksmon.rbac import GROUP

EXIT_OK, EXIT_USAGE, EXIT_FAILED = 0, 2, 3
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def role_arn(text: str) -> str:
    if not _ROLE_ARN.match(text):
        raise argparse.ArgumentTypeError(
            f"--role-arn: {text!r} is not an IAM role ARN (arn:aws:iam::123456789012:role/...)"
        )
    return text


def add_parser(sub: Any) -> None:
    g = sub.add_parser(
        "grant-access",
        help="give the monitor roles an EKS access entry (group eksmon-readers) in each matching cluster",
        description=(
            "Create the EKS access entries of the deployed monitor's Kubernetes-reading roles (group "
            "eksmon-readers, type STANDARD, no access policy) in every cluster that matches, with your own "
            "credentials. Then apply the RBAC in each cluster: eksmon rbac | kubectl apply -f -"
        ),
    )
    g.add_argument("--stack", default="EksMonitor", help="the monitor stack whose role ARNs to read")
    g.add_argument(
        "--stack-region",
        metavar="R",
        help="region of the stack (default: your AWS region, else the first --region)",
    )
    g.add_argument(
        "--role-arn",
        action="append",
        default=[],
        type=role_arn,
        metavar="ARN",
        help="grant this role instead of reading the stack (repeatable; e.g. a member account's eksmon-reader)",
    )
    g.add_argument(
        "--region", action="append", default=[], metavar="R", help="region of the clusters (repeatable)"
    )
    g.add_argument(
        "--cluster", action="append", default=[], metavar="GLOB", help="cluster name or glob (repeatable)"
    )
    g.add_argument("--dry-run", action="store_true", help="print the aws eks commands, change nothing")
    g.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")


@dataclass(frozen=True)
class Outcome:
    region: str
    cluster: str
    principal: str
    status: str  # created | present | would create | failed
    detail: str = ""


def run(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    session_factory: Callable[..., Any] | None = None,
) -> int:
    import boto3

    from eksmon.stack_outputs import StackOutputsError, read_stack_outputs

    make = session_factory or boto3.Session
    base = make()
    home = args.stack_region or base.region_name or (args.region[0] if args.region else None)
    if not home:
        print("eksmon: grant-access needs a region: set AWS_REGION or pass --region", file=err)
        return EXIT_USAGE
    roles: list[str] = list(dict.fromkeys(args.role_arn))
    if not roles:
        try:
            outputs = read_stack_outputs(make(region_name=home).client("cloudformation"), args.stack, home)
        except StackOutputsError as exc:
            print(f"eksmon: {exc} (or name the roles with --role-arn)", file=err)
            return EXIT_FAILED
        roles = list(dict.fromkeys(outputs.kubernetes_roles().values()))
        if not roles:
            print(
                f"eksmon: stack {args.stack} has no KubernetesRoleArn outputs: none of its monitors reads "
                "the Kubernetes API, or it predates them (make deploy), or pass --role-arn",
                file=err,
            )
            return EXIT_FAILED
    regions = list(dict.fromkeys(args.region)) or [home]
    patterns = args.cluster or ["*"]
    outcomes: list[Outcome] = []
    unreadable = 0
    for region in regions:
        eks = make(region_name=region).client("eks")
        try:
            clusters = _clusters(eks)
        except Exception as exc:  # noqa: BLE001 - one region that cannot be listed never hides the others
            print(f"eksmon: {region}: cannot list clusters: {_why(exc)}", file=err)
            unreadable += 1
            continue
        for cluster in (c for c in clusters if any(fnmatchcase(c, p) for p in patterns)):
            for principal in roles:
                outcomes.append(_grant(eks, region, cluster, principal, args.dry_run, out))
    if not outcomes:
        if not unreadable:
            print(
                f"eksmon: no cluster in {', '.join(regions)} matches {' '.join(patterns)}: nothing to grant",
                file=err,
            )
        return EXIT_FAILED if unreadable else EXIT_USAGE if args.cluster else EXIT_OK
    if not args.dry_run:
        _report(outcomes, out)
    # a shell comment after --dry-run's commands, so that output can be reviewed and run as it is
    print(
        f"{'#' if args.dry_run else ''}\n{'# ' if args.dry_run else ''}Next, in each cluster: "
        f"eksmon rbac | kubectl apply -f -   (binds group {GROUP} to read-only roles)",
        file=out,
    )
    failed = unreadable or any(o.status == "failed" for o in outcomes)
    return EXIT_FAILED if failed else EXIT_OK


def _clusters(eks: Any) -> list[str]:
    names: list[str] = []
    for page in eks.get_paginator("list_clusters").paginate(PaginationConfig={"MaxItems": 10_000}):
        names += page.get("clusters", [])
    return sorted(names)


def _grant(eks: Any, region: str, cluster: str, principal: str, dry_run: bool, out: TextIO) -> Outcome:
    import botocore.exceptions

    if dry_run:
        command = [
            "aws", "eks", "create-access-entry", "--region", region, "--cluster-name", cluster,
            "--principal-arn", principal, "--type", "STANDARD", "--kubernetes-groups", GROUP,
        ]  # fmt: skip
        print(shlex.join(command), file=out)
        return Outcome(region, cluster, principal, "would create")
    try:
        eks.create_access_entry(
            clusterName=cluster, principalArn=principal, type="STANDARD", kubernetesGroups=[GROUP]
        )
        return Outcome(region, cluster, principal, "created")
    except botocore.exceptions.ClientError as exc:
        if _code(exc) != "ResourceInUseException":
            return Outcome(region, cluster, principal, "failed", _why(exc))
    except botocore.exceptions.BotoCoreError as exc:
        return Outcome(region, cluster, principal, "failed", _why(exc))
    return _existing(eks, region, cluster, principal)


def _existing(eks: Any, region: str, cluster: str, principal: str) -> Outcome:
    """An entry that was there already: fine if it carries the group, else say how to add it."""
    import botocore.exceptions

    try:
        entry = eks.describe_access_entry(clusterName=cluster, principalArn=principal)["accessEntry"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        return Outcome(region, cluster, principal, "present", f"(could not read it: {_why(exc)})")
    groups = list(entry.get("kubernetesGroups") or [])
    if GROUP in groups:
        return Outcome(region, cluster, principal, "present")
    fix = shlex.join(
        [
            "aws", "eks", "update-access-entry", "--region", region, "--cluster-name", cluster,
            "--principal-arn", principal, "--kubernetes-groups", *groups, GROUP,
        ]
    )  # fmt: skip
    return Outcome(region, cluster, principal, "failed", f"exists without group {GROUP}; run: {fix}")


def _report(outcomes: Sequence[Outcome], out: TextIO) -> None:
    words = {"created": "created", "present": "already there", "failed": "FAILED"}
    width = max(len(f"{o.region}/{o.cluster}") for o in outcomes)
    role_width = max(len(o.principal.rsplit("/", 1)[-1]) for o in outcomes)
    for o in outcomes:
        role = o.principal.rsplit("/", 1)[-1].ljust(role_width)
        line = f"{o.region}/{o.cluster}".ljust(width) + f"  {role}  {words.get(o.status, o.status)}"
        print(f"{line}  {o.detail}".rstrip(), file=out)
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("created", "present", "failed")}
    clusters = len({(o.region, o.cluster) for o in outcomes})
    print(
        f"{clusters} clusters: {counts['created']} entries created, {counts['present']} already there, "
        f"{counts['failed']} failed",
        file=out,
    )


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _why(exc: BaseException) -> str:
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        message = str(exc.response.get("Error", {}).get("Message", "")).strip()
        return f"{_code(exc)}: {message}"[:300] if message else _code(exc)
    return f"{type(exc).__name__}: {exc}"[:300]
