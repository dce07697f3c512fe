"""version.deprecated_api_in_use as a pure function of the sampled apiserver replicas."""

from __future__ import annotations

import pytest

from eksmon.checks.version_deprecated_api_in_use import DeprecatedApiThresholds, deprecated_api_in_use
from eksmon.collectors.apiserver_scrape import DeprecatedApi
from eksmon.errors import ConfigError
from eksmon.models import Severity
from eksmon.settings import parse_settings
from tests.unit.metrics_builders import NOW, replica, scraped, snapshot

T = DeprecatedApiThresholds()
FLOWSCHEMAS = DeprecatedApi("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "", "1.32")


def found(*samples, version="1.31", t=T, **kwargs):
    return list(deprecated_api_in_use(snapshot(None, scraped(*samples, **kwargs), version=version), t, NOW))


@pytest.mark.parametrize(
    ("version", "removed", "reported"),
    [
        ("1.31", "1.32", True),  # the next version removes it
        ("1.31", "1.33", False),  # two versions away
        ("1.31", "1.31", True),  # already removed (served by an older replica mid-upgrade)
        ("1.31", "", False),  # deprecated, no removal planned (the 1.35 dump's endpoints)
        ("1.31", "2.0", False),
        ("1.29", "1.30", True),
        ("1.35", "1.36", True),
    ],
)
def test_reported_when_removed_at_or_before_the_next_minor(version, removed, reported) -> None:
    api = DeprecatedApi("batch", "v1beta1", "cronjobs", "", removed)
    assert bool(found(replica(deprecated=[api]), version=version)) is reported


def test_finding_names_the_api_the_release_and_the_replicas() -> None:
    (p,) = found(replica(1.0), replica(2.0, deprecated=[FLOWSCHEMAS]))
    assert p.severity is Severity.WARNING
    assert p.resource == "api/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"
    assert p.details == {
        "group": "flowcontrol.apiserver.k8s.io",
        "version": "v1beta3",
        "resource": "flowschemas",
        "subresource": "",
        "removed_release": "1.32",
        "cluster_version": "1.31",
        "replicas_reporting": 1,
        "replicas_sampled": 2,
    }
    assert "next version of this cluster" in p.message and "404" in p.message
    assert "1 of 2 apiserver replicas" in p.message


def test_one_finding_per_api_whatever_the_number_of_replicas_reporting_it() -> None:
    other = DeprecatedApi("", "v1", "componentstatuses", "", "1.32")
    result = found(replica(1.0, deprecated=[FLOWSCHEMAS, other]), replica(2.0, deprecated=[FLOWSCHEMAS]))
    assert sorted(p.resource for p in result) == [
        "api/core/v1/componentstatuses",
        "api/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas",
    ]
    assert {p.resource: p.details["replicas_reporting"] for p in result}[
        "api/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"
    ] == 2


def test_subresources_are_named() -> None:
    api = DeprecatedApi("policy", "v1beta1", "podsecuritypolicies", "status", "1.25")
    (p,) = found(replica(deprecated=[api]), version="1.24")
    assert p.resource == "api/policy/v1beta1/podsecuritypolicies/status"
    assert "policy/v1beta1 podsecuritypolicies/status" in p.message


def test_look_ahead_is_configurable() -> None:
    api = DeprecatedApi("batch", "v1beta1", "cronjobs", "", "1.33")
    assert found(replica(deprecated=[api]), t=DeprecatedApiThresholds(look_ahead_minors=2))
    assert not found(replica(deprecated=[FLOWSCHEMAS]), t=DeprecatedApiThresholds(look_ahead_minors=0))


def test_cluster_version_from_metrics_when_describe_cluster_has_none() -> None:
    (p,) = found(replica(deprecated=[FLOWSCHEMAS], git_version="v1.31.10-eks-abc"), version=None)
    assert p.details["cluster_version"] == "1.31"
    assert not found(replica(deprecated=[FLOWSCHEMAS]), version=None)  # no version anywhere: no guess


@pytest.mark.parametrize("scrape_kwargs", [{"error": "forbidden"}, {"skipped": "Kubernetes access is off"}])
def test_nothing_when_metrics_were_not_read(scrape_kwargs) -> None:
    assert found(**scrape_kwargs) == []


def test_thresholds_validated() -> None:
    with pytest.raises(ConfigError, match=r"version\.deprecated_api_in_use\.scrape_samples"):
        parse_settings({"checks": {"thresholds": {"version.deprecated_api_in_use": {"scrape_samples": 0}}}})
