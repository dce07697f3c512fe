"""Streaming parser for the Prometheus text exposition format, keeping only the families asked for.

A big cluster's kube-apiserver serves tens of MB on ``/metrics``; the monitor needs a handful of
families from it (etcd size, deprecated APIs, admission webhooks, request totals). So the parser
never holds the whole body and never splits or decodes the lines it does not need:

* the body arrives as chunks of any size (``urllib3``'s ``response.stream(65536)``), cut anywhere,
  even inside a line or a multi-byte UTF-8 character;
* complete lines are searched, a chunk at a time, with one compiled regular expression anchored
  on the newline before a line (``\\n`` + one of the family names). Every other line costs only the C
  loop that scans past it; only the matching lines are decoded and parsed;
* what is kept is the bytes of at most one partial line between chunks, plus the selected samples.

A family name selects the samples of that name and, for histograms and summaries, their
``_bucket``/``_sum``/``_count``/``_created`` samples (as declared by ``# TYPE``; with no ``# TYPE`` line
those suffixes are accepted too, unless the suffixed name has a ``# TYPE`` of its own). Counters
also get ``_total``/``_created`` (the OpenMetrics naming), gauge histograms ``_bucket``/``_gsum``/``_gcount``.

What real producers write is read, not only the strict 0.0.4 grammar:

* an OpenMetrics exemplar after the value (`` # {trace_id="..."} 0.5 [ts]``) is ignored;
* a timestamp that is not an integer (OpenMetrics writes seconds as a float) is ignored, the
  sample kept; an integer timestamp is milliseconds, as Prometheus reads it;
* ``# EOF`` is a comment: lines after it are read like any other;
* a last line without its newline is read (a connection dropped mid-body raises in the transport:
  a body that arrives whole is what the server wrote);
* label values may hold any UTF-8 and NUL (Prometheus and ``prometheus_client`` accept them);
  escapes follow Prometheus: ``\\\\``, ``\\"`` and ``\\n``; any other backslash pair is kept as
  written (as ``prometheus_client`` does);
* Prometheus 3's quoted names: ``{"name", label="v"} 1``, ``{"name"} 1``, ``# TYPE "name" counter``
  and quoted label names (``{"my.label"="v"}``); a wanted name needing escapes is found too;
* labels separated by a blank instead of a comma (Prometheus reads them) and ``{,}`` (as
  prometheus_client does). Label values are kept as written: Prometheus 3 stores a summary's
  ``quantile`` and a histogram's ``le`` as canonical floats, eksmon reads ``le`` with float().

Why not prometheus_client's parser: it parses every line (bench/bench_prometheus.py: about 70-100x
slower on a 50 MB body), it is only a dev dependency (the Lambda layer stays small), and its text
parser misreads an exemplar as a timestamp. Its and Prometheus's own test inputs are run through
this parser (tests/unit/test_prometheus_upstream.py).

A label named twice on one line is an error, not "last one wins": Prometheus refuses such a sample
(its TSDB answers ``label name "x" is not unique: invalid sample``), and client_golang, which writes
kube-apiserver's ``/metrics``, never emits one; so it is a corrupt line, and reported.

Bad input never raises: a line of a selected family that still cannot be read is skipped and
counted in ``errors`` (each message names the line number and the family; the first
``max_errors`` are kept) and ``error_families``. Lines of other families are never parsed, only
counted (``lines``, and ``quoted_name_lines`` for samples written with a quoted name). The parser's
limits are explicit, and the first one broken is named in ``invalid`` (the caller reports it; the
samples are not to be trusted):

* a line longer than ``max_line_bytes`` (1 MiB; selected or not -- kube-apiserver's longest are a
  few KiB), so a body without newlines is never buffered whole;
* a body larger than ``max_body_bytes`` (256 MiB): reading stops there;
* text that is not the exposition format: a first line that is neither a comment nor a metric
  name (quoted or not), or is not UTF-8.

Only the body size stops the reading; the other limits leave the parse as it would be without
them (garbled lines skipped and counted), with ``invalid`` saying the body cannot be trusted.
A body cut by a limit, or whose last line (without newline) of a selected family does not parse,
is ``truncated``: an absent family proves nothing then.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_LINE_BYTES",
    "ParsedMetrics",
    "Sample",
    "parse",
    "parse_text",
]

# A selected line longer than this is skipped (an error), so that a body without newlines
# cannot make the parser buffer it whole. Unselected lines of any length are skipped silently.
DEFAULT_MAX_LINE_BYTES = 1 << 20
# Reading stops past this many bytes (the largest real /metrics seen are tens of MB).
DEFAULT_MAX_BODY_BYTES = 256 << 20
# A comment, a metric name, or a quoted one ({"name", ... or {"name"}; not JSON's {"key": ...).
_HEAD_BYTES = 4096  # how much of a first line without newline is enough to judge it
_FIRST_LINE = re.compile(rb'[ \t\r\n]*(?:#|[a-zA-Z_:]|\{[ \t]*"(?:[^"\\\n]|\\.)*"[ \t]*[,}])')

_SUFFIXES_BY_TYPE: dict[str, frozenset[str]] = {
    "counter": frozenset({"_total", "_created"}),
    "histogram": frozenset({"_bucket", "_sum", "_count", "_created"}),
    "gaugehistogram": frozenset({"_bucket", "_gsum", "_gcount"}),
    "summary": frozenset({"_sum", "_count", "_created"}),
    "info": frozenset({"_info"}),
}
# No `# TYPE` line for the family: accept what histograms and summaries add.
_UNTYPED_SUFFIXES = frozenset({"_bucket", "_sum", "_count", "_created"})
_ALL_SUFFIXES = sorted(set().union(*_SUFFIXES_BY_TYPE.values()), key=len, reverse=True)
_KNOWN_TYPES = frozenset({*_SUFFIXES_BY_TYPE, "gauge", "untyped", "unknown", "stateset"})

_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
# A label name, plain or quoted (Prometheus 3: ``{"my.label"="v"}``).
_LABEL_NAME = rf'(?:{_NAME}|"[^"\\]*(?:\\.[^"\\]*)*")'
_LABEL = re.compile(rf"[ \t]*({_LABEL_NAME})[ \t]*=[ \t]*{_QUOTED}[ \t]*(,)?")
_CLOSE = re.compile(r"[ \t]*\}")
_EMPTY_WITH_COMMA = re.compile(r"\{[ \t]*,[ \t]*\}")
# An OpenMetrics exemplar after the value and timestamp: `` # {labels} value [ts]``, ignored unread.
_EXEMPLAR = r"[ \t]+#[ \t]*\{.*"
# The whole rest of a well-formed sample line in one match: {labels} value [timestamp] [exemplar].
# Quoted label names are left to the step-by-step parser (rare, and their names need unquoting).
# Lines it refuses go through the step-by-step parser, which says what is wrong (or accepts them).
# No two runs of [ \t]* may touch: backtracking between them would be quadratic on long blanks.
_PAIR_SHAPE = rf'[ \t]*{_NAME}[ \t]*=[ \t]*"[^"\\]*(?:\\.[^"\\]*)*"'
_SAMPLE_REST = re.compile(
    rf"[ \t]*(?:\{{((?:{_PAIR_SHAPE}[ \t]*,)*(?:{_PAIR_SHAPE}(?:[ \t]*,)?)?)[ \t]*\}}[ \t]*)?"
    rf"(\S+)(?:[ \t]+([^\s#]\S*))?(?:{_EXEMPLAR})?[ \t]*"
)
# Searched for (findall) in a label set _SAMPLE_REST has checked. No leading blanks: a search
# trying every position of a long blank run would be quadratic.
_PAIRS = re.compile(rf"({_NAME})[ \t]*=[ \t]*{_QUOTED}")
_ESCAPE = re.compile(r"\\(.)")
_UNESCAPED = {"\\": "\\", '"': '"', "n": "\n"}
_MAX_QUOTED = 200


class Sample(NamedTuple):
    """One sample line: its full name (e.g. ``..._bucket``), labels, value and optional timestamp."""

    name: str
    labels: dict[str, str]
    value: float
    timestamp_ms: int | None = None


@dataclass(slots=True)
class ParsedMetrics:
    """What :func:`parse` found. ``samples`` has a key only for families with at least one sample."""

    samples: dict[str, list[Sample]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    lines: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    error_families: dict[str, int] = field(default_factory=dict)  # unreadable lines per family
    selected_lines: int = 0  # lines of the families asked for (the others are only counted)
    quoted_name_lines: int = 0  # samples written with a quoted name, ``{"name", ...}`` (any family)
    truncated: bool = False
    saw_eof: bool = False
    invalid: str | None = None  # the first limit broken (line length, body size, not the format)

    def get(self, family: str) -> list[Sample]:
        """The samples of one family, or an empty list."""
        return self.samples.get(family, [])


def _quoted_form(name: str) -> bytes:
    """How a name is written between quotes (Prometheus escapes backslash, quote and newline)."""
    return name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").encode()


def _alternation(names: list[bytes]) -> bytes:
    """A regex for exactly these names as a trie (``ab|ac`` -> ``a(?:b|c)``); longer names first."""
    branches: dict[bytes, list[bytes]] = {}
    ends_here = False
    for name in names:
        if name:
            branches.setdefault(name[:1], []).append(name[1:])
        else:
            ends_here = True
    parts = [re.escape(first) + _alternation(rest) for first, rest in sorted(branches.items())]
    if not parts:
        return b""
    joined = parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"
    return b"(?:" + joined + b")?" if ends_here else joined


class _BadLine(Exception):
    """A selected line that does not parse; the message says why."""


def _unescape_one(match: re.Match[str]) -> str:
    char = match.group(1)
    return _UNESCAPED.get(char, "\\" + char)


def _parse_float(token: str) -> float:
    if "_" in token:  # Python's float() takes "1_000"; Prometheus does not
        raise _BadLine(f"invalid value {token!r}")
    try:
        return float(token)
    except ValueError:
        raise _BadLine(f"invalid value {token!r}") from None


def _parse_labels(text: str) -> tuple[dict[str, str], int]:
    """Parse ``{...}`` at the start of ``text``; return the labels and the index after ``}``."""
    labels: dict[str, str] = {}
    empty = _EMPTY_WITH_COMMA.match(text)
    if empty is not None:  # "{,}": prometheus_client reads it as no labels
        return labels, empty.end()
    pos = 1
    while True:
        close = _CLOSE.match(text, pos)
        if close is not None:
            return labels, close.end()
        match = _LABEL.match(text, pos)
        if match is None:
            raise _BadLine("invalid label set")
        name, value = match.group(1), match.group(2)
        if name.startswith('"'):
            name = _ESCAPE.sub(_unescape_one, name[1:-1])
        if "\\" in value:
            value = _ESCAPE.sub(_unescape_one, value)
        if name in labels:
            raise _BadLine(f"duplicate label {name!r}")
        labels[name] = value
        pos = match.end()
        # No comma: the set ends here, or (as Prometheus reads it) the next label follows
        # after a blank, ``{a="b" c="d"}``.
        if match.group(3) is None and _CLOSE.match(text, pos) is None and text[pos - 1] not in " \t":
            raise _BadLine("invalid label set")


def _after_quoted_name(rest: str) -> str:
    """``{"name", a="b"} 1`` or ``{"name"} 1``: what follows the name, as a plain line's ``{a="b"} 1``."""
    rest = rest.lstrip(" \t")
    if rest.startswith(","):
        return "{" + rest[1:]
    if rest.startswith("}"):
        return "{" + rest
    raise _BadLine("invalid label set")


