"""Peak memory, duration and cold import time of each scheduled Lambda handler on the demo fleet.

The simulator (moto server + extensions) runs in this process; each handler runs in a fresh child
process pointed at it through AWS_ENDPOINT_URL, so the child's peak RSS is the handler's own (the
interpreter, its imports and one run), not the simulator's. Cold import is the time to import
``eksmon.handlers.<monitor>`` in that fresh interpreter; the run is one invocation as Lambda makes it
(``handler(event, context)``), findings table and topic included. The numbers size LAMBDA_SIZES in
infra/constants.py. Loopback is not AWS: the API call count per account+region is the figure that
carries over, and the duration is CPU time plus loopback round trips.

    python bench/bench_handlers.py            # a table
    python bench/bench_handlers.py --json     # the raw measurements
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from eksmon.demo import FINDINGS_TABLE, _inbox, available_monitors
from eksmon.settings import Settings
from eksmon.sim.fleet import DEMO_FLEET, DEMO_NOW, DEMO_REGIONS
from eksmon.sim.server import Simulator
from eksmon.state import create_table

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
RUNS = 3  # fresh processes per monitor; the table shows the largest figures

CHILD = r"""
import json, sys, time
def hwm():  # VmHWM: this process's own peak RSS (ru_maxrss would count the forking parent's pages)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
t0 = time.perf_counter()
import importlib
module = importlib.import_module("eksmon.handlers." + sys.argv[1])
t1 = time.perf_counter()
from eksmon.demo import LambdaContextStandIn
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    summary = module.handler({"now": sys.argv[2]}, LambdaContextStandIn("eksmon-" + sys.argv[1]))
t2 = time.perf_counter()
print(json.dumps({
    "import_s": t1 - t0,
    "run_s": t2 - t1,
    "peak_rss_mib": hwm(),
    "api_calls": summary["api_calls"],
    "clusters": summary["clusters"],
    "findings": summary["findings"],
    "collection_errors": summary["collection_errors"],
    "modules": len(sys.modules),
    "eksmon_modules": sorted(n for n in sys.modules if n.startswith("eksmon")),
}))
"""

BASELINE = r"""
import json
line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"peak_rss_mib": int(line.split()[1]) / 1024}))
"""


def _child(code: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure() -> dict[str, Any]:
    with Simulator() as sim:
        sim.seed_demo()
        session = sim.session(DEMO_REGIONS[0])
        topic_arn, _queue = _inbox(session)
        create_table(session.client("dynamodb"), FINDINGS_TABLE)
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(FUNCTIONS),
            **sim.environ(DEMO_REGIONS[0]),
            "EKSMON_CONFIG": Settings(regions=list(DEMO_REGIONS)).to_json(),
            "TOPIC_ARN": topic_arn,
            "FINDINGS_TABLE": FINDINGS_TABLE,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "EKSMonitor",
            "POWERTOOLS_SERVICE_NAME": "eksmon",
        }
        out: dict[str, Any] = {
            "interpreter_rss_mib": _child(BASELINE, env)["peak_rss_mib"],
            "fleet": {"clusters": len(DEMO_FLEET), "regions": len(DEMO_REGIONS), "accounts": 1},
            "monitors": {},
        }
        for monitor in available_monitors():
            runs = [_child(CHILD, env, monitor, DEMO_NOW.isoformat()) for _ in range(RUNS)]
            out["monitors"][monitor] = {
                key: max(r[key] for r in runs) if key.endswith(("_s", "_mib")) else runs[0][key]
                for key in runs[0]
            }
        return out


def main() -> None:
    result = measure()
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    fleet = result["fleet"]
    print(
        f"demo fleet: {fleet['clusters']} clusters, {fleet['regions']} regions, 1 account; "
        f"bare interpreter {result['interpreter_rss_mib']:.0f} MiB; max of {RUNS} fresh processes"
    )
    print(f"{'monitor':<12}{'peak RSS MiB':>14}{'import s':>10}{'run s':>8}{'API calls':>11}{'modules':>9}")
    for monitor, m in result["monitors"].items():
        print(
            f"{monitor:<12}{m['peak_rss_mib']:>14.0f}{m['import_s']:>10.2f}{m['run_s']:>8.2f}"
            f"{m['api_calls']:>11}{m['modules']:>9}"
        )


if __name__ == "__main__":
    main()
