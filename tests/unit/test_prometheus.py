"""The streaming Prometheus text parser: real apiserver/etcd/scheduler dumps, chunking, bad input.

The reference for "correct" is prometheus_client's own text parser (it parses everything; we keep
only the families asked for) plus the Prometheus text-format rules where prometheus_client is laxer.
"""

from __future__ import annotations

import math
import random
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eksmon.prometheus import ParsedMetrics, Sample, parse, parse_text
from tests.conftest import metrics_dump, metrics_dump_names

FIXTURE_FILES = metrics_dump_names()

ETCD_SIZE = (
    "apiserver_storage_size_bytes",
    "apiserver_storage_db_total_size_in_bytes",
    "etcd_db_total_size_in_bytes",
)
MONITOR_FAMILIES = (
    *ETCD_SIZE,
    "apiserver_requested_deprecated_apis",
    "apiserver_admission_webhook_rejection_count",
    "apiserver_admission_webhook_admission_duration_seconds",
    "apiserver_request_total",
)
# What the comparison with prometheus_client also covers: a big histogram, a summary, and the
# families that matter in the etcd and scheduler dumps.
COMPARED_FAMILIES = (
    *MONITOR_FAMILIES,
    "apiserver_request_duration_seconds",
    "go_gc_duration_seconds",
    "apiserver_resource_objects",
    "etcd_mvcc_db_total_size_in_bytes",
    "etcd_server_quota_backend_bytes",
    "scheduler_pending_pods",
)

Row = tuple[str, tuple[tuple[str, str], ...], str, int | None]


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def rows(samples: list[Sample]) -> list[Row]:
    """Samples in a form that compares equal for equal values, NaN included."""
    return [(s.name, tuple(sorted(s.labels.items())), repr(float(s.value)), s.timestamp_ms) for s in samples]


def snapshot(result: ParsedMetrics) -> dict[str, Any]:
    return {
        "samples": {family: rows(samples) for family, samples in result.samples.items()},
        "types": result.types,
        "lines": result.lines,
        "bytes": result.bytes,
        "errors": result.errors,
        "error_count": result.error_count,
        "truncated": result.truncated,
        "saw_eof": result.saw_eof,
    }


def client_rows(text: str, families: tuple[str, ...]) -> dict[str, list[Row]]:
    """prometheus_client's samples of the wanted families, in document order.

    prometheus_client renames counters the OpenMetrics way: a family `x_total` becomes `x`, and the
    samples of a counter not ending in `_total` get `_total` appended. Undo that to compare.
    """
    wanted = set(families)
    found: dict[str, list[Row]] = {}
    for metric in text_string_to_metric_families(text):
        family, strip = metric.name, 0
        if metric.type == "counter":
            if metric.name + "_total" in wanted:
                family = metric.name + "_total"
            else:
                strip = len("_total")
        if family not in wanted:
            continue
        for s in metric.samples:
            name = s.name[: len(s.name) - strip]
            ts = None if s.timestamp is None else round(float(s.timestamp) * 1000)
            found.setdefault(family, []).append(
                (name, tuple(sorted(s.labels.items())), repr(float(s.value)), ts)
            )
    return found


# --- the real dumps ------------------------------------------------------------------------------


def test_the_real_dumps_ship_with_the_repository() -> None:
    # Every dump listed in the two SOURCES.md files is found (otherwise the parametrised comparisons
    # below would silently test nothing).
    assert len(FIXTURE_FILES) == 10, FIXTURE_FILES


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_each_real_dump_gives_the_same_samples_as_prometheus_client(name: str) -> None:
    # Given a real /metrics dump streamed in 64 KiB chunks (as urllib3 hands it over)
    data = metrics_dump(name)
    # When eksmon keeps only the families it needs
    result = parse(chunked(data, 65536), COMPARED_FAMILIES)
    # Then each family has exactly prometheus_client's samples, in the same order,
    expected = client_rows(data.decode(), COMPARED_FAMILIES)
    assert expected, "the comparison must cover at least one family of this dump"
    assert {f: rows(s) for f, s in result.samples.items()} == expected
    # and the whole body was read cleanly.
    assert result.errors == [] and result.error_count == 0
    assert not result.truncated and not result.saw_eof
    assert result.lines == data.count(b"\n")
    assert result.bytes == len(data)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1_27", {"apiserver_storage_db_total_size_in_bytes": ("endpoint", 2117632.0)}),
        (
            "1_28",
            {
                "apiserver_storage_db_total_size_in_bytes": ("endpoint", 1974272.0),
                "apiserver_storage_size_bytes": ("cluster", 2285568.0),
            },
        ),
        ("1_29", {"apiserver_storage_size_bytes": ("storage_cluster_id", 2461696.0)}),
        ("1_31", {"apiserver_storage_size_bytes": ("storage_cluster_id", 2260992.0)}),
        ("1_35", {"apiserver_storage_size_bytes": ("storage_cluster_id", 2093056.0)}),
    ],
)
def test_etcd_size_metric_names_follow_the_kubernetes_version(
    version: str, expected: dict[str, tuple[str, float]]
) -> None:
    # Given the kube-apiserver dump of one Kubernetes version
    data = metrics_dump(f"kube-apiserver-metrics-{version}.prom")
    # When the three etcd-size names are asked for
    result = parse(chunked(data, 65536), ETCD_SIZE)
    # Then only the names that version serves are present (1.27 the db_total name, 1.28 both,
    # 1.29+ only apiserver_storage_size_bytes), one series each, labelled as that version labels it.
    assert set(result.samples) == set(expected)
    for family, (label, value) in expected.items():
        [sample] = result.samples[family]
        assert label in sample.labels
        assert sample.value == value
        assert result.types[family] == "gauge"


