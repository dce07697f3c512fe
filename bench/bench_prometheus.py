"""Benchmark: eksmon's streaming /metrics parser against prometheus_client, on a big-cluster body.

A large apiserver serves 10-50 MB on /metrics. The input here is the real v1.35 kube-apiserver
dump (shared/fixtures/metrics) grown the way a bigger cluster grows: every series of each family is
repeated with one more label, apiserver="N", N = 0, 1, 2, ... (same families, same HELP/TYPE lines,
more series). Nothing about the format is invented. The body is made in 64 KiB chunks, as urllib3's
response.stream(65536) hands it over.

1. Speed: the same ~50 MB, the same families. prometheus_client has to parse every line (that is
   what it does) and the wanted families are picked afterwards; eksmon skips the other lines.
2. Memory: tracemalloc peak while eksmon parses a 10 MB and a 50 MB body streamed from a generator
   (the body never exists whole). Kept samples grow with the input here, because the relabelled
   copies are new series of the wanted families; the working memory (peak - kept result) should not.

Run: .venv/bin/python bench/bench_prometheus.py   (about a minute on 2 cores)
"""

from __future__ import annotations

import gc
import io
import statistics
import sys
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "functions"))

from prometheus_client.parser import text_fd_to_metric_families  # noqa: E402

from eksmon.prometheus import ParsedMetrics, parse  # noqa: E402
from eksmon.sim.dumps import read_dump  # noqa: E402

FIXTURE = "kube-apiserver-metrics-1_35.prom"  # shipped with the simulator
CHUNK = 65536
MB = 1_000_000

MONITOR_FAMILIES = (
    "apiserver_storage_size_bytes",
    "apiserver_storage_db_total_size_in_bytes",
    "etcd_db_total_size_in_bytes",
    "apiserver_requested_deprecated_apis",
    "apiserver_admission_webhook_rejection_count",
    "apiserver_admission_webhook_admission_duration_seconds",
    "apiserver_request_total",
)
# The same plus the biggest histogram of the dump (a fifth of its lines): the cost of asking for a lot.
HEAVY_FAMILIES = (*MONITOR_FAMILIES, "apiserver_request_duration_seconds")
ETCD_SIZE_ONLY = MONITOR_FAMILIES[:3]

Block = tuple[bytes, list[tuple[bytes, bytes]]]


def load_blocks(data: bytes) -> list[Block]:
    """The dump as families: (HELP/TYPE lines, sample lines split where the new label goes)."""
    blocks: list[Block] = []
    header: list[bytes] = []
    samples: list[tuple[bytes, bytes]] = []
    for line in data.splitlines(keepends=True):
        if line.startswith(b"#"):
            if samples:
                blocks.append((b"".join(header), samples))
                header, samples = [], []
            header.append(line)
            continue
        if not line.strip():
            continue
        brace, space = line.find(b"{"), line.find(b" ")
        if 0 <= brace < space:  # name{a="b"} v  ->  name{apiserver="N",a="b"} v
            rest = line[brace + 1 :]
            sep = b'"' if rest.lstrip().startswith(b"}") else b'",'
            samples.append((line[:brace] + b'{apiserver="', sep + rest))
        else:  # name v  ->  name{apiserver="N"} v
            samples.append((line[:space] + b'{apiserver="', b'"}' + line[space:]))
    blocks.append((b"".join(header), samples))
    return blocks


def body_size(blocks: list[Block], reps: int) -> int:
    size = 0
    for header, samples in blocks:
        fixed = sum(len(head) + len(tail) for head, tail in samples)
        size += len(header) + reps * fixed + len(samples) * sum(len(str(r)) for r in range(reps))
    return size


def reps_for(blocks: list[Block], target: int) -> int:
    reps = 1
    while body_size(blocks, reps) < target:
        reps += 1
    return reps


