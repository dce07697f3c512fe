"""CloudWatch ``GetMetricData`` for the simulator: datapoints from moto's store, metric math computed.

moto 5.2.5 stores what ``PutMetricData`` sends, but its ``GetMetricData`` returns empty values for
metric math, ``SEARCH`` and ``SERVICE_QUOTA()``, ignores the namespace when dimensions are given,
does not paginate and scans every datapoint once per period. This extension answers
``GetMetricData`` itself, from the datapoints moto stored, the way CloudWatch does. Every other
CloudWatch operation (``PutMetricData``, ``ListMetrics``, alarms, dashboards) stays moto's.

Seeding -- one store, three ways to fill it:

    cw = sim.extension(CloudWatchExtension)
    cw.put(account, region, "AWS/Usage", "ResourceCount",
           {"Service": "EC2", "Type": "Resource", "Resource": "vCPU", "Class": "Standard/OnDemand"},
           [(datetime(...), 1450.0), (datetime(...), 1461.0)], unit="None")
    cw.put_series(account, region, namespace, name, dimensions,
                  start=DEMO_NOW - timedelta(days=7), step=timedelta(hours=1), values=[...])
    # or boto3 ``put_metric_data`` against the simulator (same store, over HTTP)

``put``/``put_series`` go through moto's backend ``put_metric_data`` (fast, no HTTP); values may be
numbers or statistic sets ``{"Sum":…, "Minimum":…, "Maximum":…, "SampleCount":…}``.

What ``GetMetricData`` supports (JSON protocol -- the one botocore 1.44 picks for CloudWatch; a
CBOR or query request falls through to moto unchanged):

* ``MetricStat``: Namespace, MetricName, Dimensions (the full set must match, as in CloudWatch),
  Period (a multiple of 60), Stat ``Average|Sum|Minimum|Maximum|SampleCount|pNN[.N]``, Unit filter.
  Buckets are aligned to multiples of the period since the epoch; a datapoint counts when
  ``StartTime <= timestamp < EndTime``.
* ``Expression`` (metric math): numbers, query ids, ``+ - * / ^``, parentheses, arrays ``[m1, m2]``,
  ``SUM AVG MIN MAX`` (one series -> a scalar; several -> a series per timestamp), ``ABS``,
  ``FILL(x, value)``, ``METRICS("label part")``, ``SERVICE_QUOTA(m)``. Series combine on the
  timestamps they share. A scalar result is returned at every timestamp of the request's series.
  ``SERVICE_QUOTA`` asks every extension with a ``service_quota_for_metric(account, region,
  namespace, name, dimensions) -> float | None`` method (the Service Quotas extension has one).
  Anything else (``SEARCH``, ``RATE``, Metrics Insights ``SELECT``) is a ValidationError naming it,
  so a test that needs it fails loudly instead of reading empty data.
* ``ReturnData``, ``Label``, ``ScanBy`` (default ``TimestampDescending``), at most 500 queries per
  call (ValidationError beyond, as CloudWatch), ``MaxDatapoints`` and ``NextToken``: a call returns at
  most ``max_datapoints_per_call`` datapoints (100,800 as CloudWatch; lower it to test pagination),
  a cut result says ``PartialData`` and the next page continues it under the same Id.
* Per-query failures: ``cw.query_status[(namespace, metric_name)] = ("Forbidden", "message")`` makes
  every query of that metric come back with that StatusCode and no values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Response

from eksmon.sim.server import Extension, SimRequest, Simulator, error_response, json_response

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")


class MetricMathError(ValueError):
    """A query CloudWatch would reject (answered as a ValidationError)."""


# -- the values metric math works on ----------------------------------------------------------------
@dataclass
class Series:
    points: dict[int, float]  # bucket start (epoch seconds) -> value
    period: int
    label: str = ""
    metric: Mapping[str, Any] | None = None  # the MetricStat's metric, for SERVICE_QUOTA()


Value = float | Series | list[Series]


@dataclass
class _Query:
    id: str
    label: str | None
    return_data: bool
    stat: dict[str, Any] | None
    expression: str | None


@dataclass
class _Window:
    start: int
    end: int
    account: str
    region: str


class CloudWatchExtension(Extension):
    service = "monitoring"
    seed_order = 20

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.max_datapoints_per_call = MAX_DATAPOINTS
        self.query_status: dict[tuple[str, str], tuple[str, str]] = {}

    def reset(self) -> None:
        self.max_datapoints_per_call = MAX_DATAPOINTS
        self.query_status.clear()

    # -- seeding ------------------------------------------------------------------------------------
    def put(
        self,
        account: str,
        region: str,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        points: Iterable[tuple[datetime, float | Mapping[str, float]]],
        unit: str | None = None,
    ) -> int:
        """Store datapoints as PutMetricData would; returns how many."""
        from moto.cloudwatch.models import cloudwatch_backends

        dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
        data: list[dict[str, Any]] = []
        for ts, value in points:
            datum: dict[str, Any] = {"MetricName": name, "Dimensions": dims, "Timestamp": _aware(ts)}
            if isinstance(value, Mapping):
                datum["StatisticValues"] = dict(value)
            else:
                datum["Value"] = float(value)
            if unit:
                datum["Unit"] = unit
            data.append(datum)
        cloudwatch_backends[account][region].put_metric_data(namespace, data)
        return len(data)

    def put_series(
        self,
        account: str,
        region: str,
        namespace: str,
        name: str,
        dimensions: Mapping[str, str],
        start: datetime,
        step: timedelta,
        values: Sequence[float | Mapping[str, float]],
        unit: str | None = None,
    ) -> int:
        """Evenly spaced datapoints from ``start``, one every ``step``."""
        return self.put(
            account,
            region,
            namespace,
            name,
            dimensions,
            ((start + i * step, v) for i, v in enumerate(values)),
            unit,
        )

    # -- GetMetricData ------------------------------------------------------------------------------
    def handle(self, req: SimRequest) -> Response | None:
        if req.operation != "GetMetricData" or "json" not in req.headers.get("content-type", ""):
            return None
        try:
            return json_response(self._get_metric_data(req, req.json()))
        except MetricMathError as exc:
            return error_response(req, "ValidationError", str(exc), 400)

    def _get_metric_data(self, req: SimRequest, body: dict[str, Any]) -> dict[str, Any]:
        queries = [_parse_query(i, q) for i, q in enumerate(body.get("MetricDataQueries") or [], 1)]
        if not queries:
            raise MetricMathError("The parameter MetricDataQueries is required.")
        if len(queries) > MAX_QUERIES:
            raise MetricMathError(
                f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}."
            )
        ids = [q.id for q in queries]
        if len(set(ids)) != len(ids):
            raise MetricMathError("The values for parameter id in MetricDataQueries are not unique.")
        if not any(q.return_data for q in queries):
            raise MetricMathError("At least one MetricDataQuery must have ReturnData set to true.")
        start, end = _epoch(body.get("StartTime")), _epoch(body.get("EndTime"))
        if end <= start:
            raise MetricMathError("The parameter EndTime must be greater than StartTime.")
        window = _Window(start, end, req.account, req.region)
        results = self._evaluate(queries, window)
        descending = (body.get("ScanBy") or "TimestampDescending") == "TimestampDescending"
        cap = min(
            int(body.get("MaxDatapoints") or self.max_datapoints_per_call), self.max_datapoints_per_call
        )
        return _page(queries, results, descending, cap, body.get("NextToken"))

    def _evaluate(self, queries: list[_Query], window: _Window) -> dict[str, tuple[str, Series | None, str]]:
        """Id -> (status, series, message)."""
        from moto.cloudwatch.models import cloudwatch_backends

        store = _index(cloudwatch_backends[window.account][window.region].get_all_metrics())
        values: dict[str, Value] = {}
        out: dict[str, tuple[str, Series | None, str]] = {}
        for q in queries:
            if q.stat is None:
                continue
            metric = q.stat["Metric"]
            failure = self.query_status.get((metric.get("Namespace", ""), metric.get("MetricName", "")))
            if failure is not None:
                out[q.id] = (failure[0], None, failure[1])
                continue
            series = _metric_stat(store, q.stat, window)
            series.label = q.label or metric.get("MetricName", q.id)
            series.metric = metric
            values[q.id] = series
            out[q.id] = ("Complete", series, "")
        stats = {q.id: values[q.id] for q in queries if q.stat is not None and q.id in values}
        pending = [q for q in queries if q.expression is not None]
        for _ in range(len(pending) + 1):  # expressions may reference each other, in any order
            waiting = []
            for q in pending:
                try:
                    result = _Evaluator(q.expression or "", values, stats, self._quota, window).run()
                except _NotYet:
                    waiting.append(q)
                    continue
                series = _as_series(result, stats, q.id)
                series.label = q.label or q.id
                values[q.id] = series
                out[q.id] = ("Complete", series, "")
            if not waiting:
                break
            if len(waiting) == len(pending):
                raise MetricMathError(f"Expression {waiting[0].id} references an unknown or circular id.")
            pending = waiting
        return out

    def _quota(self, window: _Window, metric: Mapping[str, Any]) -> float | None:
        dims = {d["Name"]: d["Value"] for d in metric.get("Dimensions", [])}
        for ext in self.sim.extensions:
            resolve: Callable[..., float | None] | None = getattr(ext, "service_quota_for_metric", None)
            if resolve is not None:
                found = resolve(
                    window.account, window.region, metric.get("Namespace"), metric.get("MetricName"), dims
                )
                if found is not None:
                    return found
        return None


# -- queries ---------------------------------------------------------------------------------------
def _parse_query(n: int, q: Mapping[str, Any]) -> _Query:
    qid = q.get("Id", "")
    if not _ID.match(qid):
        raise MetricMathError(
            f"The value {qid!r} for parameter MetricDataQueries.member.{n}.Id is invalid: "
            "it must start with a lowercase letter and contain only letters, digits and underscores."
        )
    stat, expression = q.get("MetricStat"), q.get("Expression")
    if (stat is None) == (expression is None):
        raise MetricMathError(
            f"Exactly one of MetricStat and Expression must be set in MetricDataQueries.member.{n}."
        )
    if stat is not None:
        period = int(stat.get("Period") or 0)
        if period <= 0 or (period % 60 and period not in (1, 5, 10, 20, 30)):
            raise MetricMathError(f"The parameter MetricDataQueries.member.{n}.MetricStat.Period is invalid.")
        if not _stat_ok(stat.get("Stat", "")):
            raise MetricMathError(f"The statistic {stat.get('Stat')!r} of query {qid} is not supported.")
    if expression is not None and expression.lstrip().upper().startswith(("SELECT", "SEARCH")):
        raise MetricMathError(f"The simulator does not implement {expression.split('(')[0].strip()} ({qid}).")
    return _Query(qid, q.get("Label"), bool(q.get("ReturnData", True)), stat, expression)


def _stat_ok(stat: str) -> bool:
    return stat in {"Average", "Sum", "Minimum", "Maximum", "SampleCount"} or bool(_PERCENTILE.match(stat))


_Key = tuple[str, str, frozenset[tuple[str, str]]]


def _index(data: Iterable[Any]) -> dict[_Key, list[Any]]:
    store: dict[_Key, list[Any]] = {}
    for d in data:
        key = (d.namespace, d.name, frozenset((x.name, x.value) for x in d.dimensions))
        store.setdefault(key, []).append(d)
    return store


def _metric_stat(store: dict[_Key, list[Any]], stat: Mapping[str, Any], window: _Window) -> Series:
    metric = stat["Metric"]
    key = (
        metric.get("Namespace", ""),
        metric.get("MetricName", ""),
        frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])),
    )
    period = int(stat["Period"])
    unit = stat.get("Unit")
    buckets: dict[int, list[Any]] = {}
    for d in store.get(key, []):
        ts = _epoch(d.timestamp)
        if not window.start <= ts < window.end or (unit and d.unit != unit):
            continue
        buckets.setdefault(ts - ts % period, []).append(d)
    first = window.start - window.start % period
    return Series(
        {b: _statistic(stat["Stat"], items) for b, items in sorted(buckets.items()) if b >= first}, period
    )


def _statistic(stat: str, items: list[Any]) -> float:
    mins, maxs, sums, counts, raw = [], [], [], [], []
    for d in items:
        if hasattr(d, "value"):
            raw.append(float(d.value))
            mins.append(float(d.value))
            maxs.append(float(d.value))
            sums.append(float(d.value))
            counts.append(1.0)
        else:
            mins.append(float(d.min))
            maxs.append(float(d.max))
            sums.append(float(d.sum))
            counts.append(float(d.sample_count))
    if stat == "Maximum":
        return max(maxs)
    if stat == "Minimum":
        return min(mins)
    if stat == "Sum":
        return sum(sums)
    if stat == "SampleCount":
        return sum(counts)
    if stat == "Average":
        return sum(sums) / sum(counts)
    values = sorted(raw or maxs)  # a percentile of statistic sets is approximated by their maxima
    rank = float(stat[1:]) / 100 * (len(values) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


# -- metric math -----------------------------------------------------------------------------------
class _NotYet(Exception):
    """The expression references an expression not computed yet."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|"
    r'(?P<str>"[^"]*")|(?P<op>[-+*/^(),\[\]]))'
)
_FUNCTIONS = {"SUM", "AVG", "MIN", "MAX", "ABS", "FILL", "METRICS", "SERVICE_QUOTA"}


