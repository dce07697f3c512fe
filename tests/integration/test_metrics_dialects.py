"""``/metrics`` as real producers write it, served by the simulator's Kubernetes stand-in over HTTPS.

A deprecated API requested on the cluster is one line of ``apiserver_requested_deprecated_apis``.
However that line is written -- with an exemplar, a float timestamp, after ``# EOF``, as the last
line without a newline, with a Prometheus 3 quoted name, or beside NUL bytes and quoted UTF-8 names
of other families -- the finding comes out. A line of that family that still cannot be parsed is a
collection error for the cluster naming the family and the line number, never a silent absence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from eksmon.context import COLLECTION_ERROR
from eksmon.engine import ScanResult, scan
from eksmon.models import Finding
from eksmon.settings import parse_settings
from eksmon.sim.control_plane_metrics import GIB, DeprecatedApiSeed, apiserver_metrics
from eksmon.sim.eks import EksExtension
from eksmon.sim.fleet import DEMO_ACCOUNT, DEMO_NOW, DemoCluster
from eksmon.sim.kubernetes_api import KubeCluster, KubernetesApi
from eksmon.sim.server import Simulator

REGION = "us-east-1"
CHECK = "version.deprecated_api_in_use"
API = DeprecatedApiSeed("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas", "1.32")
RESOURCE = "api/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"
LINE = re.compile(rb"^apiserver_requested_deprecated_apis\{.*\n", re.MULTILINE)


def body() -> bytes:
    """A real v1.31 apiserver's /metrics with one deprecated API requested."""
    return apiserver_metrics("1.31", etcd_bytes=GIB, deprecated=[API])


def deprecated_line(data: bytes) -> bytes:
    (line,) = LINE.findall(data)
    return line


def rewritten(edit: Callable[[bytes], bytes]) -> bytes:
    """The body with its deprecated-API line (newline included) replaced by ``edit(line)``."""
    data = body()
    line = deprecated_line(data)
    return data.replace(line, edit(line))


def moved_to_the_end(prefix: bytes, newline: bool) -> bytes:
    data = body()
    line = deprecated_line(data)
    return data.replace(line, b"") + prefix + (line if newline else line.rstrip(b"\n"))


def quoted_name(line: bytes) -> bytes:
    # apiserver_requested_deprecated_apis{group=...} 1  ->  {"apiserver_requested_deprecated_apis", group=...} 1
    return b'{"apiserver_requested_deprecated_apis", ' + line.split(b"{", 1)[1]


def with_other_families_in_new_forms(data: bytes) -> bytes:
    # NUL and UTF-8 in label values, and quoted UTF-8 names, of families eksmon does not read
    return (
        b"# TYPE sidecar_info gauge\n"
        b'sidecar_info{note="a\x00b",city="K\xc3\xb6ln"} 1\n'
        b'{"otel.scope.info", "otel.scope.name"="eksmon\xe2\x80\x94test"} 1\n' + data
    )


def run(sim: Simulator, metrics: bytes) -> ScanResult:
    sim.extension(EksExtension).add_cluster(DemoCluster("prod", REGION, "1.31"), DEMO_ACCOUNT)
    kube: KubeCluster = sim.extension(KubernetesApi).cluster(DEMO_ACCOUNT, REGION, "prod", "1.31")
    kube.set_metrics(metrics)
    settings = parse_settings({"regions": [REGION]})
    return scan(settings, DEMO_NOW, monitor="metrics", session_factory=sim.session_factory())


def errors(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.check == COLLECTION_ERROR]


def deprecated(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.check == CHECK]


FORMS: dict[str, Callable[[], bytes]] = {
    "exemplar": lambda: rewritten(lambda line: line[:-1] + b' # {trace_id="4bf92f3577b34da6"} 1 1.7e9\n'),
    "float-timestamp": lambda: rewritten(lambda line: line[:-1] + b" 1700000000.250\n"),
    "after-eof": lambda: moved_to_the_end(b"# EOF\n", newline=True),
    "last-line-without-newline": lambda: moved_to_the_end(b"", newline=False),
    "quoted-name": lambda: rewritten(quoted_name),
    "nul-and-utf8-elsewhere": lambda: with_other_families_in_new_forms(body()),
}


@pytest.mark.parametrize("form", FORMS)
def test_the_deprecated_api_is_found_however_the_line_is_written(sim: Simulator, form: str) -> None:
    # Given an apiserver whose /metrics writes the deprecated-API sample in a form real producers use
    metrics = FORMS[form]()
    # When the metrics monitor scans the cluster
    result = run(sim, metrics)
    # Then the deprecated API is found, and nothing is reported as unreadable.
    (finding,) = deprecated(result)
    assert finding.resource == RESOURCE and finding.details["removed_release"] == "1.32"
    assert errors(result) == []


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda line: line.replace(b"{", b'{group="x",', 1), "duplicate label 'group'"),
        (lambda line: line.replace(b"} 1", b" 1", 1), "invalid label set"),
        (lambda line: line.replace(b"} 1", b"} one", 1), "invalid value 'one'"),
    ],
    ids=["duplicate-label", "unclosed-label-set", "bad-value"],
)
def test_a_line_that_cannot_be_parsed_is_a_collection_error_naming_family_and_line(
    sim: Simulator, edit: Callable[[bytes], bytes], reason: str
) -> None:
    # Given an apiserver whose deprecated-API line is broken
    metrics = rewritten(edit)
    line_no = metrics[: metrics.index(edit(deprecated_line(body())))].count(b"\n") + 1
    # When the metrics monitor scans the cluster
    result = run(sim, metrics)
    # Then the finding cannot be made, and the user is told why, where, once for the cluster:
    assert deprecated(result) == []
    (error,) = errors(result)
    assert error.cluster == "prod" and error.resource == "source/kubernetes:/metrics"
    assert error.details["error_code"] == "UnparsableMetricsLines"
    assert error.details["families"] == ["apiserver_requested_deprecated_apis"]
    assert f"line {line_no} (apiserver_requested_deprecated_apis): {reason}" in error.message
    assert error.details["first_lines"][0].startswith(f"line {line_no} (apiserver_requested_deprecated_apis)")
    # every sample read the broken line; the other families' lines were only counted
    assert error.details["unparsable_lines"] == 1 and len(error.details["first_lines"]) == 1
    assert error.details["samples_with_errors"] == error.details["samples_read"] == 3
    assert error.details["lines_of_other_families_skipped"] > 10_000
    # and the rest of the body was used: the etcd size still comes from /metrics.
    unevaluated = [
        u["check"] for f in result.findings if f.check == "monitor.coverage" for u in f.details["unevaluated"]
    ]
    assert "etcd.db_size" not in unevaluated