def _parse_sample_rest(name: str, rest: str) -> Sample:
    """Parse what follows the metric name on a sample line."""
    match = _SAMPLE_REST.fullmatch(rest)
    if match is not None:
        body: str | None = match.group(1)
        value_token: str = match.group(2)
        timestamp_token: str | None = match.group(3)
        pairs: list[tuple[str, str]] = _PAIRS.findall(body) if body else []
        labels = dict(pairs)
        if len(labels) == len(pairs) and "_" not in value_token:
            if body and "\\" in body:
                labels = {k: _ESCAPE.sub(_unescape_one, v) if "\\" in v else v for k, v in labels.items()}
            try:
                value = float(value_token)
                timestamp_ms = None if timestamp_token is None else _parse_timestamp(timestamp_token)
            except ValueError:
                pass  # the step-by-step parser below says which token is wrong
            else:
                return Sample(name, labels, value, timestamp_ms)
    return _parse_sample_slowly(name, rest)


def _parse_timestamp(token: str) -> int | None:
    """Integer milliseconds; a finite float (OpenMetrics' seconds) is ignored: None. ValueError else."""
    if "_" in token:  # int() and float() take "1_000"; Prometheus does not
        raise ValueError(token)
    try:
        return int(token)
    except ValueError:
        if math.isfinite(float(token)):
            return None
        raise