def test_deprecated_api_requests_are_read_from_the_1_35_dump() -> None:
    # Given the 1.35 apiserver dump, where a client asked for the deprecated core/v1 Endpoints
    data = metrics_dump("kube-apiserver-metrics-1_35.prom")
    # When the deprecated-API family is parsed
    result = parse(chunked(data, 65536), ["apiserver_requested_deprecated_apis"])
    # Then the one series is there with its empty labels kept as empty strings.
    assert result.get("apiserver_requested_deprecated_apis") == [
        Sample(
            "apiserver_requested_deprecated_apis",
            {"group": "", "removed_release": "", "resource": "endpoints", "subresource": "", "version": "v1"},
            1.0,
            None,
        )
    ]
    assert result.types == {"apiserver_requested_deprecated_apis": "gauge"}


def test_webhook_rejections_from_the_admission_docs_example() -> None:
    # Given the example from the Kubernetes admission-webhook documentation
    text = metrics_dump("apiserver_admission_webhook_rejection_count.docs-example.prom").decode()
    # When the rejection counter is parsed
    result = parse_text(text, MONITOR_FAMILIES)
    # Then the two webhooks that could not be called are told apart from the one that said no.
    samples = result.get("apiserver_admission_webhook_rejection_count")
    calling_errors = {
        s.labels["name"]: s.value for s in samples if s.labels["error_type"] == "calling_webhook_error"
    }
    assert calling_errors == {
        "always-timeout-webhook.example.com": 1.0,
        "invalid-admission-response-webhook.example.com": 1.0,
    }
    assert [s.value for s in samples if s.labels["error_type"] == "no_error"] == [13.0]
    assert result.types["apiserver_admission_webhook_rejection_count"] == "counter"
    assert set(result.samples) == {"apiserver_admission_webhook_rejection_count"}


# --- chunking and truncation ---------------------------------------------------------------------

SMALL = (
    "# HELP apiserver_storage_size_bytes [STABLE] Size of the storage database file physically allocated.\n"
    "# TYPE apiserver_storage_size_bytes gauge\n"
    'apiserver_storage_size_bytes{storage_cluster_id="etcd-0"} 2.093056e+06\n'
    'apiserver_storage_size_bytes{storage_cluster_id="étcd-1 ✓ 雪"} 1.5e9 1700000000000\r\n'
    'other_metric{a="apiserver_storage_size_bytes 7"} 3\n'
    "\n"
    "# a comment about apiserver_request_total\n"
    "# TYPE apiserver_admission_webhook_admission_duration_seconds histogram\n"
    'apiserver_admission_webhook_admission_duration_seconds_bucket{name="w,}= x",le="0.005"} 0\n'
    'apiserver_admission_webhook_admission_duration_seconds_bucket{name="a\\"b\\\\c\\nd",le="+Inf"} 4\n'
    'apiserver_admission_webhook_admission_duration_seconds_sum{name="w,}= x"} NaN\n'
    'apiserver_admission_webhook_admission_duration_seconds_count{name="w,}= x"} 4\n'
    "apiserver_request_total{} -Inf\n"
    "apiserver_request_total 12\n"
    'apiserver_request_total{code="200" 1\n'
    'apiserver_request_total{code="201"} 1e-3 -5\n'
)
SMALL_FAMILIES = (
    "apiserver_storage_size_bytes",
    "apiserver_admission_webhook_admission_duration_seconds",
    "apiserver_request_total",
)


