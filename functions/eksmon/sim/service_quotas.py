"""Service Quotas as AWS answers it, for the services an EKS fleet runs into; and the demo's quota usage.

moto 5.2.5 knows only the ``vpc`` defaults and neither lists applied values nor paginates. This
extension answers the four read operations the monitor uses, in the JSON 1.1 wire format:
``ListServiceQuotas`` (applied values only, as AWS: a quota with no applied value is missing
there), ``ListAWSDefaultServiceQuotas``, ``GetServiceQuota`` and ``GetAWSDefaultServiceQuota``,
with ``MaxResults``/``NextToken`` pagination (at most ``page_size`` items a page, 100 as AWS).

The quota data below is AWS's, kept independent of the product's catalogue (a test checks the
catalogue against it): names and defaults from ListServiceQuotas dumps of real accounts, moto's
VPC list and the services' quota pages; ``UsageMetric`` where AWS publishes one (EC2 vCPUs).

Test and demo controls, per account and region:

    sq = sim.extension(ServiceQuotasExtension)
    sq.set_applied(account, region, "ec2", "L-1216C47A", 1920)   # an applied value
    sq.set_applied(account, region, "eks", "L-BD136A63", None)   # no applied value: default only
    sq.remove(account, region, "ec2", "L-2C3B7624")              # the quota does not exist there
    sq.set_error(account, region, "ec2", "L-1216C47A", "DEPENDENCY_THROTTLING_ERROR", "...")
    sq.unavailable.add((region, "elasticloadbalancing"))         # the whole service is unknown there

Global (IAM) quotas live in ``us-east-1`` and are unknown elsewhere. ``SERVICE_QUOTA(m)`` in the
CloudWatch extension's metric math resolves through :meth:`service_quota_for_metric`.

``seed_demo`` gives the demo fleet's account quotas and usage: some near their limits (about 85 %
and 97 %), the rest low; see ``DEMO_USAGE`` and the ``quota-*`` scenario tags of ``sim.fleet``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Response

from eksmon.sim.server import Extension, SimRequest, Simulator, error_response, json_response

GLOBAL_REGION = "us-east-1"
PAGE = 100

SERVICE_NAMES = {
    "eks": "Amazon Elastic Kubernetes Service (Amazon EKS)",
    "ec2": "Amazon Elastic Compute Cloud (Amazon EC2)",
    "vpc": "Amazon Virtual Private Cloud (Amazon VPC)",
    "elasticloadbalancing": "Elastic Load Balancing (ELB)",
    "iam": "AWS Identity and Access Management (IAM)",
}


@dataclass(frozen=True)
class AwsQuota:
    service: str
    code: str
    name: str
    default: float
    adjustable: bool = True
    global_quota: bool = False
    usage_metric: dict[str, Any] | None = None


def _vcpu(code: str, family: str, name: str, default: float) -> AwsQuota:
    return AwsQuota(
        "ec2",
        code,
        name,
        default,
        usage_metric={
            "MetricNamespace": "AWS/Usage",
            "MetricName": "ResourceCount",
            "MetricDimensions": {
                "Class": f"{family}/OnDemand",
                "Resource": "vCPU",
                "Service": "EC2",
                "Type": "Resource",
            },
            "MetricStatisticRecommendation": "Maximum",
        },
    )


def _ec2_hosts() -> list[AwsQuota]:
    """Dedicated-host quotas: real codes from a ListServiceQuotas dump; they make ec2 span pages."""
    hosts = (
        ("L-949445B0", "a1"), ("L-8D142A2E", "c3"), ("L-E4BF28E0", "c4"), ("L-81657574", "c5"),
        ("L-C93F66A2", "c5d"), ("L-20F13EBD", "c5n"), ("L-8B27377A", "d2"), ("L-5C4CD236", "f1"),
        ("L-74BBB7CB", "g2"), ("L-DE82EABA", "g3"), ("L-9675FDCD", "g3s"), ("L-CAE24619", "g4dn"),
        ("L-84391ECC", "h1"), ("L-6222C1B6", "i2"), ("L-8E60B0B1", "i3"), ("L-77EE2B11", "i3en"),
        ("L-3C82F907", "m3"), ("L-EF30B25E", "m4"), ("L-8B7BF662", "m5"), ("L-B10F70D6", "m5a"),
        ("L-74F41837", "m5ad"), ("L-8CCBD91B", "m5d"), ("L-DA07429F", "m5dn"), ("L-24D7D4AD", "m5n"),
        ("L-2753CF59", "p2"), ("L-A0A19F79", "p3"), ("L-B601B3B6", "p3dn"), ("L-B7208018", "r3"),
        ("L-313524BA", "r4"), ("L-EA4FD6CF", "r5"), ("L-8FE30D52", "r5a"), ("L-EC7178B6", "r5ad"),
        ("L-8814B54F", "r5d"), ("L-4AB14223", "r5dn"), ("L-52EF324A", "r5n"), ("L-DE3D9563", "x1"),
        ("L-DEF8E115", "x1e"), ("L-F035E935", "z1d"),
    )  # fmt: skip
    padding = [AwsQuota("ec2", code, f"Running Dedicated {family} Hosts", 2) for code, family in hosts]
    # enough further quotas for ec2 to need more than one page of 100, as in a real account
    padding += [AwsQuota("ec2", f"L-5E{i:06X}", f"Simulated EC2 quota {i}", 10) for i in range(70)]
    return padding


def _vpc_quotas() -> list[AwsQuota]:
    from moto.servicequotas.resources.default_quotas.vpc import VPC_DEFAULT_QUOTAS

    quotas: list[dict[str, Any]] = list(VPC_DEFAULT_QUOTAS)
    return [
        AwsQuota("vpc", str(q["QuotaCode"]), str(q["QuotaName"]), float(q["Value"]), bool(q["Adjustable"]))
        for q in quotas
    ]


AWS_QUOTAS: tuple[AwsQuota, ...] = (
    AwsQuota("eks", "L-1194D53C", "Clusters", 100),
    AwsQuota("eks", "L-6D54EA21", "Managed node groups per cluster", 30),
    AwsQuota("eks", "L-BD136A63", "Nodes per managed node group", 450),
    AwsQuota("eks", "L-33415657", "Fargate profiles per cluster", 10),
    AwsQuota("eks", "L-23414FF3", "Label pairs per Fargate profile selector", 5),
    AwsQuota("eks", "L-D78D8AF8", "Selectors per Fargate profile", 5),
    AwsQuota("eks", "L-11427A54", "Control plane security groups per cluster", 4, adjustable=False),
    AwsQuota("eks", "L-93A74D60", "Public endpoint access CIDR ranges per cluster", 40, adjustable=False),
    AwsQuota("eks", "L-FDFA5F81", "Registered clusters", 10),
    _vcpu("L-1216C47A", "Standard", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 5),
    _vcpu("L-DB2E81BA", "G", "Running On-Demand G and VT instances", 0),
    _vcpu("L-417A185B", "P", "Running On-Demand P instances", 0),
    _vcpu("L-1945791B", "Inf", "Running On-Demand Inf instances", 0),
    _vcpu("L-2C3B7624", "Trn", "Running On-Demand Trn instances", 0),
    _vcpu("L-7295265B", "X", "Running On-Demand X instances", 0),
    _vcpu("L-74FC7D96", "F", "Running On-Demand F instances", 0),
    AwsQuota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5),
    AwsQuota("ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 5),
    *_ec2_hosts(),
    *_vpc_quotas(),
    AwsQuota("elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", 50),
    AwsQuota("elasticloadbalancing", "L-69A177A2", "Network Load Balancers per Region", 50),
    AwsQuota("elasticloadbalancing", "L-B22855CB", "Target Groups per Region", 3000),
    AwsQuota("elasticloadbalancing", "L-E9E9831D", "Classic Load Balancers per Region", 20),
    AwsQuota("elasticloadbalancing", "L-57A373D6", "Listeners per Network Load Balancer", 50),
    AwsQuota("elasticloadbalancing", "L-7E6692B2", "Targets per Application Load Balancer", 1000),
    AwsQuota("elasticloadbalancing", "L-EEF1AD04", "Targets per Network Load Balancer", 3000),
    AwsQuota("elasticloadbalancing", "L-A0D0B863", "Targets per Target Group per Region", 1000),
    AwsQuota("iam", "L-FE177D64", "Roles per account", 1000, global_quota=True),
    AwsQuota("iam", "L-858F3967", "OpenId connect providers per account", 100, global_quota=True),
    AwsQuota("iam", "L-C07B4B0D", "Role trust policy length", 2048, global_quota=True),
    AwsQuota("iam", "L-0DA4ABF3", "Managed policies per role", 10, global_quota=True),
    AwsQuota("iam", "L-6E65F664", "Instance profiles per account", 1000, global_quota=True),
    AwsQuota("iam", "L-E95E4862", "Customer managed policies per account", 1500, global_quota=True),
    AwsQuota("iam", "L-F55AF5E4", "Users per account", 5000, adjustable=False, global_quota=True),
)

_Key = tuple[str, str, str, str]  # account, region, service, code


class ServiceQuotasExtension(Extension):
    service = "servicequotas"
    seed_order = 30  # after the EKS clusters (10) and CloudWatch (20)

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.quotas: dict[tuple[str, str], AwsQuota] = {(q.service, q.code): q for q in AWS_QUOTAS}
        self.applied: dict[_Key, float | None] = {}  # absent key: the applied value is the default
        self.removed: set[_Key] = set()
        self.errors: dict[_Key, tuple[str, str]] = {}
        self.unavailable: set[tuple[str, str]] = set()  # (region, service)
        self.page_size = PAGE

    def reset(self) -> None:
        self.applied.clear()
        self.removed.clear()
        self.errors.clear()
        self.unavailable.clear()
        self.page_size = PAGE

    # -- controls -----------------------------------------------------------------------------------
    def set_applied(self, account: str, region: str, service: str, code: str, value: float | None) -> None:
        self._known(service, code)
        self.applied[(account, self._region(service, region), service, code)] = value

    def remove(self, account: str, region: str, service: str, code: str) -> None:
        self._known(service, code)
        self.removed.add((account, self._region(service, region), service, code))

    def set_error(self, account: str, region: str, service: str, code: str, error: str, message: str) -> None:
        self._known(service, code)
        self.errors[(account, self._region(service, region), service, code)] = (error, message)

    def value(self, account: str, region: str, service: str, code: str) -> float | None:
        """The applied value (None when only the default exists)."""
        key = (account, self._region(service, region), service, code)
        return self.applied.get(key, self.quotas[(service, code)].default)

    def service_quota_for_metric(
        self, account: str, region: str, namespace: str, name: str, dimensions: dict[str, str]
    ) -> float | None:
        """The quota whose UsageMetric this is (for SERVICE_QUOTA() in metric math)."""
        for q in self.quotas.values():
            m = q.usage_metric
            if m and (m["MetricNamespace"], m["MetricName"], m["MetricDimensions"]) == (
                namespace,
                name,
                dimensions,
            ):
                applied = self.value(account, region, q.service, q.code)
                return q.default if applied is None else applied
        return None

    def _known(self, service: str, code: str) -> None:
        if (service, code) not in self.quotas:
            raise KeyError(f"the simulator has no quota {service}/{code}")

    def _region(self, service: str, region: str) -> str:
        return GLOBAL_REGION if self._is_global(service) else region

    def _is_global(self, service: str) -> bool:
        return any(q.global_quota for q in self.quotas.values() if q.service == service)

    # -- requests -----------------------------------------------------------------------------------
    def handle(self, req: SimRequest) -> Response | None:
        op = req.operation
        body = req.json()
        service = body.get("ServiceCode", "")
        if op not in {
            "ListServiceQuotas",
            "ListAWSDefaultServiceQuotas",
            "GetServiceQuota",
            "GetAWSDefaultServiceQuota",
        }:
            return None
        if not service:
            return error_response(req, "IllegalArgumentException", "ServiceCode is required", 400)
        if not self._exists(req, service):
            return error_response(
                req, "NoSuchResourceException", f"The service {service} is not available in {req.region}", 400
            )
        applied_only = op in {"ListServiceQuotas", "GetServiceQuota"}
        if op.startswith("Get"):
            code = body.get("QuotaCode", "")
            found = next(
                (d for d in self._quotas(req, service, applied_only) if d["QuotaCode"] == code), None
            )
            if found is None:
                return error_response(
                    req, "NoSuchResourceException", f"The quota {service}/{code} has no value here", 400
                )
            return json_response({"Quota": found})
        items = list(self._quotas(req, service, applied_only))
        if body.get("QuotaCode"):
            items = [i for i in items if i["QuotaCode"] == body["QuotaCode"]]
        start = int(body.get("NextToken") or 0)
        size = min(int(body.get("MaxResults") or self.page_size), self.page_size)
        payload: dict[str, Any] = {"Quotas": items[start : start + size]}
        if start + size < len(items):
            payload["NextToken"] = str(start + size)
        return json_response(payload)

    def _exists(self, req: SimRequest, service: str) -> bool:
        if service not in SERVICE_NAMES or (req.region, service) in self.unavailable:
            return False
        return not self._is_global(service) or req.region == GLOBAL_REGION

    def _quotas(self, req: SimRequest, service: str, applied_only: bool) -> Iterator[dict[str, Any]]:
        for q in self.quotas.values():
            if q.service != service:
                continue
            key = (req.account, req.region, service, q.code)
            if key in self.removed:
                continue
            value = self.applied.get(key, q.default) if applied_only else q.default
            if value is None:
                continue
            doc: dict[str, Any] = {
                "ServiceCode": service,
                "ServiceName": SERVICE_NAMES[service],
                "QuotaArn": f"arn:aws:servicequotas:{req.region}:{req.account if applied_only else ''}:"
                f"{service}/{q.code}",
                "QuotaCode": q.code,
                "QuotaName": q.name,
                "Value": float(value),
                "Unit": "None",
                "Adjustable": q.adjustable,
                "GlobalQuota": q.global_quota,
                "QuotaAppliedAtLevel": "ACCOUNT",
            }
            if q.usage_metric:
                doc["UsageMetric"] = q.usage_metric
            if key in self.errors:
                code, message = self.errors[key]
                doc["ErrorReason"] = {"ErrorCode": code, "ErrorMessage": message}
            yield doc

    # -- the demo -----------------------------------------------------------------------------------
    def seed_demo(self, sim: Simulator) -> None:
        from eksmon.sim.fleet import DEMO_ACCOUNT

        for d in DEMO_USAGE:
            for (service, code), value in d.applied.items():
                self.set_applied(DEMO_ACCOUNT, d.region, service, code, value)
            for service, code in d.removed:
                self.remove(DEMO_ACCOUNT, d.region, service, code)
        _seed_usage(sim, DEMO_ACCOUNT)


@dataclass(frozen=True)
class DemoRegionUsage:
    region: str
    applied: dict[tuple[str, str], float | None]  # None: no applied value, only the AWS default
    removed: tuple[tuple[str, str], ...] = ()
    vcpu_history: dict[str, tuple[float, float]] | None = None  # vCPU class -> (7 days ago, now)
    elastic_ips: int = 0
    extra_vpcs: int = 0
    network_interfaces: int = 0
    security_groups: int = 0
    albs: int = 0
    nlbs: int = 0
    target_groups: int = 0


DEMO_USAGE: tuple[DemoRegionUsage, ...] = (
    DemoRegionUsage(
        region="us-east-1",
        applied={
            ("ec2", "L-1216C47A"): 1920,  # usage 1632 vCPUs: 85 %, growing about 26 a day
            ("ec2", "L-DB2E81BA"): 64,
            ("ec2", "L-0263D0A3"): 30,  # 29 Elastic IPs: 96.7 %
            ("elasticloadbalancing", "L-53DA6B97"): 50,
            ("eks", "L-BD136A63"): None,  # default 450; payments-workers runs 437 nodes: 97.1 %
            ("iam", "L-FE177D64"): 1000,
            ("iam", "L-858F3967"): None,  # default 100; one provider per demo cluster
        },
        vcpu_history={"Standard": (1450, 1632), "G": (8, 8)},
        elastic_ips=29,
        extra_vpcs=2,
        network_interfaces=24,
        security_groups=12,
        albs=3,
        nlbs=1,
        target_groups=6,
    ),
    DemoRegionUsage(
        region="eu-west-1",
        applied={
            ("ec2", "L-1216C47A"): 768,  # usage 120: 15.6 %
            ("elasticloadbalancing", "L-53DA6B97"): 20,  # 17 ALBs: 85 %
            ("eks", "L-33415657"): 10,  # ml-training has 9 Fargate profiles: 90 %
        },
        removed=(("ec2", "L-2C3B7624"),),  # no Trn instances in this region: skipped with a note
        vcpu_history={"Standard": (120, 120)},
        elastic_ips=2,
        network_interfaces=9,
        security_groups=4,
        albs=17,
        nlbs=2,
        target_groups=21,
    ),
)
DEMO_NODEGROUP_NODES = 437  # payments-prod/payments-workers (scenario quota-nodegroup-near-limit)
DEMO_FARGATE_PROFILES = 9  # ml-training (scenario quota-fargate-near-limit)
DEMO_IAM_ROLES = 64
VCPU_DIMENSIONS = {"Resource": "vCPU", "Service": "EC2", "Type": "Resource"}


def _seed_usage(sim: Simulator, account: str) -> None:
    """The demo's resources, created in moto's backends directly (fast; the product reads them over HTTP)."""
    from moto.ec2.models import ec2_backends
    from moto.elbv2.models import elbv2_backends
    from moto.iam.models import iam_backends

    from eksmon.sim.cloudwatch import CloudWatchExtension
    from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW

    cw: CloudWatchExtension = sim.extension(CloudWatchExtension)
    for d in DEMO_USAGE:
        ec2 = ec2_backends[account][d.region]
        vpc = ec2.create_vpc("10.20.0.0/16")
        subnets = [
            ec2.create_subnet(vpc.id, f"10.20.{i}.0/24", availability_zone=f"{d.region}{az}")
            for i, az in enumerate("ab")
        ]
        for i in range(d.extra_vpcs - 1):
            ec2.create_vpc(f"10.{30 + i}.0.0/16")
        for _ in range(d.elastic_ips):
            ec2.allocate_address(domain="vpc")
        for i in range(d.network_interfaces):
            ec2.create_network_interface(subnets[i % 2], [], description=f"aws-K8S-eni-{i}")
        groups = [
            ec2.create_security_group(f"eks-demo-{i}", "demo security group", vpc.id).id
            for i in range(d.security_groups)
        ]
        elb = elbv2_backends[account][d.region]
        subnet_ids = [s.id for s in subnets]
        for i in range(d.albs):
            elb.create_load_balancer(f"k8s-alb-{i}", groups[:1], subnet_ids, loadbalancer_type="application")
        for i in range(d.nlbs):
            elb.create_load_balancer(f"k8s-nlb-{i}", [], subnet_ids, loadbalancer_type="network")
        for i in range(d.target_groups):
            elb.create_target_group(f"k8s-tg-{i}", protocol="HTTP", port=80, vpc_id=vpc.id, target_type="ip")
        for family, (then, now) in (d.vcpu_history or {}).items():
            hours = 7 * 24
            cw.put_series(
                account,
                d.region,
                "AWS/Usage",
                "ResourceCount",
                {**VCPU_DIMENSIONS, "Class": f"{family}/OnDemand"},
                start=DEMO_NOW - timedelta(hours=hours, minutes=30),  # the last one at 11:30, before "now"
                step=timedelta(hours=1),
                values=[_wobble(then + (now - then) * i / hours, i, hours) for i in range(hours + 1)],
            )
    iam = iam_backends[account]["global"]
    for i in range(DEMO_IAM_ROLES):
        iam.create_role(f"eks-demo-role-{i}", "{}", "/", None, "demo", [], None)
    for c in DEMO_FLEET:
        iam.create_open_id_connect_provider(
            f"https://oidc.eks.{c.region}.amazonaws.com/id/{c.name.upper().replace('-', '')}",
            ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
            ["sts.amazonaws.com"],
            [],
        )
    _seed_clusters(account)


def _seed_clusters(account: str) -> None:
    from moto.eks.models import eks_backends

    from eksmon.sim.fleet import demo_clusters

    for c in demo_clusters(scenario="quota-nodegroup-near-limit"):
        backend = eks_backends[account][c.region]
        ng = backend.clusters[c.name].nodegroups[c.nodegroups[-1][0]]
        ng.scaling_config = {"minSize": 400, "maxSize": 450, "desiredSize": DEMO_NODEGROUP_NODES}
    for c in demo_clusters(scenario="quota-fargate-near-limit"):
        backend = eks_backends[account][c.region]
        for i in range(DEMO_FARGATE_PROFILES):
            backend.create_fargate_profile(
                f"fp-{i}",
                c.name,
                [{"namespace": f"team-{i}"}],
                f"arn:aws:iam::{account}:role/eks-fargate-pods",
                subnets=["subnet-0a1b2c3d"],
            )


def _wobble(value: float, i: int, last: int) -> float:
    """A little hourly noise below the trend, so the history looks measured; the last hour exact."""
    return float(round(value if i == last else value - abs(math.sin(i)) * value * 0.004))


def install(sim: Simulator) -> None:
    sim.extensions.append(ServiceQuotasExtension(sim))