def _parse_sample_slowly(name: str, rest: str) -> Sample:
    text = rest.lstrip(" \t")
    labels: dict[str, str] = {}
    if text.startswith("{"):
        labels, end = _parse_labels(text)
        text = text[end:]
    # An exemplar starts at a "#" after a blank (a regex search for blanks + "#" would retry every
    # position of a long blank run: quadratic).
    hash_at = text.find("#")
    if hash_at > 0 and text[hash_at - 1] in " \t":
        if not text[hash_at + 1 :].lstrip(" \t").startswith("{"):
            raise _BadLine("invalid exemplar: expected ' # {labels} value' after the value")
        text = text[:hash_at]
    tokens = text.split()
    if not tokens:
        raise _BadLine("no value")
    if len(tokens) > 2:
        raise _BadLine("unexpected text after the value")
    value = _parse_float(tokens[0])
    timestamp_ms: int | None = None
    if len(tokens) == 2:
        try:
            timestamp_ms = _parse_timestamp(tokens[1])
        except ValueError:
            raise _BadLine(f"invalid timestamp {tokens[1]!r}") from None
    return Sample(name, labels, value, timestamp_ms)


class _Parser:
    def __init__(
        self,
        families: Collection[str],
        max_errors: int,
        max_line_bytes: int,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if isinstance(families, str):  # parse(body, "name") means that one family, not its letters
            families = [families]
        names = sorted({f for f in families if f}, key=len, reverse=True)
        self.max_errors = max_errors
        self.max_line_bytes = max(max_line_bytes, 1024)
        self.max_body_bytes = max_body_bytes
        self.result = ParsedMetrics()
        self.separately_typed: set[str] = set()
        # One search per buffer finds every wanted line (and # EOF). Names are factored as a trie so
        # that the other lines, most of which also start with "apiserver_", fail after a few bytes.
        # A wanted name is found plain (``name{...`` or ``# TYPE name``) or quoted, as Prometheus 3
        # writes names that need it (``{"name", ...`` or ``# TYPE "name"``).
        wanted = rb"(?!)"  # matches nothing: no family asked for
        if names:
            suffixes = b"|".join(s.encode() for s in _ALL_SUFFIXES)
            wanted = (
                rb'[ \t]*(?:(?P<type>#[ \t]*TYPE[ \t]+)(?P<tq>")?|(?P<brace>\{)[ \t]*")?'
                rb"(?P<name>"
                + _alternation(sorted({_quoted_form(n) for n in names} | {n.encode() for n in names}))
                + rb")(?P<suffix>"
                + suffixes
                + rb")?"
                rb'(?(tq)"|(?(brace)"|(?![a-zA-Z0-9_:])))'
            )
        # One alternation, not one per form: each line that is not wanted costs a few byte compares.
        # A line starting with "{" that is not wanted is a sample with a quoted name: only counted.
        self.pattern = re.compile(rb"\n(?:(?P<eof># EOF(?=\r?\n))|" + wanted + rb"|(?P<other>\{))")

    # -- errors -----------------------------------------------------------------------------------
    def error(self, line_no: int, family: str, reason: str, line: bytes | None) -> None:
        result = self.result
        result.error_count += 1
        result.error_families[family] = result.error_families.get(family, 0) + 1
        if len(result.errors) < self.max_errors:
            message = f"line {line_no} ({family}): {reason}"
            if line is not None:
                quoted = line[:_MAX_QUOTED].decode("utf-8", "replace")
                message += f": {quoted!r}" + ("..." if len(line) > _MAX_QUOTED else "")
            result.errors.append(message)

    def error_at(self, buf: bytes, line_start: int, line_end: int, family: str, reason: str) -> None:
        line_no = 0
        if len(self.result.errors) < self.max_errors:  # counting is only needed for a message
            line_no = self.result.lines + buf.count(b"\n", 0, line_start)
        self.error(line_no, family, reason, buf[line_start:line_end])

    # -- the stream -------------------------------------------------------------------------------
    def feed(self, chunks: Iterable[bytes]) -> ParsedMetrics:
        result = self.result
        # The bytes after the last newline seen, always led by that newline (or a made-up first one),
        # so that every line in a buffer is preceded by b"\n" and one search covers them all.
        pending: list[bytes] = [b"\n"]
        pending_len = 1
        skipping = False  # inside an over-long line: drop bytes up to the next newline
        head: bytes | None = b""  # the body's start, until its first line can be judged
        for chunk in chunks:
            if not chunk:
                continue
            if head is not None:  # the first line is judged whole, however small the first chunks
                head += chunk
                if len(head) >= _HEAD_BYTES or b"\n" in head.lstrip(b" \t\r\n"):
                    self.looks_like_text(head)
                    head = None
            result.bytes += len(chunk)
            if result.bytes > self.max_body_bytes:
                self.invalidate(f"body larger than {self.max_body_bytes} bytes; reading stopped there")
                result.truncated = True
                return result
            last_nl = chunk.rfind(b"\n")
            if last_nl < 0:
                if not skipping:
                    pending.append(chunk)
                    pending_len += len(chunk)
                    if pending_len > self.max_line_bytes:
                        self.too_long(b"".join(pending))
                        pending, pending_len, skipping = [b"\n"], 1, True
                continue
            if skipping:
                first_nl = chunk.find(b"\n")
                result.lines += 1  # the over-long line ends here
                buf, end = chunk[first_nl:], last_nl - first_nl
                skipping = False
            else:
                buf = pending[0] + chunk if len(pending) == 1 else b"".join([*pending, chunk])
                end = len(buf) - len(chunk) + last_nl
            self.scan(buf, end)
            pending = [buf[end:]]
            pending_len = len(pending[0])
        if head:
            self.looks_like_text(head + b"\n")
        self.finish(b"".join(pending)[1:], skipping)
        return result

    def invalidate(self, reason: str) -> None:
        if self.result.invalid is None:
            self.result.invalid = reason

    def looks_like_text(self, first: bytes) -> bool:
        """The body's first line is a comment or starts with a metric name, in UTF-8."""
        if not first.strip(b" \t\r\n"):
            return True  # blank so far: nothing to judge
        reason = None
        if _FIRST_LINE.match(first) is None:
            reason = "the first line is neither a comment nor a metric name"
        else:
            head = first.lstrip(b" \t\r\n")
            end = head.find(b"\n", 0, _HEAD_BYTES)
            try:
                if end >= 0:  # a first line cut by the chunk is not judged
                    head[:end].decode()
            except UnicodeDecodeError:
                reason = "the first line is not UTF-8"
        if reason is not None:
            self.invalidate(f"not the Prometheus text format: {reason}: {first[:40]!r}")
            return False
        return True

    def too_long(self, partial: bytes) -> None:
        """A line grew past the limit before its newline came: the body breaks a limit."""
        self.invalidate(f"line {self.result.lines + 1} is longer than {self.max_line_bytes} bytes")
        match = self.pattern.match(partial)
        if match is not None and (family := match.group("name")) is not None:
            self.error(
                self.result.lines + 1,
                family.decode(),
                f"line longer than {self.max_line_bytes} bytes skipped",
                partial[1:],
            )

    def finish(self, tail: bytes, skipping: bool) -> None:
        """The end of the body: an over-long line cut, or a last line without its newline (read)."""
        result = self.result
        if skipping:
            result.lines += 1
            result.truncated = True
        elif tail:
            errors = result.error_count
            self.scan(b"\n" + tail + b"\n", len(tail) + 1)
            if result.error_count > errors:  # most likely cut in the middle: absence proves nothing
                result.truncated = True

    def scan(self, buf: bytes, end: int) -> None:
        """Handle the complete lines of ``buf``: ``buf[0]`` and ``buf[end]`` are newlines."""
        result = self.result
        for match in self.pattern.finditer(buf, 0, end + 1):
            if match.group("name") is not None:
                self.line(buf, match)
            elif match.group("eof") is not None:
                result.saw_eof = True  # a comment: what follows is read like the rest
            else:
                result.quoted_name_lines += 1
        result.lines += buf.count(b"\n", 0, end)

    def line(self, buf: bytes, match: re.Match[bytes]) -> None:
        """Parse one line that starts with a selected family's name (or its ``# TYPE``)."""
        raw_name, raw_suffix, type_prefix, brace, type_quote = match.group(
            "name", "suffix", "type", "brace", "tq"
        )
        self.result.selected_lines += 1
        if brace is not None:
            self.result.quoted_name_lines += 1
        line_start = match.start() + 1
        line_end = buf.find(b"\n", match.end())
        quoted = brace is not None or type_quote is not None
        name = raw_name.decode()
        if quoted and "\\" in name:
            name = _ESCAPE.sub(_unescape_one, name)
        if line_end - line_start > self.max_line_bytes:
            self.invalidate(f"a line of {name} is longer than {self.max_line_bytes} bytes")
            self.error_at(
                buf, line_start, line_end, name, f"line longer than {self.max_line_bytes} bytes skipped"
            )
            return
        if buf[line_end - 1 : line_end] == b"\r":
            line_end -= 1
        suffix = raw_suffix.decode() if raw_suffix is not None else ""
        family: str | None = name
        try:
            rest = buf[match.end() : line_end].decode()
            if type_prefix is not None:
                self.type_line(name, suffix, rest)
                return
            family = self.family_of(name, suffix)
            if family is None:
                return
            if quoted:
                rest = _after_quoted_name(rest)
            sample = _parse_sample_rest(name + suffix, rest)
        except (_BadLine, UnicodeDecodeError) as exc:
            reason = "invalid UTF-8" if isinstance(exc, UnicodeDecodeError) else str(exc)
            self.error_at(buf, line_start, line_end, family or name, reason)
            return
        samples = self.result.samples.get(family)
        if samples is None:
            self.result.samples[family] = [sample]
        else:
            samples.append(sample)

    def type_line(self, name: str, suffix: str, rest: str) -> None:
        if suffix:  # e.g. "# TYPE foo_count gauge": foo_count is a family of its own
            self.separately_typed.add(name + suffix)
            return
        tokens = rest.split()
        if len(tokens) != 1 or tokens[0] not in _KNOWN_TYPES:
            raise _BadLine("invalid TYPE line")
        self.result.types.setdefault(name, tokens[0])

    def family_of(self, name: str, suffix: str) -> str | None:
        if not suffix:
            return name
        typ = self.result.types.get(name)
        allowed = _UNTYPED_SUFFIXES if typ is None else _SUFFIXES_BY_TYPE.get(typ, frozenset())
        if suffix in allowed and name + suffix not in self.separately_typed:
            return name
        return None


def parse(
    chunks: Iterable[bytes],
    families: Collection[str],
    *,
    max_errors: int = 20,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> ParsedMetrics:
    """Parse a Prometheus text body given as chunks, keeping only the samples of ``families``.

    ``chunks`` may be cut anywhere (``urllib3`` ``response.stream(65536)``, a file read in blocks...).
    Memory stays at one chunk plus one partial line plus the kept samples, whatever the body's size.
    """
    return _Parser(families, max_errors, max_line_bytes, max_body_bytes).feed(chunks)


def parse_text(
    text: str,
    families: Collection[str],
    *,
    max_errors: int = 20,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> ParsedMetrics:
    """:func:`parse` for a body already in memory as a string (tests, small inputs)."""
    return parse([text.encode()], families, max_errors=max_errors, max_line_bytes=max_line_bytes)