def test_chunk_boundaries_at_every_byte_offset_change_nothing() -> None:
    # Given a small body with multi-byte UTF-8, CRLF, escapes, NaN/Inf and one garbled line
    data = SMALL.encode()
    whole = snapshot(parse([data], SMALL_FAMILIES))
    assert whole["error_count"] == 1 and len(whole["samples"]) == 3  # the body exercises all that
    # When it arrives cut in two at every byte offset (inside lines, inside "é", "✓" and "雪")
    for cut in range(len(data) + 1):
        # Then the result is the same as in one piece.
        assert snapshot(parse([data[:cut], data[cut:]], SMALL_FAMILIES)) == whole, cut
    # And one byte at a time, or in random pieces, too.
    assert snapshot(parse([data[i : i + 1] for i in range(len(data))], SMALL_FAMILIES)) == whole
    rng = random.Random(1)
    for _ in range(300):
        cuts = sorted(rng.sample(range(len(data) + 1), rng.randint(2, 12)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert snapshot(parse(pieces, SMALL_FAMILIES)) == whole, cuts


def test_a_body_ending_anywhere_reads_its_last_line_or_reports_it() -> None:
    # Given the small body ended after every possible byte, so that its last line has no newline
    # (a connection dropped mid-body raises in the transport; a body that arrives whole is what
    # the server wrote)
    data = SMALL.encode()
    for cut in range(len(data) + 1):
        body = data[:cut]
        complete = body[: body.rfind(b"\n") + 1]
        tail = body[len(complete) :]
        # When it is parsed
        result = parse(chunked(body, 7), SMALL_FAMILIES)
        # Then it is exactly the complete lines' parse plus the last line parsed on its own
        expected = parse([complete], SMALL_FAMILIES)
        last = parse([tail + b"\n"], SMALL_FAMILIES)
        for family in SMALL_FAMILIES:
            assert rows(result.get(family)) == rows(expected.get(family)) + rows(last.get(family)), cut
        assert result.error_count == expected.error_count + last.error_count, cut
        assert result.lines == body.count(b"\n") + (1 if tail else 0), cut
        # and only a last line of a wanted family that does not parse marks the body truncated.
        assert result.truncated == (last.error_count > 0), cut


def test_a_last_line_without_newline_is_read() -> None:
    # Given a body whose last line has no newline (hand-written exporters often end so)
    body = b'# TYPE apiserver_requested_deprecated_apis gauge\napiserver_requested_deprecated_apis{group="policy",version="v1beta1",resource="podsecuritypolicies",removed_release="1.25"} 1'
    # When it is parsed
    result = parse([body], ["apiserver_requested_deprecated_apis"])
    # Then its sample is taken, and the body is whole.
    assert [s.labels["resource"] for s in result.get("apiserver_requested_deprecated_apis")] == [
        "podsecuritypolicies"
    ]
    assert not result.truncated and result.errors == [] and result.lines == 2


def test_a_last_line_cut_inside_its_label_set_is_an_error_and_the_body_truncated() -> None:
    body = b'up 1\napiserver_storage_size_bytes{storage_cluster_id="etc'
    result = parse([body], ETCD_SIZE)
    assert result.samples == {} and result.truncated
    assert result.errors == [
        "line 2 (apiserver_storage_size_bytes): invalid label set: "
        "'apiserver_storage_size_bytes{storage_cluster_id=\"etc'"
    ]


# --- values, labels, timestamps ------------------------------------------------------------------


def test_label_values_with_escapes_and_separators_are_read_like_prometheus_client() -> None:
    # Given label values holding escaped backslashes, quotes and newlines, and , } = and spaces
    text = (
        "# TYPE apiserver_request_total counter\n"
        'apiserver_request_total{path="C:\\\\dir\\\\",msg="say \\"hi\\"",multi="a\\nb"} 1\n'
        'apiserver_request_total{weird="a,b}c=d e",empty=""} 2\n'
        'apiserver_request_total{unknown_escape="x\\ty",trailing="comma",} 3\n'
        'apiserver_request_total {spaced = "yes" , also="ok"} 4\n'
        "apiserver_request_total{} 5\n"
        "apiserver_request_total 6\n"
    )
    # When parsed
    result = parse_text(text, ["apiserver_request_total"])
    # Then the values are unescaped as Prometheus defines (\\ \" \n; other pairs stay as written)
    labels = [s.labels for s in result.get("apiserver_request_total")]
    assert labels == [
        {"path": "C:\\dir\\", "msg": 'say "hi"', "multi": "a\nb"},
        {"weird": "a,b}c=d e", "empty": ""},
        {"unknown_escape": "x\\ty", "trailing": "comma"},
        {"spaced": "yes", "also": "ok"},
        {},
        {},
    ]
    assert [s.value for s in result.get("apiserver_request_total")] == [1, 2, 3, 4, 5, 6]
    # and exactly as prometheus_client reads them.
    assert (
        rows(result.get("apiserver_request_total"))
        == client_rows(text, ("apiserver_request_total",))["apiserver_request_total"]
    )
    assert result.error_count == 0


def test_special_and_scientific_values() -> None:
    # Given values written every way the format allows
    lines = ["NaN", "+Inf", "-Inf", "Inf", "1.5e+06", "2E-3", "-0", "42", "0x1p-2", ".5"]
    text = "".join(f'apiserver_storage_size_bytes{{i="{i}"}} {v}\n' for i, v in enumerate(lines))
    # When parsed
    result = parse_text(text, ETCD_SIZE)
    values = [s.value for s in result.get("apiserver_storage_size_bytes")]
    # Then each is the float it means (hex floats are refused: Prometheus accepts them, Python's float()
    # does not, and no exporter writes them; the line is counted as an error rather than misread).
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf, math.inf, 1.5e6, 2e-3, 0.0, 42.0, 0.5]
    assert result.error_count == 1 and result.errors[0].startswith(
        "line 9 (apiserver_storage_size_bytes): invalid value '0x1p-2'"
    )


def test_timestamps_are_integer_milliseconds() -> None:
    # Given samples with and without a timestamp, one negative, two not integers, one not a number
    text = (
        "apiserver_storage_size_bytes 1 1700000000123\n"
        "apiserver_storage_size_bytes 2\n"
        "apiserver_storage_size_bytes 3 -1000\n"
        "apiserver_storage_size_bytes 4 1700000000.5\n"
        "apiserver_storage_size_bytes 5 1.7e9\n"
        "apiserver_storage_size_bytes 6 soon\n"
    )
    result = parse_text(text, ETCD_SIZE)
    # Then the integer ones are kept in ms, a float one (OpenMetrics' seconds) keeps its sample
    # without a timestamp, and only the one that is no number is a reported bad line.
    assert [(s.value, s.timestamp_ms) for s in result.get("apiserver_storage_size_bytes")] == [
        (1.0, 1700000000123),
        (2.0, None),
        (3.0, -1000),
        (4.0, None),
        (5.0, None),
    ]
    assert result.error_count == 1
    assert result.errors[0].startswith("line 6 (apiserver_storage_size_bytes): invalid timestamp")


def test_crlf_line_endings_give_the_same_samples() -> None:
    # Given the same dump served with CRLF line endings
    data = metrics_dump("kube-apiserver-metrics-1_28.prom")
    lf = parse(chunked(data, 65536), MONITOR_FAMILIES)
    crlf = parse(chunked(data.replace(b"\n", b"\r\n"), 65536), MONITOR_FAMILIES)
    # Then nothing changes but the byte count.
    assert snapshot(crlf)["samples"] == snapshot(lf)["samples"] != {}
    assert crlf.types == lf.types and crlf.lines == lf.lines and crlf.error_count == 0


# --- which lines are selected --------------------------------------------------------------------


def test_histogram_and_summary_parts_belong_to_their_family() -> None:
    # Given a histogram, a summary, and a gauge whose name is another family's name + "_count"
    text = (
        "# TYPE req_seconds histogram\n"
        'req_seconds_bucket{le="1"} 1\n'
        'req_seconds_bucket{le="+Inf"} 2\n'
        "req_seconds_sum 3.5\n"
        "req_seconds_count 2\n"
        "req_seconds_created 1700000000\n"
        "# TYPE gc summary\n"
        'gc{quantile="0.5"} 0.1\n'
        "gc_sum 1\n"
        "gc_count 10\n"
        "# TYPE size gauge\n"
        "size 5\n"
        "# TYPE size_count gauge\n"
        "size_count 99\n"
        "size_bucket 98\n"
    )
    # When the three families are asked for
    result = parse_text(text, ["req_seconds", "gc", "size"])
    # Then each family gets its own parts and no more (a gauge has no _count/_bucket),
    assert [s.name for s in result.get("req_seconds")] == [
        "req_seconds_bucket",
        "req_seconds_bucket",
        "req_seconds_sum",
        "req_seconds_count",
        "req_seconds_created",
    ]
    assert [s.name for s in result.get("gc")] == ["gc", "gc_sum", "gc_count"]
    assert [s.value for s in result.get("size")] == [5.0]
    assert result.types == {"req_seconds": "histogram", "gc": "summary", "size": "gauge"}
    # and asking for the suffixed name itself gives that family.
    assert [s.value for s in parse_text(text, ["size_count"]).get("size_count")] == [99.0]


def test_without_type_lines_histogram_parts_are_still_found() -> None:
    # Given an exporter that writes no # TYPE line for its histogram
    text = 'lat_bucket{le="1"} 1\nlat_sum 0.5\nlat_count 1\nlat 7\n'
    # Then the family still collects its histogram parts,
    assert [s.name for s in parse_text(text, ["lat"]).get("lat")] == [
        "lat_bucket",
        "lat_sum",
        "lat_count",
        "lat",
    ]
    # unless a suffixed name is declared a family of its own.
    declared = "# TYPE lat_count gauge\nlat_count 5\n" + text
    assert [s.name for s in parse_text(declared, ["lat"]).get("lat")] == ["lat_bucket", "lat_sum", "lat"]


def test_names_sharing_a_prefix_are_not_confused() -> None:
    # Given families whose names are prefixes of each other, and a family name inside a label value
    text = (
        "apiserver_request_total 1\n"
        "apiserver_request_total_extra 2\n"
        "apiserver_request 3\n"
        'unrelated{m="apiserver_request_total 9"} 4\n'
        "# HELP apiserver_request_total help text 5\n"
        "  apiserver_request_total 6\n"
    )
    result = parse_text(text, ["apiserver_request_total"])
    # Then only the exact name is kept (an indented line is still a line of that family).
    assert [s.value for s in result.get("apiserver_request_total")] == [1.0, 6.0]
    assert result.error_count == 0


def test_only_selected_families_are_parsed_or_reported() -> None:
    # Given a body with garbage in families nobody asked for
    text = 'junk{{{ "\nother_metric{a="b" 1\napiserver_storage_size_bytes 5\nfoo bar baz\n'
    result = parse_text(text, ETCD_SIZE)
    # Then it is skipped silently, the wanted sample is read, and every line is counted.
    assert rows(result.get("apiserver_storage_size_bytes")) == [
        ("apiserver_storage_size_bytes", (), "5.0", None)
    ]
    assert result.error_count == 0
    assert result.lines == 4
    assert result.get("etcd_db_total_size_in_bytes") == []


def test_a_single_family_name_given_as_a_string_is_one_family() -> None:
    # Given a caller passing one name instead of a list of names
    result = parse_text("apiserver_storage_size_bytes 5\na 1\n", "apiserver_storage_size_bytes")
    # Then it is that family, not a set of one-letter families.
    assert set(result.samples) == {"apiserver_storage_size_bytes"}


# --- bad input -----------------------------------------------------------------------------------

GARBLED = (
    b"# TYPE apiserver_request_total counter\n"  # 1
    b'apiserver_request_total{code="200"} 5\n'  # 2
    b'apiserver_request_total{code="200" 5\n'  # 3 label set not closed
    b"apiserver_request_total{code=200} 5\n"  # 4 value not quoted
    b'apiserver_request_total{code="500"}\n'  # 5 no value
    b'apiserver_request_total{code="500"} five\n'  # 6
    b'apiserver_request_total{code="500"} 1 2 3\n'  # 7
    b'apiserver_request_total{code="x",code="y"} 1\n'  # 8 duplicate label
    b'apiserver_request_total{code="\xff\xfe"} 1\n'  # 9 not UTF-8
    b"apiserver_request_total 1_000\n"  # 10 Python would read it, Prometheus does not
    b'apiserver_request_total{code="abc\\"} 1\n'  # 11 escaped closing quote: unterminated
    b"unrelated_metric{{{ garbage\n"  # 12 not selected: no error
    b'apiserver_request_total{code="201"} 7\n'  # 13
    b"# TYPE apiserver_storage_size_bytes bogus\n"  # 14
)


def test_garbled_lines_of_a_selected_family_are_reported_and_skipped() -> None:
    # Given a selected family with garbled lines between good ones
    result = parse([GARBLED], ["apiserver_request_total", "apiserver_storage_size_bytes"])
    # Then the good samples are kept,
    assert [s.labels for s in result.get("apiserver_request_total")] == [{"code": "200"}, {"code": "201"}]
    # and each bad line is counted and reported with its line number.
    assert [e.split(":")[0] for e in result.errors] == [
        *(f"line {n} (apiserver_request_total)" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11)),
        "line 14 (apiserver_storage_size_bytes)",
    ]
    assert result.error_families == {"apiserver_request_total": 9, "apiserver_storage_size_bytes": 1}
    assert result.error_count == 10
    assert "duplicate label 'code'" in result.errors[5]
    assert "invalid UTF-8" in result.errors[6]
    assert "apiserver_storage_size_bytes" not in result.types


