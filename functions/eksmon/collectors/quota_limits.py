"""Service quota limits: the applied (or default) value of each quota of ``eksmon.quotas_catalogue``.

Per account and region, ``ListServiceQuotas`` once per service (100 a page), and
``ListAWSDefaultServiceQuotas`` only for a service with catalogue quotas that have no applied value.
Global (IAM) quotas are read once per account, in the scan's first region. Codes unknown in the
region are skipped with a note (logged and kept in ``QuotaLimits.skipped``), not reported as errors.
The usage measured against these limits is ``eksmon.collectors.quota_usage``'s.

A source that fails (AccessDenied, throttled past the retries, a quota with an ``ErrorReason``)
becomes a ``monitor.collection_error`` for that quota or region; everything else is still read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Literal

from botocore.exceptions import ClientError

from eksmon.aws import error_code, is_access_denied, pages
from eksmon.context import CollectContext
from eksmon.parts.quotas import (
    Key,
    QuotaLimit,
    QuotaLimits,
    SkippedQuota,
    UsageMetric,
)
from eksmon.quotas_catalogue import CATALOGUE, CatalogueQuota, global_quota_region
from eksmon.registry import collector

log = logging.getLogger(__name__)


# the largest page ListServiceQuotas allows: fewer calls (tests lower it to exercise pagination)
PAGE_SIZES = {"servicequotas": 100}
_NO_SUCH_SERVICE = {"NoSuchResourceException"}


# -- limits -------------------------------------------------------------------------------------------
def reports_global(ctx: CollectContext) -> bool:
    """Global (IAM) quotas are reported once per account: in the first region of the scan."""
    first = ctx.settings.regions[0] if ctx.settings.regions else ctx.region
    return ctx.region == first


@collector(
    provides=QuotaLimits,
    scope="region",
    name="quotas.quota_limits",  # its name from quotas.py: findings show it
    iam_actions=("servicequotas:ListServiceQuotas", "servicequotas:ListAWSDefaultServiceQuotas"),
)
def quota_limits(ctx: CollectContext) -> QuotaLimits:
    here = reports_global(ctx)
    services: dict[str, list[CatalogueQuota]] = {}
    for q in CATALOGUE:
        if here or not q.global_quota:
            services.setdefault(q.service_code, []).append(q)
    limits: list[QuotaLimit] = []
    skipped: list[SkippedQuota] = []
    for service, quotas in services.items():
        region = global_quota_region(ctx.region) if quotas[0].global_quota else ctx.region
        client = ctx.aws.client("service-quotas", region)
        try:
            found = _service_limits(client, service, quotas)
        except ClientError as exc:
            if error_code(exc) in _NO_SUCH_SERVICE:
                skipped.extend(
                    SkippedQuota(service, q.quota_code, f"{service} unknown in {region}") for q in quotas
                )
                continue
            if is_access_denied(exc) or _server_side(exc):
                # the same role is denied, the same endpoint broken, for every service: one error, and
                # no further calls that would each wait through the retries
                ctx.report(
                    f"servicequotas:{exc.operation_name}",
                    exc,
                    f"{exc}; no quota of {ctx.region} could be read, so none was checked",
                )
                break
            ctx.report(f"servicequotas:{exc.operation_name}/{service}", exc)  # throttled: the next may pass
            continue
        except Exception as exc:  # noqa: BLE001 - a timeout or an unreachable endpoint: stop here too
            ctx.report(
                "servicequotas:ListServiceQuotas", exc, f"{exc}; no quota of {ctx.region} could be read"
            )
            break
        for q in quotas:
            if q.quota_code not in found:
                skipped.append(SkippedQuota(service, q.quota_code, f"no such quota in {region}"))
                continue
            doc, source = found[q.quota_code]
            reason = doc.get("ErrorReason")
            if reason:
                code = reason.get("ErrorCode", "ErrorReason")
                message = reason.get("ErrorMessage", "")
                ctx.report(
                    f"servicequotas:{service}/{q.quota_code}",
                    ClientError({"Error": {"Code": code, "Message": message}}, "ListServiceQuotas"),
                    f"Service Quotas reports {code} for {q.name} ({q.quota_code}): {message}",
                )
                continue
            limits.append(_limit(q, doc, source))
    for s in skipped:
        log.info(
            "quota %s/%s skipped in %s/%s: %s",
            s.service_code,
            s.quota_code,
            ctx.account,
            ctx.region,
            s.reason,
        )
    return QuotaLimits(tuple(limits), tuple(skipped), here)


def _server_side(exc: ClientError) -> bool:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return int(status) >= 500


def _service_limits(
    client: Any, service: str, quotas: list[CatalogueQuota]
) -> dict[str, tuple[dict[str, Any], Literal["applied", "default"]]]:
    wanted = {q.quota_code for q in quotas}
    found: dict[str, tuple[dict[str, Any], Literal["applied", "default"]]] = {}
    for doc in pages(
        client, "list_service_quotas", "Quotas", ServiceCode=service, MaxResults=PAGE_SIZES["servicequotas"]
    ):
        if doc.get("QuotaCode") in wanted and doc.get("Value") is not None:
            found[doc["QuotaCode"]] = (doc, "applied")
    if wanted - set(found):
        for doc in pages(
            client,
            "list_aws_default_service_quotas",
            "Quotas",
            ServiceCode=service,
            MaxResults=PAGE_SIZES["servicequotas"],
        ):
            code = doc.get("QuotaCode")
            if code in wanted and code not in found and doc.get("Value") is not None:
                found[code] = (doc, "default")
    return found


def _limit(q: CatalogueQuota, doc: Mapping[str, Any], source: Literal["applied", "default"]) -> QuotaLimit:
    metric = doc.get("UsageMetric") or {}
    usage: UsageMetric | None = None
    if metric.get("MetricNamespace") and metric.get("MetricName"):
        usage = UsageMetric(
            metric["MetricNamespace"],
            metric["MetricName"],
            tuple(sorted((metric.get("MetricDimensions") or {}).items())),
            metric.get("MetricStatisticRecommendation") or "Maximum",
        )
    return QuotaLimit(
        quota=q,
        name=doc.get("QuotaName") or q.name,
        value=float(doc["Value"]),
        source=source,
        adjustable=bool(doc.get("Adjustable", True)),
        usage_metric=usage,
    )


__all__ = [
    "Key",
    "QuotaLimit",
    "QuotaLimits",
    "SkippedQuota",
    "UsageMetric",
]
