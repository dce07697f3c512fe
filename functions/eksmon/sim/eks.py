"""EKS behaviour moto lacks: version calendar, upgrade policy, access config, health, logging,
insights, add-ons, access entries with their access policies and Provisioned Control Plane tiers
(``controlPlaneScalingConfig``, ``controlPlaneScalingTiers``), in the EKS REST-JSON wire format."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from werkzeug.wrappers import Response

from eksmon.sim.fleet import DEMO_FLEET, DemoCluster, DemoInsight, DemoUpdate
from eksmon.sim.server import Extension, SimRequest, Simulator, error_response, json_response
from eksmon.tiers import GIB, PUBLISHED_TIERS, STANDARD
from eksmon.versions import BUNDLED_CALENDAR

PAGE = 3  # small pages by default, so every client must follow nextToken
ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/"

# add-on versions, newest first, each with the Kubernetes minor versions it supports
ADDON_CATALOGUE: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "vpc-cni": [
        ("v1.21.1-eksbuild.1", ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")),
        ("v1.20.4-eksbuild.1", ("1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35")),
        ("v1.19.0-eksbuild.1", ("1.28", "1.29", "1.30", "1.31", "1.32")),
        ("v1.18.3-eksbuild.1", ("1.27", "1.28", "1.29", "1.30", "1.31", "1.32")),
    ],
    "coredns": [
        ("v1.13.1-eksbuild.1", ("1.34", "1.35", "1.36")),
        ("v1.12.3-eksbuild.1", ("1.33", "1.34", "1.35")),
        ("v1.11.4-eksbuild.2", ("1.31", "1.32", "1.33")),
    ],
    "kube-proxy": [(f"v1.{m}.0-eksbuild.2", (f"1.{m}",)) for m in range(36, 27, -1)],
}


@dataclass
class ClusterExtra:
    status: str | None = None
    support_type: str = "EXTENDED"
    authentication_mode: str = "API_AND_CONFIG_MAP"
    logs_enabled: tuple[str, ...] = ()
    health_issues: list[dict[str, Any]] = field(default_factory=list)
    insights: list[dict[str, Any]] = field(default_factory=list)
    addons: dict[str, str] = field(default_factory=dict)
    addon_issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # add-on -> health.issues
    access_entries: list[str] = field(default_factory=list)
    # principal ARN -> associated access policies, as ListAssociatedAccessPolicies returns them
    access_policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # principal ARN -> (kubernetesGroups, type) of the entries created through CreateAccessEntry
    access_entry_details: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    tier: str = STANDARD
    hpa_sync_period: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)  # DescribeUpdate docs, with their target
    endpoint: str | None = None
    certificate_authority: str | None = None


class EksExtension(Extension):
    service = "eks"
    seed_order = 10  # clusters first: every other extension seeds around them

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.extra: dict[tuple[str, str, str], ClusterExtra] = {}
        self.now: datetime | None = None  # None: the real clock; the demo freezes it
        self.versions_available = True
        self.subnets = _Subnets()

    def reset(self) -> None:
        self.extra.clear()
        self.subnets = _Subnets()
        self.now = None
        self.versions_available = True

    def cluster(self, account: str, region: str, name: str) -> ClusterExtra:
        return self.extra.setdefault((account, region, name), ClusterExtra())

    def set_kubernetes_endpoint(self, account: str, region: str, name: str, url: str, ca_b64: str) -> None:
        extra = self.cluster(account, region, name)
        extra.endpoint, extra.certificate_authority = url, ca_b64

    # -- request routing ---------------------------------------------------------------------------
    def handle(self, req: SimRequest) -> Response | None:
        path = req.path
        if req.method == "GET" and path == "/cluster-versions":
            return self._cluster_versions(req)
        if req.method == "GET" and path == "/addons/supported-versions":
            return self._addon_versions(req)
        policies = re.fullmatch(r"/clusters/([^/]+)/access-entries/(.+)/access-policies", path)
        if policies is not None and req.method == "GET":
            return self._access_policies(req, *policies.groups())
        entry = re.fullmatch(r"/clusters/([^/]+)/access-entries(?:/(.+))?", path)
        if entry is not None and (req.method == "POST" or entry.group(2) is not None):
            return self._access_entry(req, *entry.groups())
        updates = re.fullmatch(r"/clusters/([^/]+)/updates(?:/([^/]+))?", path)
        if updates is not None and req.method == "GET":
            return self._updates(req, *updates.groups())
        m = re.fullmatch(r"/clusters/([^/]+)/(insights|addons|access-entries)(?:/([^/]+))?", path)
        if m is None:
            return None
        name, kind, item = m.groups()
        if (req.account, req.region, name) not in self.extra:
            return error_response(
                req, "ResourceNotFoundException", f"No cluster found for name: {name}.", 404
            )
        extra = self.extra[(req.account, req.region, name)]
        if kind == "insights" and item is None and req.method == "POST":
            summaries = [
                {k: v for k, v in i.items() if k != "categorySpecificSummary"} for i in extra.insights
            ]
            categories = (req.json().get("filter") or {}).get("categories")
            if categories:
                summaries = [s for s in summaries if s["category"] in categories]
            return self._page(req, "insights", summaries, token_source="json")
        if kind == "insights" and item is not None:
            found = next((i for i in extra.insights if i["id"] == item), None)
            if found is None:
                return error_response(req, "ResourceNotFoundException", f"No insight {item}", 404)
            return json_response({"insight": found})
        if kind == "addons" and item is None:
            return self._page(req, "addons", sorted(extra.addons))
        if kind == "addons" and item is not None:
            if item not in extra.addons:
                return error_response(req, "ResourceNotFoundException", f"No addon: {item}", 404)
            doc = self._addon(req, name, item, extra.addons[item])
            doc["health"] = {"issues": extra.addon_issues.get(item, [])}
            return json_response({"addon": doc})
        if kind == "access-entries" and item is None:
            entries = extra.access_entries
            policy = req.query.get("associatedPolicyArn", [None])[0]
            if policy:  # only the entries associated with that access policy (at any scope)
                entries = [
                    e
                    for e in entries
                    if any(p["policyArn"] == policy for p in extra.access_policies.get(e, []))
                ]
            return self._page(req, "accessEntries", entries)
        return None

    def after(self, req: SimRequest, status: int, body: bytes) -> bytes | None:
        m = re.fullmatch(r"/clusters/([^/]+)", req.path)
        if req.method != "GET" or m is None:
            return None
        extra = self.extra.get((req.account, req.region, m.group(1)))
        if extra is None:
            return None  # a plain moto cluster: moto's answer as it is
        doc = json.loads(body)
        c = doc["cluster"]
        if extra.status:
            c["status"] = extra.status
        c["upgradePolicy"] = {"supportType": extra.support_type}
        c["accessConfig"] = {"authenticationMode": extra.authentication_mode}
        if extra.tier != STANDARD:  # standard clusters leave it out: absent means standard
            c["controlPlaneScalingConfig"] = {"tier": extra.tier}
        if extra.hpa_sync_period is not None:
            c["kubeControllerManagerConfig"] = {
                "horizontalPodAutoscalerControllerConfig": {
                    "horizontalPodAutoscalerSyncPeriod": extra.hpa_sync_period
                }
            }
        c["health"] = {"issues": extra.health_issues}
        off = [
            t
            for t in ("api", "audit", "authenticator", "controllerManager", "scheduler")
            if t not in extra.logs_enabled
        ]
        c["logging"] = {
            "clusterLogging": [
                e
                for e in (
                    {"types": list(extra.logs_enabled), "enabled": True},
                    {"types": off, "enabled": False},
                )
                if e["types"]
            ]
        }
        if extra.endpoint:
            c["endpoint"] = extra.endpoint
            c["certificateAuthority"] = {"data": extra.certificate_authority}
        return json.dumps(doc).encode()

    # -- operations --------------------------------------------------------------------------------
    def _today(self) -> date:
        return (self.now or datetime.now(UTC)).date()

    def _cluster_versions(self, req: SimRequest) -> Response:
        if not self.versions_available:
            return error_response(
                req, "InvalidRequestException", "DescribeClusterVersions is not available", 400
            )
        today = self._today()
        include_all = req.query.get("includeAll", ["false"])[0] == "true"
        wanted = set(req.query.get("clusterVersions", []))
        items = []
        for v in sorted(
            BUNDLED_CALENDAR.values(), key=lambda d: tuple(map(int, d.version.split("."))), reverse=True
        ):
            if (
                v.release is None
                or v.release > today
                or v.end_of_standard is None
                or v.end_of_extended is None
            ):
                continue
            status = (
                "STANDARD_SUPPORT"
                if today < v.end_of_standard
                else "EXTENDED_SUPPORT"
                if today < v.end_of_extended
                else "UNSUPPORTED"
            )
            if status == "UNSUPPORTED" or (not include_all and status != "STANDARD_SUPPORT"):
                continue
            if wanted and v.version not in wanted:
                continue
            items.append(
                {
                    "clusterVersion": v.version,
                    "clusterType": "eks",
                    "defaultPlatformVersion": "eks.1",
                    "defaultVersion": False,
                    "releaseDate": _epoch(v.release),
                    "endOfStandardSupportDate": _epoch(v.end_of_standard),
                    "endOfExtendedSupportDate": _epoch(v.end_of_extended),
                    "status": status.split("_", maxsplit=1)[0],
                    "versionStatus": status,
                    "kubernetesPatchVersion": f"{v.version}.0",
                    "controlPlaneScalingTiers": _scaling_tiers(v.version),
                }
            )
        standard = [i for i in items if i["versionStatus"] == "STANDARD_SUPPORT"]
        if standard:
            standard[min(1, len(standard) - 1)]["defaultVersion"] = True
        return self._page(req, "clusterVersions", items)

    def _access_entry(self, req: SimRequest, cluster: str, principal: str | None) -> Response | None:
        """CreateAccessEntry (POST, no principal in the path) and DescribeAccessEntry (GET), as EKS
        answers them: 409 ResourceInUseException for an entry that exists, 400 on a CONFIG_MAP cluster."""
        extra = self.extra.get((req.account, req.region, cluster))
        if extra is None:
            return error_response(
                req, "ResourceNotFoundException", f"No cluster found for name: {cluster}.", 404
            )
        if principal is None:
            body = req.json()
            principal = str(body.get("principalArn", ""))
            if extra.authentication_mode == "CONFIG_MAP":
                return error_response(
                    req,
                    "InvalidRequestException",
                    "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
                    "to perform this operation.",
                )
            if principal in extra.access_entries:
                return error_response(
                    req,
                    "ResourceInUseException",
                    "The specified access entry resource is already in use on this cluster.",
                    409,
                )
            extra.access_entries = sorted([*extra.access_entries, principal])
            extra.access_entry_details[principal] = (
                list(body.get("kubernetesGroups") or []),
                str(body.get("type") or "STANDARD"),
            )
        elif req.method != "GET":
            return None
        if principal not in extra.access_entries:
            return error_response(
                req, "ResourceNotFoundException", f"No access entry for {principal} in {cluster}.", 404
            )
        groups, kind = extra.access_entry_details.get(principal, ([], "STANDARD"))
        return json_response(
            {
                "accessEntry": {
                    "clusterName": cluster,
                    "principalArn": principal,
                    "kubernetesGroups": groups,
                    "accessEntryArn": f"arn:aws:eks:{req.region}:{req.account}:access-entry/{cluster}/"
                    f"{uuid.uuid5(uuid.NAMESPACE_URL, principal)}",
                    "type": kind,
                    "username": principal,
                }
            }
        )

    def _updates(self, req: SimRequest, cluster: str, update_id: str | None) -> Response:
        """ListUpdates (ids in no time order, as EKS lists them) and DescribeUpdate of one resource."""
        extra = self.extra.get((req.account, req.region, cluster))
        if extra is None:
            return error_response(
                req, "ResourceNotFoundException", f"No cluster found for name: {cluster}.", 404
            )
        nodegroup = req.query.get("nodegroupName", [""])[0]
        addon = req.query.get("addonName", [""])[0]
        target = ("nodegroup", nodegroup) if nodegroup else ("addon", addon) if addon else ("cluster", "")
        mine = [u for u in extra.updates if (u["kind"], u["target"]) == target]
        if update_id is None:
            return self._page(req, "updateIds", sorted(u["doc"]["id"] for u in mine))
        found = next((u["doc"] for u in mine if u["doc"]["id"] == update_id), None)
        if found is None:
            return error_response(
                req, "ResourceNotFoundException", f"No update found for ID: {update_id}.", 404
            )
        return json_response({"update": found})

    def _access_policies(self, req: SimRequest, cluster: str, principal: str) -> Response:
        extra = self.extra.get((req.account, req.region, cluster))
        if extra is None or principal not in extra.access_entries:
            return error_response(
                req, "ResourceNotFoundException", f"No access entry for {principal} in {cluster}.", 404
            )
        return self._page(req, "associatedAccessPolicies", extra.access_policies.get(principal, []))

    def _addon_versions(self, req: SimRequest) -> Response:
        names = req.query.get("addonName") or sorted(ADDON_CATALOGUE)
        k8s = req.query.get("kubernetesVersion", [None])[0]
        addons = []
        for name in names:
            versions = [
                {
                    "addonVersion": v,
                    "architecture": ["amd64", "arm64"],
                    "compatibilities": [
                        {"clusterVersion": c, "platformVersions": ["*"], "defaultVersion": i == 0}
                        for c in clusters
                    ],
                    "requiresConfiguration": False,
                }
                for i, (v, clusters) in enumerate(ADDON_CATALOGUE.get(name, []))
                if k8s is None or k8s in clusters
            ]
            if versions:
                addons.append(
                    {
                        "addonName": name,
                        "type": "networking",
                        "addonVersions": versions,
                        "publisher": "eks",
                        "owner": "aws",
                    }
                )
        return self._page(req, "addons", addons, size=2)

    def _addon(self, req: SimRequest, cluster: str, name: str, version: str) -> dict[str, Any]:
        return {
            "addonName": name,
            "clusterName": cluster,
            "status": "ACTIVE",
            "addonVersion": version,
            "health": {"issues": []},
            "addonArn": f"arn:aws:eks:{req.region}:{req.account}:addon/{cluster}/{name}/{uuid.uuid5(uuid.NAMESPACE_DNS, cluster + name)}",
        }

    def _page(
        self, req: SimRequest, key: str, items: list[Any], size: int = PAGE, token_source: str = "query"
    ) -> Response:
        if token_source == "json":
            body = req.json()
            token, max_results = body.get("nextToken"), body.get("maxResults")
        else:
            token = req.query.get("nextToken", [None])[0]
            max_results = req.query.get("maxResults", [None])[0]
        start = int(token) if token else 0
        size = int(max_results) if max_results else size
        payload: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            payload["nextToken"] = str(start + size)
        return json_response(payload)

    # -- seeding ----------------------------------------------------------------------------------
    def add_cluster(self, c: DemoCluster, account: str) -> None:
        """Create one cluster through the EKS API (moto) and record what moto does not model."""
        from moto.eks.models import eks_backends

        backend = eks_backends[account][c.region]  # moto's own model, seeded directly (fast)
        subnets, gone = self.subnets.of(c, account)
        backend.create_cluster(
            name=c.name,
            version=c.version,
            role_arn=f"arn:aws:iam::{account}:role/eks-cluster-role",
            resources_vpc_config={"subnetIds": subnets},
        )
        for ng_name, ng_version in c.nodegroups:
            group = backend.create_nodegroup(
                cluster_name=c.name,
                nodegroup_name=ng_name,
                version=ng_version,
                node_role=f"arn:aws:iam::{account}:role/eks-node-role",
                subnets=["subnet-0a1b2c3d"],
                scaling_config={"minSize": 1, "maxSize": 10, "desiredSize": 3},
            )
            group.health = {  # a dict of its own: moto's default one is shared by every node group
                "issues": [
                    {"code": code, "message": msg, "resourceIds": [f"eks-{ng_name}-asg"]}
                    for ng, code, msg in c.nodegroup_issues
                    if ng == ng_name
                ]
            }
        extra = self.cluster(account, c.region, c.name)
        extra.status = c.status
        extra.support_type = c.support_type
        extra.authentication_mode = c.authentication_mode
        extra.logs_enabled = c.logs_enabled
        extra.health_issues = [
            {"code": code, "message": msg, "resourceIds": gone or subnets[-1:]}
            for code, msg in c.health_issues
        ]
        extra.addons = dict(c.addons)
        for addon, code, msg in c.addon_issues:
            extra.addon_issues.setdefault(addon, []).append(
                {"code": code, "message": msg, "resourceIds": [f"kube-system/{addon}"]}
            )
        extra.insights = [_insight(c, i) for i in c.insights]
        extra.tier = c.tier
        extra.hpa_sync_period = c.hpa_sync_period
        extra.updates = [_update(c, u, n, self.now or datetime.now(UTC)) for n, u in enumerate(c.updates)]
        admin = f"arn:aws:iam::{account}:role/platform-admin"
        extra.access_entries = [admin] if c.authentication_mode != "CONFIG_MAP" else []
        if extra.access_entries:
            extra.access_policies = {admin: [_association("AmazonEKSClusterAdminPolicy")]}
        if "no-admin-entry" in c.scenarios:  # admin only inside one namespace, plus a viewer
            viewer = f"arn:aws:iam::{account}:role/auditors"
            extra.access_entries = [admin, viewer]
            extra.access_policies = {
                admin: [_association("AmazonEKSAdminPolicy", ("checkout",))],
                viewer: [_association("AmazonEKSViewPolicy")],
            }

    def seed_demo(self, sim: Simulator) -> None:
        from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW

        self.now = DEMO_NOW
        for c in DEMO_FLEET:
            self.add_cluster(c, DEMO_ACCOUNT)


class _Subnets:
    """The fleet's subnets in moto's EC2, made with the free addresses each cluster asks for.

    They go in the region's default VPC, each in its own /24 slot of 172.31.128.0/17 (above the default
    subnets), so the VPC and network-interface counts the quota checks read stay as they are; addresses
    are taken by /32 prefix reservations, which count against AvailableIpAddressCount as ENIs do. Zone
    letters are the region's zones in order (moto's ap-northeast-1 has a, c and d, as AWS's has), and
    clusters of one region asking for the same zone and free addresses share a subnet, as a fleet's
    clusters share a VPC's subnets: a region's 128 slots then hold fleets of any size."""

    def __init__(self) -> None:
        self.slots: dict[tuple[str, str], int] = {}  # next free /24, by (account, region)
        self.made: dict[tuple[str, str, str, int], str] = {}  # (account, region, zone, free) -> id

    def of(self, c: DemoCluster, account: str) -> tuple[list[str], list[str]]:
        """The cluster's subnet ids, and those of them the fleet says are gone (ids that exist nowhere)."""
        from moto.ec2.models import ec2_backends

        ec2 = ec2_backends[account][c.region]
        ids: list[str] = []
        gone: list[str] = []
        for n, (letter, free) in enumerate(c.subnets):
            if free is None:
                ids.append(f"subnet-{uuid.uuid5(uuid.NAMESPACE_URL, f'{c.region}/{c.name}/{n}').hex[:17]}")
                gone.append(ids[-1])
                continue
            key = (account, c.region, letter, free)
            if key not in self.made:
                self.made[key] = self._make(ec2, c.region, account, letter, free)
            ids.append(self.made[key])
        return ids, gone

    def _make(self, ec2: Any, region: str, account: str, letter: str, free: int) -> str:
        slot = self.slots.get((account, region), 128)
        if slot > 255:
            raise ValueError(f"{region}: more than 128 different subnets asked for in one region")
        self.slots[(account, region)] = slot + 1
        zones = sorted(z.name for z in ec2.describe_availability_zones())
        vpc = next(v for v in ec2.describe_vpcs() if v.is_default)
        prefix = next(p for p in range(28, 23, -1) if 2 ** (32 - p) - 5 >= free)  # AWS keeps 5 of each
        base = f"172.31.{slot}"
        zone = zones[ord(letter) - ord("a")]
        subnet = ec2.create_subnet(vpc.id, f"{base}.0/{prefix}", availability_zone=zone)
        for i in range(2 ** (32 - prefix) - 5 - free):
            ec2.create_subnet_cidr_reservation(subnet.id, "prefix", f"{base}.{4 + i}/32")
        return str(subnet.id)