class _Evaluator:
    """A recursive-descent evaluator for the metric math subset in the module docstring."""

    def __init__(
        self,
        text: str,
        values: Mapping[str, Value],
        stats: Mapping[str, Value],
        quota: Callable[[_Window, Mapping[str, Any]], float | None],
        window: _Window,
    ) -> None:
        self.text = text
        self.tokens = self._lex(text)
        self.pos = 0
        self.values = values
        self.stats = stats
        self.quota = quota
        self.window = window

    def _lex(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise MetricMathError(f"Unexpected character at {pos} in expression {text!r}.")
            kind = m.lastgroup or ""
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        return tokens

    def run(self) -> Value:
        result = self._sum()
        if self.pos != len(self.tokens):
            raise MetricMathError(f"Unexpected {self.tokens[self.pos][1]!r} in expression {self.text!r}.")
        return result

    # grammar: sum := product (('+'|'-') product)*; product := power (('*'|'/') power)*;
    #          power := unary ('^' unary)?; unary := '-' unary | atom
    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise MetricMathError(f"Expression {self.text!r} ends too early.")
        tok = self.tokens[self.pos]
        if expected is not None and tok[1] != expected:
            raise MetricMathError(f"Expected {expected!r} but found {tok[1]!r} in {self.text!r}.")
        self.pos += 1
        return tok

    def _sum(self) -> Value:
        left = self._product()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            left = _binary(op, left, self._product())
        return left

    def _product(self) -> Value:
        left = self._power()
        while self._peek() in ("*", "/"):
            op = self._take()[1]
            left = _binary(op, left, self._power())
        return left

    def _power(self) -> Value:
        base = self._unary()
        if self._peek() == "^":
            self._take()
            return _binary("^", base, self._unary())
        return base

    def _unary(self) -> Value:
        if self._peek() == "-":
            self._take()
            return _binary("*", -1.0, self._unary())
        return self._atom()

    def _atom(self) -> Value:
        kind, text = self._take()
        if kind == "num":
            return float(text)
        if text == "(":
            inner = self._sum()
            self._take(")")
            return inner
        if text == "[":
            items = self._args("]")
            return [s for item in items for s in _series_list(item)]
        if kind == "name" and self._peek() == "(":
            self._take("(")
            return self._call(text.upper(), self._args(")"))
        if kind == "name":
            if text in self.values:
                return self.values[text]
            raise _NotYet(text)
        raise MetricMathError(f"Unexpected {text!r} in expression {self.text!r}.")

    def _args(self, close: str) -> list[Value | str]:
        args: list[Value | str] = []
        while self._peek() != close:
            if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "str":
                args.append(self._take()[1].strip('"'))
            else:
                args.append(self._sum())
            if self._peek() == ",":
                self._take(",")
        self._take(close)
        return args

    def _call(self, name: str, args: list[Value | str]) -> Value:
        if name not in _FUNCTIONS:
            raise MetricMathError(f"The simulator does not implement the metric math function {name}.")
        if name == "METRICS":
            part = str(args[0]) if args else ""
            return [s for s in self.stats.values() if isinstance(s, Series) and part in s.label]
        if name == "SERVICE_QUOTA":
            return self._service_quota(args)
        numeric = [a for a in args if not isinstance(a, str)]
        if name == "ABS":
            return _map(numeric[0], abs)
        if name == "FILL":
            return _fill(numeric[0], numeric[1], self.window)
        return _aggregate(name, numeric)

    def _service_quota(self, args: list[Value | str]) -> Value:
        if len(args) != 1 or not isinstance(args[0], Series):
            raise MetricMathError("SERVICE_QUOTA takes one metric id.")
        target = args[0]
        if target.metric is None:
            raise MetricMathError("SERVICE_QUOTA needs the id of a MetricStat query.")
        quota = self.quota(self.window, target.metric)
        if quota is None:
            return Series({}, target.period)
        return Series(dict.fromkeys(target.points, quota), target.period)


def _series_list(value: Value | str) -> list[Series]:
    if isinstance(value, Series):
        return [value]
    if isinstance(value, list):
        return value
    raise MetricMathError("An array may only hold time series.")


def _binary(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, list):
        return [_series_op(op, s, right) for s in left]
    if isinstance(right, list):
        return [_series_op(op, left, s) for s in right]
    if isinstance(left, Series) or isinstance(right, Series):
        return _series_op(op, left, right)
    return _apply(op, left, right)


def _series_op(op: str, left: float | Series, right: float | Series | list[Series]) -> Series:
    if isinstance(right, list):
        raise MetricMathError("Two arrays of time series cannot be combined.")
    if isinstance(left, Series) and isinstance(right, Series):
        shared = left.points.keys() & right.points.keys()
        points = {t: _apply(op, left.points[t], right.points[t]) for t in sorted(shared)}
        return Series({t: v for t, v in points.items() if math.isfinite(v)}, left.period)
    if isinstance(left, Series):
        assert not isinstance(right, Series)
        pts = {t: _apply(op, v, right) for t, v in left.points.items()}
        return Series({t: v for t, v in pts.items() if math.isfinite(v)}, left.period)
    assert isinstance(right, Series)
    pts = {t: _apply(op, left, v) for t, v in right.points.items()}
    return Series({t: v for t, v in pts.items() if math.isfinite(v)}, right.period)


def _apply(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b if b else math.nan  # CloudWatch drops points divided by zero
    return float(a**b)


def _map(value: Value, fn: Callable[[float], float]) -> Value:
    if isinstance(value, Series):
        return Series({t: fn(v) for t, v in value.points.items()}, value.period)
    if isinstance(value, list):
        return [Series({t: fn(v) for t, v in s.points.items()}, s.period) for s in value]
    return fn(value)


def _fill(value: Value, filler: Value, window: _Window) -> Value:
    if not isinstance(filler, float):
        raise MetricMathError("FILL's second argument must be a number in the simulator.")
    if isinstance(value, list):
        return [s for v in value for s in _series_list(_fill(v, filler, window))]
    if not isinstance(value, Series):
        return value
    first = window.start - window.start % value.period
    grid = range(first, window.end, value.period)
    return Series({t: value.points.get(t, filler) for t in grid}, value.period)


def _sum_of(xs: list[float]) -> float:
    return float(sum(xs))


def _avg_of(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _min_of(xs: list[float]) -> float:
    return min(xs)


def _max_of(xs: list[float]) -> float:
    return max(xs)


_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "SUM": _sum_of,
    "AVG": _avg_of,
    "MIN": _min_of,
    "MAX": _max_of,
}


def _aggregate(name: str, args: list[Value]) -> Value:
    reducer = _REDUCERS[name]
    if len(args) == 1 and isinstance(args[0], Series):
        pts = list(args[0].points.values())
        return reducer(pts) if pts else math.nan
    if len(args) == 1 and isinstance(args[0], float):
        return args[0]
    series = [s for a in args for s in _series_list(a)]
    if not series:
        return Series({}, 60)
    stamps = sorted({t for s in series for t in s.points})
    return Series(
        {t: reducer([s.points[t] for s in series if t in s.points]) for t in stamps}, series[0].period
    )


def _as_series(value: Value, stats: Mapping[str, Value], qid: str) -> Series:
    if isinstance(value, Series):
        return value
    if isinstance(value, list):
        if len(value) == 1:
            return value[0]
        raise MetricMathError(
            f"Expression {qid} returns {len(value)} time series; wrap it in SUM/AVG/MIN/MAX."
        )
    stamps = sorted({t for s in stats.values() if isinstance(s, Series) for t in s.points})
    period = next((s.period for s in stats.values() if isinstance(s, Series)), 60)
    if not math.isfinite(value):
        return Series({}, period)
    return Series(dict.fromkeys(stamps, value), period)


# -- the answer, paginated -------------------------------------------------------------------------
def _page(
    queries: list[_Query],
    results: Mapping[str, tuple[str, Series | None, str]],
    descending: bool,
    cap: int,
    token: str | None,
) -> dict[str, Any]:
    returned = [q for q in queries if q.return_data]
    q_start, p_start = (int(x) for x in token.split(":")) if token else (0, 0)
    out: list[dict[str, Any]] = []
    budget = cap
    for index in range(q_start, len(returned)):
        q = returned[index]
        status, series, message = results[q.id]
        points = sorted(series.points.items(), reverse=descending) if series else []
        skip = p_start if index == q_start else 0
        chunk = points[skip : skip + budget]
        more = skip + len(chunk) < len(points)
        entry: dict[str, Any] = {
            "Id": q.id,
            "Label": series.label if series else (q.label or q.id),
            "Timestamps": [t for t, _ in chunk],
            "Values": [v for _, v in chunk],
            "StatusCode": "PartialData" if more else status,
        }
        if message:
            entry["Messages"] = [{"Code": status, "Value": message}]
        out.append(entry)
        budget -= len(chunk)
        if more:
            return {"MetricDataResults": out, "NextToken": f"{index}:{skip + len(chunk)}", "Messages": []}
    return {"MetricDataResults": out, "Messages": []}


# -- time ------------------------------------------------------------------------------------------
def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _epoch(value: Any) -> int:
    if isinstance(value, datetime):
        return int(_aware(value).timestamp())
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return int(_aware(datetime.fromisoformat(value)).timestamp())
    raise MetricMathError(f"Not a timestamp: {value!r}")


def install(sim: Simulator) -> None:
    sim.extensions.append(CloudWatchExtension(sim))


__all__ = ["CloudWatchExtension", "MetricMathError", "Series", "install"]