def test_error_messages_are_capped_but_all_errors_counted() -> None:
    result = parse([GARBLED], ["apiserver_request_total"], max_errors=3)
    assert result.error_count == 9
    assert [e.split(" ")[1] for e in result.errors] == ["3", "4", "5"]


def test_random_damage_never_raises_and_never_depends_on_chunking() -> None:
    # Given real lines damaged at random (bytes dropped, doubled or replaced by format characters)
    source = metrics_dump("kube-apiserver-metrics-1_35.prom")
    start = source.index(b"# HELP apiserver_storage_size_bytes")
    base = source[start - 2000 : start + 2000] + SMALL.encode() + GARBLED
    families = (*MONITOR_FAMILIES, "apiserver_storage_objects", "apiserver_storage_list_total")
    rng = random.Random(7)
    specials = [b"{", b"}", b'"', b"\\", b"\n", b"\r", b" ", b"=", b",", b"#", b"\xff", b"\xc3", b"e", b"_"]
    damaged_lines = 0
    for _ in range(150):
        data = bytearray(base)
        for _ in range(rng.randint(1, 30)):
            pos = rng.randrange(len(data))
            what = rng.randrange(3)
            if what == 0:
                del data[pos]
            elif what == 1:
                data[pos:pos] = data[pos : pos + rng.randint(1, 20)]
            else:
                data[pos : pos + 1] = rng.choice(specials)
        body = bytes(data)
        # When it is parsed whole and in random chunks
        whole = parse([body], families)
        cut = parse(chunked(body, rng.randint(1, 300)), families)
        # Then nothing raises, the result does not depend on the chunking,
        assert snapshot(whole) == snapshot(cut)
        # and every kept sample is a well-formed sample of a wanted family.
        for family, samples in whole.samples.items():
            assert family in families
            assert all(s.name.startswith(family) and isinstance(s.value, float) for s in samples)
        damaged_lines += whole.error_count
    assert damaged_lines > 150  # the damage did reach selected lines


