"""The upstream parsers' own test cases, run through eksmon's parser.

The inputs are in tests/fixtures/prometheus-upstream (byte for byte as the upstream tests build them;
SOURCES.md there says from where, under which licence). The expected outcomes are written here:

* prometheus/prometheus ``model/textparse/promparse_test.go``: the samples each accepted input gives
  (as that test lists them), and for each input it rejects, that eksmon reports an error for the
  family of the line -- or, for the few where eksmon is lenient on purpose, why;
* prometheus/client_python ``tests/test_parser.py``: prometheus_client itself (a dev dependency) is
  the oracle for the samples, and the one input it rejects must be an error here too.

eksmon parses only the families it is asked for, so each case asks for the families on its lines.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from eksmon.prometheus import ParsedMetrics, Sample, parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prometheus-upstream"
PROMPARSE = FIXTURES / "promparse"
CLIENT = FIXTURES / "client_python"

Row = tuple[str, tuple[tuple[str, str], ...], str, int | None]


def row(name: str, labels: dict[str, str], value: float, ts: int | None = None) -> Row:
    return (name, tuple(sorted(labels.items())), repr(float(value)), ts)


def rows(samples: list[Sample]) -> list[Row]:
    return [row(s.name, s.labels, s.value, s.timestamp_ms) for s in samples]


def all_rows(result: ParsedMetrics) -> list[Row]:
    return sorted(r for samples in result.samples.values() for r in rows(samples))


def as_prometheus_3_stores(result: ParsedMetrics) -> list[Row]:
    """Prometheus 3 stores a summary's ``quantile`` and a histogram's ``le`` as canonical floats
    (``"0"`` -> ``"0.0"``), so that one bucket written two ways is one series. eksmon keeps label
    values as written, like prometheus_client, and reads ``le`` with float() where it uses it (same
    buckets); to compare with what promparse_test.go lists, those two labels are canonicalised here."""

    def canonical(value: str) -> str:
        number = float(value)
        return "+Inf" if number == math.inf else "-Inf" if number == -math.inf else repr(number)

    out: list[Row] = []
    for family, samples in result.samples.items():
        key = {"summary": "quantile", "histogram": "le"}.get(result.types.get(family, ""))
        for name, labels, value, ts in rows(samples):
            fixed = tuple((k, canonical(v) if k == key else v) for k, v in labels)
            out.append((name, fixed, value, ts))
    return sorted(out)


def read(path: Path, families: list[str]) -> ParsedMetrics:
    data = path.read_bytes()
    result = parse([data], families)
    # however the body is cut into chunks, the outcome is the same
    for size in (1, 7):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        again = parse(chunks, families)
        assert (all_rows(again), again.errors, again.invalid) == (
            all_rows(result),
            result.errors,
            result.invalid,
        )
    return result


def test_the_fixtures_are_all_there() -> None:
    assert len(list(PROMPARSE.glob("*.prom"))) == 30
    assert len(list(CLIENT.glob("*.prom"))) == 47
    assert (FIXTURES / "SOURCES.md").is_file() and (FIXTURES / "LICENSE").is_file()


# -- prometheus/prometheus: TestPromParse and TestUTF8PromParse ---------------------------------------
GC = "go_gc_duration_seconds"
GC_LINES = [
    ({"quantile": "0.0"}, 4.9351e-05),
    ({"quantile": "0.25"}, 7.424100000000001e-05),
    ({"quantile": "0.5", "a": "b"}, 8.3835e-05),
    ({"quantile": "0.8", "a": "b"}, 8.3835e-05),
    ({"quantile": "0.9", "a": "b"}, 8.3835e-05),
]


def test_prom_parse_gives_the_samples_prometheus_lists() -> None:
    http = "prometheus_http_request_duration_seconds"
    families = [
        GC,
        http,
        "wind_speed",
        "some:aggregate:rate5m",
        "go_goroutines",
        "some_counter_total",
        "_metric_starting_with_underscore",
        "testmetric",
        "type_and_unit_test1",
        "type_and_unit_test2",
        "null_byte_metric",
    ]
    result = read(PROMPARSE / "TestPromParse.prom", families)
    assert result.errors == [] and result.invalid is None
    expected = [
        *(row(GC, labels, value) for labels, value in GC_LINES),
        row(http + "_bucket", {"handler": "/", "le": "1.0"}, 423),
        row(http + "_bucket", {"handler": "/", "le": "2.0"}, 1423),
        row(http + "_bucket", {"handler": "/", "le": "+Inf"}, 1423),
        row(http + "_sum", {"handler": "/"}, 2000),
        row(http + "_count", {"handler": "/"}, 1423),
        row("wind_speed", {"A": "2", "c": "3"}, 12345),
        *(row(GC, {"quantile": "1.0", "a": "b"}, 8.3835e-05) for _ in range(4)),
        # no comma between the labels: Prometheus reads it (its test notes it as probably unintended)
        row(GC, {"quantile": "2.0", "a": "b"}, 8.3835e-05),
        row(GC + "_count", {}, 99),
        row("some:aggregate:rate5m", {"a_b": "c"}, 1),
        row("go_goroutines", {}, 33, 123123),
        row("some_counter_total", {}, 12),
        row("_metric_starting_with_underscore", {}, 1),
        row("testmetric", {"_label_starting_with_underscore": "foo"}, 1),
        row("testmetric", {"label": '"bar"'}, 1),
        row("testmetric", {"le": "10"}, 1),  # no TYPE: not a histogram, kept as written
        row("type_and_unit_test1", {"__type__": "counter"}, 123),
        row("type_and_unit_test2", {"__type__": "counter"}, 123),
        row("null_byte_metric", {"a": "abc\x00"}, 1),  # the body's last line, without newline
    ]
    assert as_prometheus_3_stores(result) == sorted(expected)
    assert result.types == {
        GC: "summary",
        http: "histogram",
        "go_goroutines": "gauge",
        "some_counter_total": "counter",
        "type_and_unit_test1": "gauge",
    }


def test_utf8_prom_parse_gives_the_samples_prometheus_lists() -> None:
    gc = "go.gc_duration_seconds"
    heiz = 'Heizölrückstoßabdämpfung 10€ metric with "interesting" {character\nchoices}'
    result = read(PROMPARSE / "TestUTF8PromParse.prom", [gc, heiz])
    assert result.errors == [] and result.invalid is None
    expected = [
        *(row(gc, labels, value) for labels, value in GC_LINES),
        *(row(gc, {"quantile": "1.0", "a": "b"}, 8.3835e-05) for _ in range(4)),
        row(gc + "_count", {}, 99),
        row(heiz, {"strange©™\n'quoted' \"name\"": "6"}, 10.0),
    ]
    assert as_prometheus_3_stores(result) == sorted(expected)
    assert result.types == {gc: "summary"}
    assert result.quoted_name_lines == 11


# -- prometheus/prometheus: TestPromParseErrors and TestPromNullByteHandling --------------------------
# file -> (the family its line belongs to, what Prometheus says)
PROM_REJECTS: dict[str, tuple[str, str]] = {
    "TestPromParseErrors-00": ("a", "expected value after metric"),
    "TestPromParseErrors-01": ("a", "expected label value"),
    "TestPromParseErrors-02": ("a", "expected label value"),
    "TestPromParseErrors-03": ("a", "expected label name"),
    "TestPromParseErrors-04": ("a", "invalid UTF-8 label value"),
    "TestPromParseErrors-05": ("a", "expected equal"),
    "TestPromParseErrors-06": ("a", "expected equal"),
    "TestPromParseErrors-07": ("a", 'strconv.ParseFloat: parsing "true"'),
    "TestPromParseErrors-08": ("something_weird", "expected label value"),
    "TestPromParseErrors-09": ("empty_label_name", "expected label name"),
    "TestPromParseErrors-11": ("foo", "unsupported character in float"),
    "TestPromParseErrors-12": ("foo", "unsupported character in float"),
    "TestPromParseErrors-13": ("foo", "unsupported character in float"),
    "TestPromParseErrors-14": ("foo", "expected next entry after timestamp"),
    "TestPromNullByteHandling-04": ("a", "expected label value"),
    "TestPromNullByteHandling-05": ("a", "expected label value"),
    "TestPromNullByteHandling-06": ("a", "expected equal"),
    "TestPromNullByteHandling-07": ("a", "expected value after metric"),
    "TestPromNullByteHandling-08": ("a", "expected next entry after timestamp"),
}
# A sample without a metric name: as a body's first line, the body is not the format (the caller
# reports it); further down it belongs to no family eksmon reads, and is skipped (counted).
PROM_REJECTS_BODY = {
    "TestPromParseErrors-10": "expected equal",
    "TestPromParseErrors-15": "metric name not set",
    "TestPromParseBareIdentifierInBraces": "(must not panic)",
}
# Rejected by Prometheus, not an error here, on purpose: eksmon reads named families only, and these
# comments name none. They are skipped like any line of a family eksmon does not read.
LENIENT: dict[str, str] = {
    "TestPromParseErrors-16": "a TYPE comment naming no metric",
    "TestPromParseErrors-17": "a HELP comment naming no metric",
}
PROM_ACCEPTS_NUL: dict[str, Row] = {
    "TestPromNullByteHandling-00": row("null_byte_metric", {"a": "abc\x00"}, 1),
    "TestPromNullByteHandling-01": row("a", {"b": "\x00ss"}, 1),
    "TestPromNullByteHandling-02": row("a", {"b": "\x00"}, 1),
    "TestPromNullByteHandling-03": row("a", {"b": "\x00"}, 1),
}


def test_every_promparse_fixture_has_an_expected_outcome_here() -> None:
    named = {
        "TestPromParse",
        "TestUTF8PromParse",
        *PROM_REJECTS,
        *PROM_REJECTS_BODY,
        *LENIENT,
        *PROM_ACCEPTS_NUL,
    }
    assert {p.stem for p in PROMPARSE.glob("*.prom")} == named


@pytest.mark.parametrize("case", sorted(PROM_REJECTS))
def test_what_prometheus_rejects_is_a_reported_error_of_that_family(case: str) -> None:
    family, upstream = PROM_REJECTS[case]
    result = read(PROMPARSE / f"{case}.prom", [family])
    # no sample comes out of it, and the line is named with its family (Prometheus: {upstream})
    assert result.samples == {}, upstream
    assert result.error_count == 1 and result.error_families == {family: 1}, upstream
    assert result.errors[0].startswith(f"line 1 ({family}): "), upstream


@pytest.mark.parametrize("case", sorted(PROM_REJECTS_BODY))
def test_a_body_prometheus_rejects_from_its_first_line_is_not_the_format(case: str) -> None:
    result = read(PROMPARSE / f"{case}.prom", ["a"])
    assert result.samples == {}
    assert result.invalid is not None and result.invalid.startswith("not the Prometheus text format")
    # further down a body, the same line is of no family, and skipped
    later = parse([b"up 1\n" + (PROMPARSE / f"{case}.prom").read_bytes()], ["a"])
    assert later.invalid is None and later.samples == {} and later.quoted_name_lines == 1


@pytest.mark.parametrize("case", sorted(LENIENT))
def test_what_eksmon_reads_leniently_on_purpose(case: str) -> None:
    result = read(PROMPARSE / f"{case}.prom", ["a", "TYPE", "HELP", "EOF"])
    assert result.samples == {} and result.error_count == 0 and result.invalid is None, LENIENT[case]


@pytest.mark.parametrize("case", sorted(PROM_ACCEPTS_NUL))
def test_nul_in_label_values_is_read_like_prometheus(case: str) -> None:
    expected = PROM_ACCEPTS_NUL[case]
    result = read(PROMPARSE / f"{case}.prom", [expected[0]])
    assert all_rows(result) == [expected]
    assert result.errors == [] and result.invalid is None


# -- prometheus/client_python: tests/test_parser.py ---------------------------------------------------
CLIENT_CASES = sorted(p.stem for p in CLIENT.glob("*.prom"))
CLIENT_REJECTS = {"test_multiple_trailing_commas": "a"}


def client_samples(text: str) -> tuple[list[str], list[Row]]:
    """prometheus_client's families and samples; counters' ``_total`` is dropped on both sides, as
    prometheus_client adds it to counter samples written without it."""
    families: list[str] = []
    found: list[Row] = []
    for metric in text_string_to_metric_families(text):
        families += [metric.name, metric.name + "_total"]
        for s in metric.samples:
            ts = None if s.timestamp is None else round(float(s.timestamp) * 1000)
            found.append(row(s.name.removesuffix("_total"), s.labels, s.value, ts))
    return families, sorted(found)


def test_the_client_python_cases_cover_its_parser_tests() -> None:
    assert len(CLIENT_CASES) == 47 and set(CLIENT_REJECTS) <= set(CLIENT_CASES)


@pytest.mark.parametrize("case", [c for c in CLIENT_CASES if c not in CLIENT_REJECTS])
def test_each_client_python_case_gives_prometheus_clients_samples(case: str) -> None:
    text = (CLIENT / f"{case}.prom").read_text()
    families, expected = client_samples(text)
    result = read(CLIENT / f"{case}.prom", families)
    ours = sorted(
        (name.removesuffix("_total"), labels, value, ts) for name, labels, value, ts in all_rows(result)
    )
    assert ours == expected
    assert result.errors == [] and result.invalid is None


@pytest.mark.parametrize("case", sorted(CLIENT_REJECTS))
def test_what_client_python_rejects_is_a_reported_error(case: str) -> None:
    text = (CLIENT / f"{case}.prom").read_text()
    with pytest.raises(ValueError):
        list(text_string_to_metric_families(text))
    family = CLIENT_REJECTS[case]
    result = read(CLIENT / f"{case}.prom", [family])
    assert result.samples == {} and result.error_families == {family: 1}


def test_client_python_nan_is_nan() -> None:
    result = read(CLIENT / "test_nan.prom", ["a"])
    assert math.isnan(result.get("a")[0].value)


# -- prometheus/prometheus: model/textparse/testdata ---------------------------------------------------
TESTDATA = FIXTURES / "testdata"


def test_alltypes_237_families_give_prometheus_clients_samples() -> None:
    # Given Prometheus's own 237-family text body (every metric type), streamed in 64 KiB chunks
    text = gzip.decompress((TESTDATA / "alltypes.237mfs.prom.txt.gz").read_bytes()).decode()
    families, expected = client_samples(text)
    assert len(families) == 2 * 237  # each family, and its name + "_total"
    data = text.encode()
    result = parse([data[i : i + 65536] for i in range(0, len(data), 65536)], families)
    # Then every sample is prometheus_client's, and nothing is an error.
    ours = sorted((n.removesuffix("_total"), labels, value, ts) for n, labels, value, ts in all_rows(result))
    assert ours == expected
    assert result.errors == [] and result.invalid is None


def test_an_openmetrics_body_with_exemplars_and_eof_loses_no_sample() -> None:
    # Given Prometheus's OpenMetrics test body: exemplars with float timestamps, _created lines, # EOF
    data = (TESTDATA / "alltypes.5mfs.om.txt").read_bytes()
    lines = data.decode().splitlines()
    families = sorted({line.split()[2] for line in lines if line.startswith("# TYPE ")})
    # When it is read as text
    result = parse([data], families)
    # Then every sample line gives a sample (exemplars ignored), none is an error, # EOF is seen.
    samples = [line for line in lines if line and not line.startswith("#")]
    assert sum(len(s) for s in result.samples.values()) == len(samples)
    assert any(" # {" in line for line in samples)
    assert result.errors == [] and result.saw_eof and not result.truncated
    bucket = "rpc_durations_histogram_seconds_bucket"
    (first,) = [
        s
        for s in result.get("rpc_durations_histogram_seconds")
        if s.labels.get("le") == "-0.0002899999999999998"
    ]
    assert (first.name, first.value, first.timestamp_ms) == (bucket, 3.0, None)