def _update(c: DemoCluster, u: DemoUpdate, n: int, now: datetime) -> dict[str, Any]:
    created = now.timestamp() - u.days_ago * 86400
    doc: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.region}/{c.name}/update/{n}")),
        "status": u.status,
        "type": u.type,
        "params": [],
        "createdAt": created,
        "errors": [],
    }
    if u.error_code:
        doc["errors"] = [
            {"errorCode": u.error_code, "errorMessage": u.error_message, "resourceIds": [u.target or c.name]}
        ]
    return {"kind": u.kind, "target": u.target, "doc": doc}


def _insight(c: DemoCluster, i: DemoInsight) -> dict[str, Any]:
    next_version = f"1.{int(c.version.split('.')[1]) + 1}"
    doc: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.region}/{c.name}/{i.name}")),
        "name": i.name,
        "category": i.category,
        "kubernetesVersion": next_version,
        "lastRefreshTime": 1764000000,
        "lastTransitionTime": 1763000000,
        "description": f"Checks for {i.name.lower()} before upgrading to {next_version}.",
        "insightStatus": {
            "status": i.status,
            "reason": i.reason
            or {
                "ERROR": "Deprecated API usage detected within last 30 days.",
                "WARNING": "Some node groups run an older kubelet minor version.",
                "PASSING": "No issue detected.",
            }.get(i.status, "Unknown"),
        },
        "recommendation": i.recommendation
        or (
            "Update the listed clients to the replacement API before upgrading."
            if i.deprecated_api
            else "Upgrade the node groups to the control plane's version."
        ),
        "additionalInfo": {
            "EKS update documentation": "https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html"
        },
        "resources": [],
        "categorySpecificSummary": {"deprecationDetails": [], "addonCompatibilityDetails": []},
    }
    if i.deprecated_api:
        doc["categorySpecificSummary"]["deprecationDetails"] = [
            {
                "usage": i.deprecated_api,
                "replacedWith": i.replaced_with,
                "stopServingVersion": i.stop_serving_version,
                "startServingReplacementVersion": "1.29",
                "clientStats": [
                    {"userAgent": ua, "numberOfRequestsLast30Days": n, "lastRequestTime": 1764000000}
                    for ua, n in i.user_agents
                ],
            }
        ]
    return doc