def test_binary_garbage_is_survived() -> None:
    rng = random.Random(3)
    body = bytes(rng.randrange(256) for _ in range(50_000))
    result = parse(chunked(body, 4096), MONITOR_FAMILIES)
    assert result.samples == {}
    assert result.bytes == 50_000


# --- OpenMetrics # EOF ---------------------------------------------------------------------------


def test_eof_is_a_comment_and_what_follows_it_is_read() -> None:
    # Given an OpenMetrics # EOF marker with samples after it (bodies concatenated by a proxy or a
    # sidecar, or a producer mixing formats)
    text = "apiserver_storage_size_bytes 1\n# EOF\napiserver_storage_size_bytes 2\n"
    result = parse_text(text, ETCD_SIZE)
    # Then # EOF is seen, and the samples after it are read like the others.
    assert result.saw_eof and not result.truncated
    assert [s.value for s in result.get("apiserver_storage_size_bytes")] == [1.0, 2.0]
    assert result.error_count == 0 and result.lines == 3


def test_eof_is_found_and_counted_the_same_however_the_body_is_cut() -> None:
    # Given OpenMetrics bodies ending at # EOF, or with lines (complete or not) after it
    for text in (
        "# TYPE apiserver_storage_size_bytes gauge\napiserver_storage_size_bytes 1\n# EOF\n",
        "apiserver_storage_size_bytes 1\r\n# EOF\r\nafter 1\n\nother_bytes 2",
    ):
        data = text.encode()
        whole = snapshot(parse([data], ETCD_SIZE))
        assert whole["saw_eof"] and not whole["truncated"]
        assert whole["lines"] == len(text.splitlines())
        assert whole["samples"] == {
            "apiserver_storage_size_bytes": [("apiserver_storage_size_bytes", (), "1.0", None)]
        }
        # When it is cut in two anywhere, Then nothing changes.
        for cut in range(len(data) + 1):
            assert snapshot(parse([data[:cut], data[cut:]], ETCD_SIZE)) == whole, (text, cut)


