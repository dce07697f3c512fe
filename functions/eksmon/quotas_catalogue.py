"""The AWS service quotas an EKS fleet runs into, and where eksmon reads each one's usage.

A cluster that cannot get a node, an ENI, an Elastic IP or a load balancer fails in ways that look
like Kubernetes bugs (pods Pending, Services without an address, nodes NotReady). These are the
quotas behind those failures, from the EKS Best Practices Guide ("Known limits and service quotas")
and the EKS user guide's quota page.

Names and default values were checked against ListServiceQuotas output of real accounts (the EC2
vCPU classes and their ``AWS/Usage`` metrics), moto's copy of the VPC quota list, the AWS service
documentation pages for EKS, ELB and IAM; the simulator (``eksmon.sim.service_quotas``) holds the
same AWS data independently, and a test checks that every entry here exists there under its name.

Where usage comes from, per entry:

* ``metric`` -- the quota's own ``UsageMetric`` from Service Quotas (AWS/Usage), read with
  GetMetricData. The EC2 On-Demand vCPU quotas have one; nothing else here does.
* ``counter`` -- a List/Describe count eksmon makes itself (paginated) where AWS publishes no usage
  metric. A quota that has both uses the metric, and the count only when the metric has no data.

Scopes: ``region`` quotas hold per account and region; ``account`` quotas are global (IAM) and are
reported once per account, in the first region of the scan; ``cluster`` quotas hold per EKS
cluster (findings carry the cluster); ``nodegroup`` quotas hold per managed node group (findings
carry the cluster and name the node group in ``resource``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

QuotaScope = Literal["region", "account", "cluster", "nodegroup"]

# The Service Quotas endpoint that answers for global (IAM) quotas, by partition.
GLOBAL_QUOTA_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}


@dataclass(frozen=True, slots=True)
class CatalogueQuota:
    service_code: str  # Service Quotas service code: eks, ec2, vpc, elasticloadbalancing, iam
    quota_code: str  # L-XXXXXXXX
    name: str  # QuotaName, as ListServiceQuotas returns it
    scope: QuotaScope
    default: float  # the AWS default value (documentation and tests; the live value is always read)
    usage: str  # where usage comes from, for people (`eksmon checks`, the docs)
    counter: str | None  # name of the count in eksmon.collectors.quota_usage; None: the usage metric only
    impact: str  # what fails when the quota runs out
    relief: str  # what frees capacity besides an increase

    @property
    def key(self) -> tuple[str, str]:
        return (self.service_code, self.quota_code)

    @property
    def resource(self) -> str:
        return f"quota/{self.service_code}/{self.quota_code}"

    @property
    def global_quota(self) -> bool:
        return self.scope == "account"


def _vcpu(code: str, family: str, letters: str, default: float) -> CatalogueQuota:
    return CatalogueQuota(
        "ec2",
        code,
        f"Running On-Demand {letters} instances",
        "region",
        default,
        f"AWS/Usage ResourceCount (Service=EC2, Type=Resource, Resource=vCPU, Class={family}/OnDemand), Maximum",
        None,
        f"new On-Demand {letters} nodes cannot start: RunInstances fails with VcpuLimitExceeded, so "
        "managed node groups, Karpenter and Cluster Autoscaler cannot scale and pods stay Pending",
        "move workloads to Spot or another instance family, or remove idle nodes",
    )


CATALOGUE: tuple[CatalogueQuota, ...] = (
    # -- EKS ------------------------------------------------------------------------------------------
    CatalogueQuota(
        "eks",
        "L-1194D53C",
        "Clusters",
        "region",
        100,
        "eks:ListClusters (every cluster of the region, whatever the cluster filter)",
        "eks.clusters",
        "CreateCluster fails with ResourceLimitExceededException: no new cluster in this region",
        "delete unused clusters",
    ),
    CatalogueQuota(
        "eks",
        "L-6D54EA21",
        "Managed node groups per cluster",
        "cluster",
        30,
        "eks:ListNodegroups per cluster",
        "eks.nodegroups",
        "CreateNodegroup fails: no new managed node group (and no blue/green node-group upgrade) in this cluster",
        "delete unused node groups or merge node groups with the same configuration",
    ),
    CatalogueQuota(
        "eks",
        "L-BD136A63",
        "Nodes per managed node group",
        "nodegroup",
        450,
        "eks:DescribeNodegroup scalingConfig.desiredSize per managed node group",
        "eks.nodegroup_nodes",
        "the node group cannot grow past the quota: the Cluster Autoscaler stops adding nodes and pods stay Pending",
        "spread the load over a second node group with the same labels and taints",
    ),
    CatalogueQuota(
        "eks",
        "L-33415657",
        "Fargate profiles per cluster",
        "cluster",
        10,
        "eks:ListFargateProfiles per cluster",
        "eks.fargate_profiles",
        "CreateFargateProfile fails: pods of new namespaces find no profile and stay Pending",
        "merge profiles (a profile takes up to 5 selectors) or delete unused ones",
    ),
    # -- EC2: On-Demand vCPUs by instance class -------------------------------------------------------
    _vcpu("L-1216C47A", "Standard", "Standard (A, C, D, H, I, M, R, T, Z)", 5),
    _vcpu("L-DB2E81BA", "G", "G and VT", 0),
    _vcpu("L-417A185B", "P", "P", 0),
    _vcpu("L-1945791B", "Inf", "Inf", 0),
    _vcpu("L-2C3B7624", "Trn", "Trn", 0),
    _vcpu("L-7295265B", "X", "X", 0),
    _vcpu("L-74FC7D96", "F", "F", 0),
    CatalogueQuota(
        "ec2",
        "L-0263D0A3",
        "EC2-VPC Elastic IPs",
        "region",
        5,
        "ec2:DescribeAddresses (domain vpc)",
        "ec2.elastic_ips",
        "AllocateAddress fails: no new NAT gateway, so new cluster VPCs and subnets get no egress",
        "release Elastic IPs that are not associated with anything",
    ),
    # -- VPC ------------------------------------------------------------------------------------------
    CatalogueQuota(
        "vpc",
        "L-F678F1CE",
        "VPCs per Region",
        "region",
        5,
        "ec2:DescribeVpcs",
        "vpc.vpcs",
        "CreateVpc fails: no new cluster that needs its own VPC in this region",
        "delete unused VPCs (the default VPC counts too)",
    ),
    CatalogueQuota(
        "vpc",
        "L-DF5E4CA3",
        "Network interfaces per Region",
        "region",
        5000,
        "ec2:DescribeNetworkInterfaces",
        "vpc.network_interfaces",
        "the VPC CNI cannot attach ENIs: new nodes get no pod IPs, pods fail with 'failed to assign an IP "
        "address', and control-plane ENIs cannot be replaced during upgrades",
        "delete detached ENIs (status available) and use prefix delegation to need fewer ENIs per node",
    ),
    CatalogueQuota(
        "vpc",
        "L-E79EC296",
        "VPC security groups per Region",
        "region",
        2500,
        "ec2:DescribeSecurityGroups",
        "vpc.security_groups",
        "CreateSecurityGroup fails: no new cluster, load balancer or security group for pods",
        "delete security groups left behind by deleted load balancers and clusters",
    ),
    # -- Elastic Load Balancing -----------------------------------------------------------------------
    CatalogueQuota(
        "elasticloadbalancing",
        "L-53DA6B97",
        "Application Load Balancers per Region",
        "region",
        50,
        "elasticloadbalancing:DescribeLoadBalancers (type application)",
        "elb.application",
        "the AWS Load Balancer Controller cannot create ALBs: new Ingresses get no address",
        "share one ALB between Ingresses with IngressGroups (alb.ingress.kubernetes.io/group.name)",
    ),
    CatalogueQuota(
        "elasticloadbalancing",
        "L-69A177A2",
        "Network Load Balancers per Region",
        "region",
        50,
        "elasticloadbalancing:DescribeLoadBalancers (type network)",
        "elb.network",
        "Services of type LoadBalancer get no NLB and stay <pending>",
        "expose several Services through one Ingress or Gateway instead of one NLB each",
    ),
    CatalogueQuota(
        "elasticloadbalancing",
        "L-B22855CB",
        "Target Groups per Region",
        "region",
        3000,
        "elasticloadbalancing:DescribeTargetGroups",
        "elb.target_groups",
        "the AWS Load Balancer Controller cannot create target groups: new Ingress paths and Services get no traffic",
        "delete target groups that no load balancer uses",
    ),
    # -- IAM (global) ---------------------------------------------------------------------------------
    CatalogueQuota(
        "iam",
        "L-FE177D64",
        "Roles per account",
        "account",
        1000,
        "iam:GetAccountSummary (Roles)",
        "iam.roles",
        "CreateRole fails: no new IRSA or Pod Identity role, node role or cluster role in the whole account",
        "delete roles nobody has used (IAM shows each role's last activity)",
    ),
    CatalogueQuota(
        "iam",
        "L-858F3967",
        "OpenId connect providers per account",
        "account",
        100,
        "iam:ListOpenIDConnectProviders (IRSA needs one provider per cluster)",
        "iam.oidc_providers",
        "a new cluster cannot get its IRSA OIDC provider, so its service accounts cannot assume IAM roles",
        "delete providers of deleted clusters, or use EKS Pod Identity, which needs no provider",
    ),
)

BY_KEY: dict[tuple[str, str], CatalogueQuota] = {q.key: q for q in CATALOGUE}
BY_CODE: dict[str, CatalogueQuota] = {q.quota_code: q for q in CATALOGUE}


def find(service_code: str, quota_code: str) -> CatalogueQuota | None:
    return BY_KEY.get((service_code, quota_code))


def global_quota_region(region: str) -> str:
    """The region whose Service Quotas endpoint answers for global quotas, in ``region``'s partition."""
    if region.startswith("cn-"):
        return GLOBAL_QUOTA_REGION["aws-cn"]
    if region.startswith("us-gov-"):
        return GLOBAL_QUOTA_REGION["aws-us-gov"]
    return GLOBAL_QUOTA_REGION["aws"]


def console_url(service_code: str, quota_code: str, region: str) -> str:
    return f"https://{region}.console.aws.amazon.com/servicequotas/home/services/{service_code}/quotas/{quota_code}"