def _association(policy: str, namespaces: tuple[str, ...] = ()) -> dict[str, Any]:
    scope: dict[str, Any] = (
        {"type": "namespace", "namespaces": list(namespaces)} if namespaces else {"type": "cluster"}
    )
    return {
        "policyArn": ACCESS_POLICY + policy,
        "accessScope": scope,
        "associatedAt": 1_700_000_000,
        "modifiedAt": 1_700_000_000,
    }


def _scaling_tiers(version: str) -> list[dict[str, Any]]:
    """The tiers DescribeClusterVersions lists for a version (1.28+; 100 pods/s before 1.30)."""
    minor = tuple(int(x) for x in version.split(".")[:2])
    if minor < (1, 28):
        return []
    return [
        {
            "tierName": t.name,
            "apiRequestConcurrency": t.seats,
            "podSchedulingRatePerSecond": int(t.pods_per_second if minor >= (1, 30) else 100)
            if t.pods_per_second
            else None,
            "clusterDatabaseSizeGb": t.db_bytes // GIB,
        }
        for t in PUBLISHED_TIERS
    ]


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def install(sim: Simulator) -> None:
    import functools

    import moto.eks.models

    # moto re-reads botocore's endpoint data for every role ARN it validates; the ARNs repeat.
    validate = getattr(moto.eks.models, "validate_role_arn")  # noqa: B009 - not exported by moto
    moto.eks.models.validate_role_arn = functools.lru_cache(maxsize=256)(validate)  # type: ignore[attr-defined]
    sim.extensions.append(EksExtension(sim))