def test_eof_without_a_final_newline_is_complete() -> None:
    # OpenMetrics allows the newline after # EOF to be left out.
    result = parse([b"apiserver_storage_size_bytes 1\n# EO", b"F"], ETCD_SIZE)
    assert result.saw_eof and not result.truncated
    assert result.error_count == 0 and result.lines == 2


def test_a_body_without_eof_does_not_claim_one() -> None:
    result = parse_text("# EOF is not here\napiserver_storage_size_bytes 1\n", ETCD_SIZE)
    assert not result.saw_eof
    assert [s.value for s in result.get("apiserver_storage_size_bytes")] == [1.0]


# --- memory --------------------------------------------------------------------------------------


def repeated(data: bytes, times: int, size: int = 65536) -> Iterator[bytes]:
    for _ in range(times):
        yield from chunked(data, size)


def peak_bytes(
    chunks: Iterator[bytes], families: tuple[str, ...], **kwargs: int
) -> tuple[int, ParsedMetrics]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = parse(chunks, families, **kwargs)
        return tracemalloc.get_traced_memory()[1] - before, result
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_size_of_the_body() -> None:
    # Given a 3 MB dump streamed 3 times and 9 times over in 64 KiB chunks
    data = metrics_dump("kube-apiserver-metrics-1_35.prom")
    small, small_result = peak_bytes(repeated(data, 3), ETCD_SIZE)
    large, large_result = peak_bytes(repeated(data, 9), ETCD_SIZE)
    # When only the etcd size is kept, Then peak memory is a few chunks, whatever the body size.
    assert len(large_result.get("apiserver_storage_size_bytes")) == 9
    assert large_result.bytes == 3 * small_result.bytes
    assert large < 1_000_000
    assert large < small * 1.25 + 50_000


