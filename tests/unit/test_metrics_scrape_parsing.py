"""What the scrape keeps from each real /metrics dump, how it copes with bodies cut short or garbled, and
the histogram quantile it computes as Prometheus does.

Every real dump the repository ships is read here: the etcd size family differs by version
(apiserver_scrape.ETCD_SIZE_FAMILIES), the 1.35 dump carries a deprecated API with no removal release, and the non-apiserver
dumps (etcd, scheduler) have none of the apiserver's families.
"""

from __future__ import annotations

import math

import pytest

from eksmon.collectors.apiserver_scrape import (
    FAMILIES,
    ApiserverMetrics,
    DeprecatedApi,
    histogram_quantile,
    sample_of,
)
from eksmon.prometheus import parse
from eksmon.sim.control_plane_metrics import (
    DeprecatedApiSeed,
    WebhookSeed,
    apiserver_metrics,
    relabel,
)
from eksmon.sim.dumps import apiserver_dump, names
from tests.conftest import metrics_dump


def read(body: bytes, chunk: int = 65536):
    return sample_of(parse((body[i : i + chunk] for i in range(0, len(body), chunk)), FAMILIES))


@pytest.mark.parametrize(
    ("dump", "family", "size", "started", "git_version"),
    [
        (
            "kube-apiserver-metrics-1_27.prom",
            "apiserver_storage_db_total_size_in_bytes",
            2117632,
            1694017413.61,
            "v1.27.5",
        ),
        (
            "kube-apiserver-metrics-1_28.prom",
            "apiserver_storage_size_bytes",
            2285568,
            1699597117.0,
            "v1.28.3",
        ),
        (
            "kube-apiserver-metrics-1_29.prom",
            "apiserver_storage_size_bytes",
            2461696,
            1717531882.51,
            "v1.29.5",
        ),
        (
            "kube-apiserver-metrics-1_31.prom",
            "apiserver_storage_size_bytes",
            2260992,
            1762283624.09,
            "v1.31.0",
        ),
        (
            "kube-apiserver-metrics-1_35.prom",
            "apiserver_storage_size_bytes",
            2093056,
            1782468730.27,
            "v1.35.0",
        ),
    ],
)
def test_every_apiserver_dump_gives_its_etcd_size_by_the_name_of_its_version(
    dump, family, size, started, git_version
) -> None:
    sample = read(metrics_dump(dump))
    assert (sample.etcd_metric, sample.etcd_bytes) == (family, size)
    assert sample.started_at == pytest.approx(started)
    assert sample.git_version == git_version
    assert sample.parse_errors == 0 and not sample.truncated
    assert sample.rejections == () and sample.latencies == ()  # minikube has no webhooks


def test_the_1_28_dump_has_both_names_and_the_newer_one_wins() -> None:
    text = metrics_dump("kube-apiserver-metrics-1_28.prom").decode()
    assert "\napiserver_storage_db_total_size_in_bytes{" in text and "\napiserver_storage_size_bytes{" in text
    assert read(text.encode()).etcd_metric == "apiserver_storage_size_bytes"


def test_the_oldest_name_is_still_read() -> None:
    # <= 1.25 named it etcd_db_total_size_in_bytes{endpoint}: the 1.27 line renamed
    line = next(
        ln
        for ln in metrics_dump("kube-apiserver-metrics-1_27.prom").decode().splitlines()
        if ln.startswith("apiserver_storage_db_total_size_in_bytes{")
    )
    body = (
        f"# TYPE etcd_db_total_size_in_bytes gauge\n{relabel(line, metric='etcd_db_total_size_in_bytes')}\n"
    )
    sample = read(body.encode())
    assert (sample.etcd_metric, sample.etcd_bytes) == ("etcd_db_total_size_in_bytes", 2117632)


def test_the_1_35_dump_has_a_deprecated_api_without_removal_release() -> None:
    sample = read(metrics_dump("kube-apiserver-metrics-1_35.prom"))
    assert sample.deprecated == (DeprecatedApi("", "v1", "endpoints", "", ""),)
    assert (
        sample.deprecated[0].name == "v1 endpoints"
        and sample.deprecated[0].resource_id == "api/core/v1/endpoints"
    )


@pytest.mark.parametrize(
    "dump",
    [
        "etcd-metrics-1_28.prom",
        "etcd-metrics-1_31.prom",
        "scheduler-metrics-1_28.prom",
        "scheduler-metrics-1_31.prom",
    ],
)
def test_non_apiserver_dumps_have_no_apiserver_etcd_size(dump) -> None:
    sample = read(metrics_dump(dump))
    assert sample.etcd_metric is None and sample.deprecated == () and not sample.truncated
    assert sample.started_at is not None  # every Go process exports its start time


