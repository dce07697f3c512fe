"""The fleet bench runs end to end on a small fleet over every region it knows (the figures in
bench/README.md come from it; a simulator change once stopped it in one region, unseen by any test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_fleet_bench_runs_calm_and_through_a_storm_over_every_region() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "bench_fleet_scale.py"),
            *("--clusters", "12", "--regions", "12", "--latency", "0"),
            *("--storm-seconds", "2", "--storm-share", "0.3"),
        ],
        env={**os.environ, "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ["PATH"]))},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "fleet: 12 clusters in 12 regions" in out
    assert out.count("collection errors 0") == 2  # calm and storm
    assert "repeats               0\n" in out  # the calm scan sends no identical request twice
    assert "same findings as calm yes" in out
    assert "x botocore's own" in out and "fan-out plan" in out