def test_a_body_without_newlines_is_not_buffered_whole() -> None:
    # Given 8 MiB that never ends a line (a broken or hostile endpoint)
    chunks = (b"x" * 65536 for _ in range(128))
    peak, result = peak_bytes(chunks, MONITOR_FAMILIES, max_line_bytes=256 * 1024)
    # Then memory stays near the line limit, and the body is reported truncated.
    assert peak < 1_500_000
    assert result.truncated and result.lines == 1 and result.bytes == 8 * 1024 * 1024


def test_an_over_long_selected_line_is_an_error_however_it_is_chunked() -> None:
    # Given a selected line longer than the limit, followed by a good one
    line = b'apiserver_request_total{v="' + b"x" * 5000 + b'"} 1\n'
    data = b"a 1\n" + line + b"apiserver_request_total 2\n"
    for size in (len(data), 1000, 64):
        # When the limit is below it
        result = parse(chunked(data, size), ["apiserver_request_total"], max_line_bytes=1024)
        # Then that line is skipped and reported, and reading goes on after it.
        assert [s.value for s in result.get("apiserver_request_total")] == [2.0], size
        assert result.error_count == 1, size
        assert result.errors[0].startswith("line 2 (apiserver_request_total): line longer than 1024 bytes"), (
            size
        )
        assert result.lines == 3, size


def test_long_blank_runs_inside_a_line_do_not_stall_the_parser() -> None:
    # Given valid and broken lines padded with 100 000 blanks where the format allows blanks
    # (a regex that backtracks between two blank runs would need minutes for each of these)
    pad = " " * 100_000
    body = (
        f'apiserver_request_total{{a="b"{pad},c="d"{pad}}} 1\n'
        f'apiserver_request_total{{{pad}a{pad}={pad}"b"{pad}}}{pad}2{pad}3{pad}\n'
        f'apiserver_request_total{{a="b"{pad}x}} 1\n'
        f"apiserver_request_total{pad}4{pad}5{pad}x\n"
    ).encode()
    start = time.perf_counter()
    result = parse(chunked(body, 65536), ["apiserver_request_total"])
    # Then they are read in well under a second each, the broken ones reported.
    assert time.perf_counter() - start < 5
    assert [(s.labels, s.value, s.timestamp_ms) for s in result.get("apiserver_request_total")] == [
        ({"a": "b", "c": "d"}, 1.0, None),
        ({"a": "b"}, 2.0, 3),
    ]
    assert result.error_count == 2


# --- the parser's limits: broken ones are named in `invalid` ---------------------------------------


@pytest.mark.parametrize("name", metrics_dump_names())
def test_real_dumps_break_no_limit(name: str) -> None:
    result = parse(chunked(metrics_dump(name), 65536), MONITOR_FAMILIES)
    assert result.invalid is None, result.invalid


def test_a_line_past_the_limit_is_named_even_when_no_family_is_on_it() -> None:
    body = b"# TYPE up gauge\nup 1\n" + b"x" * 5000 + b"\napiserver_storage_size_bytes 7\n"
    result = parse(chunked(body, 700), ETCD_SIZE, max_line_bytes=2048)
    assert result.invalid == "line 3 is longer than 2048 bytes"
    assert [s.value for s in result.get("apiserver_storage_size_bytes")] == [7.0]  # the rest still read
    assert parse([body], ETCD_SIZE).invalid is None  # under the default 1 MiB


def test_a_body_past_the_size_limit_stops_being_read() -> None:
    pulled = 0

    def endless() -> Iterator[bytes]:
        nonlocal pulled
        while True:
            pulled += 1
            yield b"up 1\n" * 1000

    result = parse(endless(), ETCD_SIZE, max_body_bytes=100_000)
    assert result.invalid == "body larger than 100000 bytes; reading stopped there"
    assert result.truncated and pulled == 21


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (random.Random(1).randbytes(20_000), "not the Prometheus text format"),
        (b'{"kind": "Status"}\n', "not the Prometheus text format: the first line is neither"),
        (b"up\xff\xfe 1\nup 2\n", "not the Prometheus text format: the first line is not UTF-8"),
    ],
    ids=["random", "json", "latin"],
)
def test_text_that_is_not_the_exposition_format_is_named(body: bytes, reason: str) -> None:
    result = parse(chunked(body, 4096), ETCD_SIZE)
    assert result.invalid is not None and result.invalid.startswith(reason), result.invalid


def test_blank_lines_before_the_first_metric_are_fine() -> None:
    assert parse([b"\n\n  \n", b"# TYPE up gauge\nup 1\n"], ["up"]).invalid is None


# --- what real producers write ---------------------------------------------------------------------
DEPRECATED = "apiserver_requested_deprecated_apis"
PSP = (
    f'{DEPRECATED}{{group="policy",removed_release="1.25",resource="podsecuritypolicies",version="v1beta1"}}'
)


