"""Time and peak memory of one full-city, 18-year monthly run of the baseline (population build included).

Each repetition runs in a fresh process so that peak memory (ru_maxrss) belongs to that run
alone; the figure reported is the median over repetitions. Writes results/benchmark.json.

    python experiments/benchmark.py [--repeats 3] [--years 18] [--burn-in 6] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHILD = """
import resource, time, json, sys
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
from sim.model import PreventionChainModel
t1 = time.perf_counter()
m = PreventionChainModel("baseline", seed=0, scale={scale}, years={years}, burn_in_years={burn_in})
t2 = time.perf_counter()
m.run()
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "build_s": t2 - t1, "run_s": t3 - t2, "months": m.n_months,
                  "children_end": int(m.pop.children.alive.sum()),
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--years", type=int, default=18)
    parser.add_argument("--burn-in", type=int, default=6)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=REPO / "results" / "benchmark.json")
    args = parser.parse_args(argv)
    code = CHILD.format(repo=str(REPO), scale=args.scale, years=args.years, burn_in=args.burn_in)
    runs = []
    for _ in range(args.repeats):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env=os.environ | {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs) for k in ("import_s", "build_s", "run_s", "peak_rss_mib")}
    report = {
        "what": f"baseline, scale {args.scale}, {args.years} reported years + {args.burn_in} burn-in years, monthly steps",
        "median": med | {"build_plus_run_s": med["build_s"] + med["run_s"],
                         "per_reported_18_years_s": (med["build_s"] + med["run_s"] * 216 / runs[0]["months"])},
        "runs": runs,
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report["median"], indent=2))
    return report


if __name__ == "__main__":
    main()
