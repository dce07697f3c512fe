"""cni.ip_caching: VPC CNI warm settings that make pod starts call the EC2 API.

How "forces EC2 calls on every pod start" is decided, from the aws-node container's environment
(unset values read as the VPC CNI's defaults: WARM_ENI_TARGET 1, WARM_PREFIX_TARGET 1 as the EKS
manifest sets it, WARM_IP_TARGET and MINIMUM_IP_TARGET off):

* Secondary-IP mode (ENABLE_PREFIX_DELEGATION not true):
  - WARM_IP_TARGET > 0 without MINIMUM_IP_TARGET: ipamd keeps exactly WARM_IP_TARGET spare IPs, so
    each pod that takes one leaves the pool short and ipamd calls EC2 (AssignPrivateIpAddresses)
    to refill it -- one call per pod start; with WARM_IP_TARGET 1 a burst of pods waits on EC2.
  - WARM_ENI_TARGET 0 with neither IP target: no warm pool at all; every pod that needs an address
    waits for EC2 to assign one.
* Prefix delegation: a /28 serves 16 pods, so no setting makes every start call EC2. WARM_IP_TARGET
  without MINIMUM_IP_TARGET is still reported (the catalogue's first condition), and all warm
  targets at 0 is reported as the unsupported combination the VPC CNI documents.

Values eksmon cannot read (valueFrom, not an integer) make an info finding saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from eksmon.checks._kubernetes import CONTROL_PLANE_DOCS
from eksmon.models import Problem, Severity
from eksmon.parts.kubernetes import VpcCniSettings
from eksmon.registry import NoThresholds, check
from eksmon.snapshot import ClusterSnapshot

RESOURCE = "DaemonSet/kube-system/aws-node"
DEFAULTS = {"WARM_ENI_TARGET": 1, "WARM_IP_TARGET": 0, "MINIMUM_IP_TARGET": 0, "WARM_PREFIX_TARGET": 1}
CNI_DOCS = "https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md"


@check(
    id="cni.ip_caching",
    title="VPC CNI warm settings make pod starts call the EC2 API",
    monitor="kubernetes",
    needs=(VpcCniSettings,),
    docs=CONTROL_PLANE_DOCS,
    severity_rules="info when WARM_IP_TARGET is set without MINIMUM_IP_TARGET, or the warm settings force "
    "EC2 calls on every pod start",
    sources=("Kubernetes: DaemonSet kube-system/aws-node",),
)
def ip_caching(snap: ClusterSnapshot, _t: NoThresholds, _now: datetime) -> Iterator[Problem]:
    cni = snap.get(VpcCniSettings)
    if not cni.installed:
        return
    values, unreadable = _values(cni)
    if unreadable:
        yield _unreadable(cni, unreadable)
        return
    prefix = cni.env.get("ENABLE_PREFIX_DELEGATION", "false").strip().lower() == "true"
    warm_ip, minimum = values["WARM_IP_TARGET"], values["MINIMUM_IP_TARGET"]
    if warm_ip > 0 and minimum <= 0:
        yield _problem(
            cni,
            prefix,
            every_start=not prefix,
            why=f"WARM_IP_TARGET is {warm_ip} and MINIMUM_IP_TARGET is not set",
            effect=(
                f"ipamd keeps only {warm_ip} spare IP{'s' if warm_ip > 1 else ''} per node, so every pod start "
                "leaves the pool short and ipamd calls EC2 to assign another address. Scaling out makes "
                "one EC2 call per pod on every node at once: EC2 throttles, and pods wait for their IP."
                if not prefix
                else "with prefix delegation ipamd asks EC2 for a new /28 prefix whenever fewer than "
                f"{warm_ip} IPs are spare, and a new node starts with no more than that: a burst of pods on a "
                "fresh node waits for EC2."
            ),
        )
        return
    if prefix and values["WARM_PREFIX_TARGET"] <= 0 and warm_ip <= 0 and minimum <= 0:
        yield _problem(
            cni,
            prefix,
            every_start=False,
            why="prefix delegation is on with WARM_PREFIX_TARGET 0 and no WARM_IP_TARGET/MINIMUM_IP_TARGET",
            effect="ipamd keeps no spare prefix, a combination the VPC CNI does not support: whenever a node's "
            "/28 is used up, the next pod waits for EC2 to assign a prefix (and for a new ENI when the "
            "node has no room).",
        )
    elif not prefix and values["WARM_ENI_TARGET"] <= 0 and warm_ip <= 0 and minimum <= 0:
        yield _problem(
            cni,
            prefix,
            every_start=True,
            why="WARM_ENI_TARGET is 0 and neither WARM_IP_TARGET nor MINIMUM_IP_TARGET is set",
            effect="ipamd keeps no warm pool at all: every pod start waits for EC2 to assign an address, and "
            "scaling out makes one EC2 call per pod on every node at once, until EC2 throttles.",
        )


def _values(cni: VpcCniSettings) -> tuple[dict[str, int], list[str]]:
    values = dict(DEFAULTS)
    unreadable = [f"{name} (set through valueFrom)" for name in cni.unresolved if name in DEFAULTS]
    for name in DEFAULTS:
        raw = cni.env.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[name] = int(raw.strip())
        except ValueError:
            unreadable.append(f"{name}={raw!r} (not an integer)")
    return values, unreadable


def _problem(cni: VpcCniSettings, prefix: bool, every_start: bool, why: str, effect: str) -> Problem:
    return Problem(
        severity=Severity.INFO,
        resource=RESOURCE,
        title="VPC CNI calls EC2 on every pod start" if every_start else "VPC CNI warm pool too small",
        message=f"In DaemonSet kube-system/aws-node{_version(cni)}, {why}: {effect}",
        remediation="Set MINIMUM_IP_TARGET to about the number of pods a node runs and keep WARM_IP_TARGET small "
        "(e.g. MINIMUM_IP_TARGET=30, WARM_IP_TARGET=2), or keep the default WARM_ENI_TARGET=1; with "
        "prefix delegation, WARM_PREFIX_TARGET=1. See " + CNI_DOCS,
        details={
            "settings": dict(sorted(cni.env.items())),
            "prefix_delegation": prefix,
            "forces_ec2_call_per_pod_start": every_start,
            "cni_version": cni.version,
        },
    )


def _unreadable(cni: VpcCniSettings, unreadable: list[str]) -> Problem:
    return Problem(
        severity=Severity.INFO,
        resource=RESOURCE,
        title="VPC CNI warm settings cannot be evaluated",
        message=f"In DaemonSet kube-system/aws-node{_version(cni)}, eksmon cannot read "
        + ", ".join(unreadable)
        + ", so it cannot tell whether pod starts call the EC2 API.",
        remediation="Set the VPC CNI warm settings as plain integer values (EKS add-on configuration values "
        "do so), so that they can be checked.",
        details={
            "settings": dict(sorted(cni.env.items())),
            "unreadable": unreadable,
            "cni_version": cni.version,
        },
    )


def _version(cni: VpcCniSettings) -> str:
    return f" (VPC CNI {cni.version})" if cni.version else ""