@pytest.mark.parametrize(
    "line",
    [
        f'{PSP} 1 # {{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"}} 1 1700000000.123',
        f'{PSP} 1 1700000000000 # {{trace_id="x y }} z"}} 0.5',
        f"{PSP} 1 1700000000.5",
        f"{PSP} 1 1.7e9",
        f"{PSP}\t1\t#\t{{}}\t1",
    ],
    ids=["exemplar", "exemplar-after-timestamp", "float-timestamp", "float-timestamp-exponent", "tabs"],
)
def test_exemplars_and_float_timestamps_are_ignored_and_the_sample_kept(line: str) -> None:
    # Given an OpenMetrics-style sample of a family eksmon reads, with the fast and the slow path
    for text in (line, line.replace("{group", "{ group")):  # a blank sends the line the slow way
        result = parse_text(f"# TYPE {DEPRECATED} gauge\n{text}\n", [DEPRECATED])
        # Then the sample is read; a float timestamp (OpenMetrics' seconds) is dropped, not misread
        (sample,) = result.get(DEPRECATED)
        assert sample.value == 1.0 and sample.labels["resource"] == "podsecuritypolicies"
        assert sample.timestamp_ms == (1700000000000 if "000000000 #" in text else None)
        assert result.errors == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (f"{PSP} 1 #", "invalid exemplar"),
        (f"{PSP} 1 # trace 1", "invalid exemplar"),
        (f"{PSP} 1 nan_ts", "invalid timestamp"),
        (f"{PSP} 1 Inf", "invalid timestamp"),
    ],
)
def test_a_broken_exemplar_or_timestamp_is_still_an_error(line: str, reason: str) -> None:
    result = parse_text(f"{line}\n", [DEPRECATED])
    assert result.samples == {}
    assert result.errors[0].startswith(f"line 1 ({DEPRECATED}): {reason}")


def test_a_duplicate_label_is_an_error_as_in_prometheus_not_last_wins() -> None:
    # Given a deprecated-API sample naming "group" twice (client_golang never writes it; Prometheus'
    # TSDB refuses it: label name "group" is not unique)
    result = parse_text(f'{DEPRECATED}{{group="policy",group="apps",version="v1beta1"}} 1\n', [DEPRECATED])
    # Then no sample is invented, and the line is reported with its family and number.
    assert result.samples == {}
    assert result.errors[0].startswith(f"line 1 ({DEPRECATED}): duplicate label 'group'")
    assert result.error_families == {DEPRECATED: 1}


def test_nul_and_any_utf8_in_label_values_are_read() -> None:
    body = (
        b'other_family{a="\x00"} 1\n'
        + PSP.encode().replace(b'resource="', b'resource="\x00\xe2\x82\xac ')
        + b" 1\n"
    )
    result = parse([body], [DEPRECATED])
    assert result.invalid is None and result.errors == []
    assert [s.labels["resource"] for s in result.get(DEPRECATED)] == ["\x00€ podsecuritypolicies"]


def test_prometheus_3_quoted_names_of_a_wanted_family_are_read_and_others_counted() -> None:
    # Given Prometheus 3 text: quoted metric names, quoted label names, and a quoted TYPE
    text = (
        f'# TYPE "{DEPRECATED}" gauge\n'
        f'{{"{DEPRECATED}", group="policy", "removed.release"="1.25"}} 1\n'
        f'{{ "{DEPRECATED}" }} 2\n'
        '{"otel.scope.info", "otel.scope.name"="x"} 1\n'
        '{"http.server.duration_bucket", le="+Inf"} 3\n'
    )
    result = parse_text(text, [DEPRECATED])
    # Then the wanted family's samples are read with their labels unquoted,
    assert rows(result.get(DEPRECATED)) == [
        (DEPRECATED, (("group", "policy"), ("removed.release", "1.25")), "1.0", None),
        (DEPRECATED, (), "2.0", None),
    ]
    assert result.types == {DEPRECATED: "gauge"}
    # and every quoted-name sample line is counted, the other families' ones only counted.
    assert result.quoted_name_lines == 4 and result.selected_lines == 3 and result.lines == 5


def test_a_wanted_name_followed_by_junk_is_that_familys_error() -> None:
    # "name\x00{...}" is not another metric: it is a broken line of the wanted family
    result = parse([f'{DEPRECATED}\x00{{group="x"}} 1\n{DEPRECATED}_other 1\n'.encode()], [DEPRECATED])
    assert result.samples == {} and result.error_families == {DEPRECATED: 1}


def test_lines_of_other_families_are_counted_not_parsed() -> None:
    text = "garbage{{{ 1\nup 1\n" + f"{PSP} 1\n" + "x{bad 2\n"
    result = parse_text(text, [DEPRECATED])
    assert result.errors == [] and result.lines == 4 and result.selected_lines == 1