def test_the_documentation_example_gives_rejections_by_error_type() -> None:
    sample = read(metrics_dump("apiserver_admission_webhook_rejection_count.docs-example.prom"))
    assert {(r.name, r.error_type, r.count) for r in sample.rejections} == {
        ("always-timeout-webhook.example.com", "calling_webhook_error", 1),
        ("invalid-admission-response-webhook.example.com", "calling_webhook_error", 1),
        ("deny-unwanted-configmap-data.example.com", "no_error", 13),
    }


@pytest.mark.parametrize("chunk", [1, 7, 4096, 65536])
def test_chunk_boundaries_do_not_matter(chunk) -> None:
    body = apiserver_metrics(
        "1.31",
        etcd_bytes=7.5e9,
        deprecated=[DeprecatedApiSeed("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "1.32")],
        webhooks=[WebhookSeed("w.example.com", calling_errors=5, calls=100, slow_share=0.1)],
    )
    if chunk == 1:  # keep a byte-at-a-time read quick: the wanted families and every 50th other line
        lines = body.splitlines(keepends=True)
        body = b"".join(
            ln
            for i, ln in enumerate(lines)
            if ln.startswith(tuple(f.encode() for f in FAMILIES)) or i % 50 == 0
        )
    sample = read(body, chunk)
    assert sample.etcd_bytes == 7.5e9
    assert sample.deprecated[0].removed_release == "1.32"
    assert sample.rejections[0].count == 5 and sample.latencies[0].count == 100


def test_a_truncated_body_is_flagged_and_its_last_partial_line_ignored() -> None:
    body = metrics_dump("kube-apiserver-metrics-1_31.prom")
    cut = body.index(b"\napiserver_storage_size_bytes{") + 40  # inside the etcd size line
    sample = read(body[:cut])
    assert sample.truncated and sample.etcd_metric is None
    assert not ApiserverMetrics((sample,)).complete


def test_garbled_lines_of_a_wanted_family_are_counted_and_the_rest_still_read() -> None:
    body = (
        b"# TYPE apiserver_storage_size_bytes gauge\n"
        b'apiserver_storage_size_bytes{storage_cluster_id="etcd-0"} not-a-number\n'
        b'apiserver_storage_size_bytes{storage_cluster_id="etcd-1" 123\n'
        b'apiserver_storage_size_bytes{storage_cluster_id="etcd-2"} 4.5e+09\n'
        b"\x00\xff garbage \xfe\n"
        b"process_start_time_seconds 1.7e+09\n"
    )
    sample = read(body)
    assert sample.parse_errors == 2 and sample.etcd_bytes == 4.5e9 and sample.started_at == 1.7e9


@pytest.mark.parametrize("value", ["NaN", "+Inf", "-1"])
def test_nonsense_etcd_values_are_not_a_size(value) -> None:
    body = f'apiserver_storage_size_bytes{{storage_cluster_id="etcd-0"}} {value}\n'.encode()
    assert read(body).etcd_bytes is None


def test_a_body_that_is_not_prometheus_at_all_gives_nothing_and_no_crash() -> None:
    sample = read(b'{"kind":"Status","message":"this is json"}\n' * 1000)
    assert sample.etcd_metric is None and sample.deprecated == () and sample.parse_errors == 0


def test_fixture_for_a_version_is_the_newest_dump_not_newer() -> None:
    assert apiserver_dump("1.26") == "kube-apiserver-metrics-1_27.prom"  # older than every dump
    assert apiserver_dump("1.30") == "kube-apiserver-metrics-1_29.prom"
    assert apiserver_dump("1.34") == "kube-apiserver-metrics-1_31.prom"
    assert apiserver_dump("1.36") == "kube-apiserver-metrics-1_35.prom"
    assert all(apiserver_dump(v) in names() for v in ("1.26", "1.30", "1.34", "1.36"))


INF = math.inf


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        ([(0.1, 50), (1, 100), (INF, 100)], 0.5, 0.1),
        ([(0.1, 50), (1, 100), (INF, 100)], 0.99, 0.1 + 0.9 * 49 / 50),
        ([(0.5, 0), (1, 10), (INF, 10)], 0.5, 0.75),
        ([(1, 90), (2.5, 90), (INF, 100)], 0.99, 2.5),  # rank in +Inf: the highest finite bound
        ([(1, 0), (INF, 0)], 0.99, None),  # no observations
        ([(1, 5), (2, 10)], 0.99, None),  # no +Inf bucket: a histogram cut short
        ([], 0.99, None),
    ],
)
def test_histogram_quantile_matches_prometheus(buckets, q, expected) -> None:
    found = histogram_quantile(q, buckets)
    assert found == pytest.approx(expected) if expected is not None else found is None
