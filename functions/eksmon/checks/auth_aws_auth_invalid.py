"""auth.aws_auth_invalid: the aws-auth ConfigMap does not parse, or has entries the authenticator cannot use.

A cluster whose authentication mode is API ignores aws-auth entirely, so nothing is reported there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from eksmon.models import Problem, Severity
from eksmon.parts import ClusterInfo
from eksmon.parts.kubernetes import AwsAuth
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

RESOURCE = "ConfigMap/kube-system/aws-auth"
ARN_KEYS = {"mapRoles": "rolearn", "mapUsers": "userarn"}
_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+")
MAX_ENTRIES = 20


@dataclass
class Validation:
    parse_errors: list[str] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)  # entries with missing or bad fields

    @property
    def ok(self) -> bool:
        return not self.parse_errors and not self.entries


def validate(data: Mapping[str, str]) -> Validation:
    """Read mapRoles, mapUsers and mapAccounts as the authenticator would (pure)."""
    out = Validation()
    for key, arn_key in ARN_KEYS.items():
        items = _load_list(out, data, key)
        for index, entry in enumerate(items):
            if not isinstance(entry, dict):
                out.parse_errors.append(f"{key} entry {index + 1} is a {_type(entry)}, not a mapping")
                continue
            problems = _entry_problems(entry, arn_key)
            if problems:
                arn = entry.get(arn_key)
                out.entries.append(
                    {
                        "key": key,
                        "entry": index + 1,
                        arn_key: arn if isinstance(arn, str) else None,
                        "username": entry.get("username") if isinstance(entry.get("username"), str) else None,
                        "problems": problems,
                    }
                )
    for index, account in enumerate(_load_list(out, data, "mapAccounts")):
        if not re.fullmatch(r"\d{12}", str(account)):
            out.parse_errors.append(
                f"mapAccounts entry {index + 1} ({account!r}) is not a 12-digit account id"
            )
    return out


def _load_list(out: Validation, data: Mapping[str, str], key: str) -> list[Any]:
    raw = data.get(key)
    if raw is None or not raw.strip():
        return []
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        out.parse_errors.append(f"{key} is not valid YAML{where}: {problem}")
        return []
    if doc is None:
        return []
    if not isinstance(doc, list):
        out.parse_errors.append(f"{key} is a YAML {_type(doc)}, not a list")
        return []
    return doc


def _entry_problems(entry: dict[str, Any], arn_key: str) -> list[str]:
    problems = []
    arn = entry.get(arn_key)
    if not isinstance(arn, str) or not arn.strip():
        problems.append(f"no {arn_key}")
    elif not _ARN.match(arn.strip()):
        problems.append(f"{arn_key} {arn!r} is not an IAM ARN")
    username = entry.get("username")
    if not isinstance(username, str) or not username.strip():
        problems.append("no username")
    groups = entry.get("groups")
    if groups is None or groups == []:
        problems.append("no groups")
    elif not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        problems.append("groups is not a list of group names")
    return problems


def _type(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return "string" if isinstance(value, str) else type(value).__name__


@check(
    id="auth.aws_auth_invalid",
    title="aws-auth ConfigMap is invalid",
    monitor="kubernetes",
    needs=(AwsAuth,),
    uses=(ClusterInfo,),  # its authentication mode; a broken aws-auth is judged whatever the mode is known
    docs="https://docs.aws.amazon.com/eks/latest/userguide/auth-configmap.html",
    severity_rules="critical when kube-system/aws-auth does not parse or has entries without "
    "rolearn/userarn, username or groups",
    sources=("Kubernetes: ConfigMap kube-system/aws-auth",),
)
def aws_auth_invalid(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    info = snap.get(ClusterInfo) if snap.has(ClusterInfo) else None
    known = info.authentication_mode if info is not None else None
    auth = snap.get(AwsAuth)
    if not auth.present or known == "API":
        return
    result = validate(auth.data)
    if auth.problem:
        result.parse_errors.insert(0, auth.problem)
    if result.ok:
        return
    mode = known or "unknown"
    only = mode == "CONFIG_MAP"
    if only:
        tail = ", and with CONFIG_MAP mode there is no other way in."
    elif known:
        tail = "; access entries still work."
    else:  # DescribeCluster could not be read: the cluster may depend on aws-auth alone
        tail = "; whether access entries still let them in depends on the authentication mode, unknown here."
    found = result.parse_errors + [
        f"{e['key']} entry {e['entry']}"
        + (f" ({e.get('rolearn') or e.get('userarn')})" if e.get("rolearn") or e.get("userarn") else "")
        + ": "
        + ", ".join(e["problems"])
        for e in result.entries
    ]
    shown = "; ".join(found[:MAX_ENTRIES]) + (
        f"; and {len(found) - MAX_ENTRIES} more" if len(found) > MAX_ENTRIES else ""
    )
    yield Problem(
        severity=Severity.CRITICAL,
        resource=RESOURCE,
        title="aws-auth ConfigMap does not parse"
        if result.parse_errors
        else "aws-auth ConfigMap has broken entries",
        message=f"kube-system/aws-auth on cluster {snap.name} (authentication mode {mode}): {shown}. The EKS "
        "authenticator cannot map the IAM principals of a key it cannot parse, nor an entry without its ARN; "
        "an entry without username or groups maps to no usable identity. Nodes and people mapped there lose "
        "access to the cluster" + tail,
        remediation="Fix the ConfigMap (kubectl edit -n kube-system configmap aws-auth, or the tool that owns it) "
        "so that mapRoles and mapUsers are YAML lists of {rolearn|userarn, username, groups}; better, move "
        "these mappings to EKS access entries.",
        details={
            "authentication_mode": mode,
            "parse_errors": result.parse_errors,
            "entries": result.entries[:MAX_ENTRIES],
            "broken_entries": len(result.entries),
        },
    )