def body(blocks: list[Block], reps: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The grown body as chunks of exactly ``chunk`` bytes, cut wherever they fall (mid-line too)."""
    buf = bytearray()
    labels = [str(r).encode() for r in range(reps)]
    for header, samples in blocks:
        buf += header
        for label in labels:
            for head, tail in samples:
                buf += head
                buf += label
                buf += tail
                if len(buf) >= chunk:
                    yield bytes(buf[:chunk])
                    del buf[:chunk]
    while buf:
        yield bytes(buf[:chunk])
        del buf[:chunk]


class ChunkReader(io.RawIOBase):
    """A file over a chunk iterator, so prometheus_client reads the very same stream."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._left:
            self._left = next(self._chunks, b"")
            if not self._left:
                return 0
        n = min(len(target), len(self._left))
        target[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def client_parse(chunks: Iterable[bytes], families: tuple[str, ...]) -> int:
    """prometheus_client over the stream; keep the wanted families (counters lose `_total` there)."""
    wanted = set(families) | {f.removesuffix("_total") for f in families}
    text = io.TextIOWrapper(io.BufferedReader(ChunkReader(chunks), CHUNK), encoding="utf-8")
    kept = 0
    for metric in text_fd_to_metric_families(text):
        if metric.name in wanted:
            kept += len(metric.samples)
    return kept


def median_of(runs: int, chunks: list[bytes], families: tuple[str, ...]) -> tuple[float, ParsedMetrics]:
    """Median wall time of a few runs (prometheus_client gets one run: it takes far longer)."""
    times, result = [], ParsedMetrics()
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        result = parse(chunks, families)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def traced(blocks: list[Block], reps: int, families: tuple[str, ...]) -> tuple[int, int, ParsedMetrics]:
    """Peak and retained (the result) traced bytes while parsing a streamed body."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = parse(body(blocks, reps), families)
        current, peak = tracemalloc.get_traced_memory()
        return peak - base, current - base, result
    finally:
        tracemalloc.stop()


def kept(result: ParsedMetrics) -> int:
    return sum(len(s) for s in result.samples.values())


def main() -> None:
    source = read_dump(FIXTURE)
    blocks = load_blocks(source)
    reps50 = reps_for(blocks, 50 * MB)
    reps10 = reps_for(blocks, 10 * MB)
    print(f"input: {FIXTURE} ({len(source) / MB:.1f} MB) x N series copies (apiserver=N label)")
    print(
        f"       {reps10} copies = {body_size(blocks, reps10) / MB:.1f} MB, {reps50} = {body_size(blocks, reps50) / MB:.1f} MB"
    )

    start = time.perf_counter()
    chunks = list(body(blocks, reps50))
    size = sum(map(len, chunks))
    print(
        f"built {size / MB:.1f} MB as {len(chunks)} chunks of {CHUNK} B in {time.perf_counter() - start:.1f} s"
    )

    print("\n== speed, same input, same families (7 monitor families); eksmon median of 3 runs, client 1 run")
    ours, result = median_of(3, chunks, MONITOR_FAMILIES)
    print(f"eksmon            {ours:7.3f} s  {size / MB / ours:7.1f} MB/s  kept {kept(result)} samples")
    start = time.perf_counter()
    client_kept = client_parse(chunks, MONITOR_FAMILIES)
    theirs = time.perf_counter() - start
    print(f"prometheus_client {theirs:7.3f} s  {size / MB / theirs:7.1f} MB/s  kept {client_kept} samples")
    if client_kept != kept(result):
        print("!! the two parsers kept different numbers of samples")
    print(f"ratio             {theirs / ours:7.1f}x faster (goal >= 10x)")
    heavy, heavy_result = median_of(3, chunks, HEAVY_FAMILIES)
    print(
        f"eksmon + apiserver_request_duration_seconds histogram: {heavy:.3f} s "
        f"({size / MB / heavy:.1f} MB/s, kept {kept(heavy_result)} samples, {theirs / heavy:.1f}x)"
    )
    del chunks

    print(f"\n== peak memory, body streamed from a generator in {CHUNK // 1024} KiB chunks (tracemalloc)")
    for label, families in (("7 monitor families", MONITOR_FAMILIES), ("etcd size only", ETCD_SIZE_ONLY)):
        figures = []
        for reps in (reps10, reps50):
            peak, retained, parsed = traced(blocks, reps, families)
            figures.append((peak, retained))
            print(
                f"{label:20s} {parsed.bytes / MB:5.1f} MB: peak {peak / 1024:8.0f} KiB, "
                f"kept result {retained / 1024:7.0f} KiB ({kept(parsed)} samples), "
                f"working {(peak - retained) / 1024:6.0f} KiB"
            )
        (peak10, kept10), (peak50, kept50) = figures
        print(
            f"{label:20s} 50 MB / 10 MB: peak {peak50 / peak10:.2f}x, "
            f"working memory {(peak50 - kept50) / (peak10 - kept10):.2f}x (goal: flat)"
        )


if __name__ == "__main__":
    main()
