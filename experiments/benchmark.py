"""Speed and memory of the engine: `make bench` -> results/benchmarks.json and results/benchmarks.png.

Every figure is the median over repeats, and every timed run happens in a fresh Python process
(single-threaded BLAS), so that its peak memory (ru_maxrss) belongs to that run alone:

- full city: one monthly run of the baseline (population build included) as `make run` does it:
  18 reported + 6 burn-in years = 288 months;
- scaling: the same standard run at 10k, 30k, 100k and 300k children (scale 0.1, 0.3, 1, 3) with the
  exponent of time over children fitted on a log-log scale;
- speed-up over the per-agent reference (tests/reference/) at 5,000, 20,000 and 100,000 children
  over 24 months, both timed side by side in the same process (the reference needs one and a
  half to two and a half minutes at the largest, so the whole benchmark takes seven to thirteen
  minutes, depending on the day's speed of the machine);
- sweep throughput: runs per minute of `python -m sim.run -m ...` with the joblib launcher;
- a quarter-city run of 4 + 6 years, the size of one calibration run;
- the UI's default comparison (sim/ui/state.py): sim.analysis.compare.compare, then the charts of the
  results page's tabs and of the Budget page, headless;
- one Step on the Erkunden page at its 2 % sample: the model's month and the page's two charts;
- a machine reference: a fixed numpy workload, to set figures of different days against the
  machine's speed on each day; every target (TARGETS, issues 16 and 17) is judged against it.

    python experiments/benchmark.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FULL_CITY_CHILDREN = 100_000  # about 102,000 under-18s in Düsseldorf: scale 1
SCALING = (0.1, 0.3, 1.0, 3.0)
# 5,000, 20,000 and 100,000 children (the full city), 24 months each: the engine's fixed cost per
# month weighs less in a larger city, so the ratio grows with size.
REFERENCE_SIZES = ({"scale": 0.05, "years": 1, "burn_in_years": 1}, {"scale": 0.2, "years": 1, "burn_in_years": 1},
                   {"scale": 1.0, "years": 1, "burn_in_years": 1})
# Targets of issues 16 (engine) and 17 (UI). Times are set against the machine reference measured
# in the same `make bench`, because the machine's speed differs between days by up to three times;
# the UI's targets are given in seconds on a fast day (machine reference 0.52 s, make bench of
# 2026-11-30) and scale with the day's reference.
FAST_DAY_REFERENCE_S = 0.52
TARGETS = {
    "full_city_x_reference": 2.0,  # full city, 18 + 6 years, build included, one core
    "quarter_city_x_reference": 0.3,  # a calibration run: scale 0.25, 4 + 6 years
    "speedup_full_city": 500.0,
    "speedup_20k": 100.0,
    "peak_mib": 400.0,
    "scaling_exponent": 1.15,  # at most linear (with the noise of four sizes)
    "ui_first_chart_s_fast_day": 3.0,
    "ui_all_tabs_s_fast_day": 6.0,
    "explore_step_s_fast_day": 0.5,
}


# ---- what runs inside a fresh process ---------------------------------------------------------
def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_engine(scale: float, years: int, burn_in_years: int) -> dict:
    t0 = time.perf_counter()
    from sim.engine.model import PreventionChainModel
    t1 = time.perf_counter()
    model = PreventionChainModel("baseline", seed=0, scale=scale, years=years, burn_in_years=burn_in_years)
    t2 = time.perf_counter()
    children_start = int(model.pop.children.alive.sum())
    model.run()
    t3 = time.perf_counter()
    return {"import_s": t1 - t0, "build_s": t2 - t1, "run_s": t3 - t2, "total_s": t3 - t1, "months": model.n_months,
            "children_start": children_start, "children_end": int(model.pop.children.alive.sum()), "peak_mib": peak_mib()}


def child_side_by_side(scale: float, years: int, burn_in_years: int) -> dict:
    """Engine and per-agent reference, same size, same process, one after the other."""
    sys.path.insert(0, str(REPO / "tests"))
    from reference import ReferenceModel
    from sim.engine.model import PreventionChainModel

    out = {}
    for name, cls in (("engine", PreventionChainModel), ("reference", ReferenceModel)):
        t0 = time.perf_counter()
        model = cls("baseline", seed=0, scale=scale, years=years, burn_in_years=burn_in_years)
        if name == "engine":
            out["children_start"] = int(model.pop.children.alive.sum())
        model.run()
        out[f"{name}_s"] = time.perf_counter() - t0
    out["speedup"] = out["reference_s"] / out["engine_s"]
    out["total_s"] = out["reference_s"] + out["engine_s"]
    out["children_end_reference"] = len(model.children)
    return out


def child_ui_default() -> dict:
    """The UI's default comparison (lotsen against the status quo), computed and charted headless."""
    import matplotlib
    matplotlib.use("Agg")
    from sim.analysis import charts
    from sim.analysis.compare import compare
    from sim.inputs.scenario import load_scenario
    from sim.ui import state

    settings = state.RunSettings(scale=float(state.DEFAULT_SCALE_PERCENT) / 100, seeds=int(state.DEFAULT_SEEDS),
                                 years=int(state.DEFAULT_YEARS), burn_in=int(state.DEFAULT_BURN_IN))
    scenarios = [load_scenario(name) for name in state.DEFAULT_SCENARIOS]
    request = state.ComparisonRequest(tuple(scenarios), settings)
    workers = state.workers_for(request)
    t0 = time.perf_counter()
    comparison = compare(list(request.scenarios), range(settings.seeds), scale=settings.scale, years=settings.years,
                         burn_in=settings.burn_in, workers=workers, progress=False)
    t1 = time.perf_counter()
    from sim.ui.widgets import png_bytes
    import matplotlib.pyplot as plt
    from sim.ui.compare_results import charts_ahead

    # The results page opens on the gap chart; then the charts its other tabs show, as the page
    # draws them ahead (chain, heat map, map); then those of the Budget page.
    done = []
    tabs = [lambda: charts.gap_chart(comparison)] + [make for _, _, make in charts_ahead(comparison)]
    budget = [lambda chart=chart: chart(comparison)
              for chart in (charts.cost_effect_chart, charts.path_chart, charts.cumulative_chart, charts.budget_chart)]
    for make in tabs + budget:
        fig = make()
        png_bytes(fig)
        plt.close(fig)
        done.append(time.perf_counter())
    t2 = done[-1]
    return {"compute_s": t1 - t0, "first_chart_s": done[0] - t0, "all_tabs_s": done[len(tabs) - 1] - t0,
            "charts_s": t2 - t1, "total_s": t2 - t0, "workers": workers,
            "runs": request.n_runs, "settings": settings.__dict__, "scenarios": [s.name for s in scenarios]}


def child_explore_step(steps: int = 12) -> dict:
    """One Step on the Erkunden page at its defaults (2 % sample): the model's month and the two
    charts the page draws after it (monthly series and the live map), as the page does them."""
    import matplotlib
    matplotlib.use("Agg")
    from sim.engine.model import PreventionChainModel
    from sim.ui import explore, scenario_store, state
    from sim.inputs.levers import Levers

    t0 = time.perf_counter()
    model = PreventionChainModel(**explore.model_params("baseline", scenario_store.scenario("baseline").levers or Levers(),
                                                        {"scale": state.EXPLORE_DEFAULT_SCALE, "seed": 0,
                                                         "years": state.EXPLORE_DEFAULT_YEARS}))
    built = time.perf_counter()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        model.step()
        explore.MonthlyCharts(model)
        explore.SozialraumPanel(model)
        seconds.append(time.perf_counter() - start)
    return {"build_s": built - t0, "first_step_s": seconds[0], "step_s": statistics.median(seconds[1:]),
            "slowest_step_s": max(seconds[1:]), "steps": steps, "scale": state.EXPLORE_DEFAULT_SCALE}


def child_machine_reference() -> dict:
    """A fixed numpy workload made of the operations an engine month is made of (a mask, its rows,
    gathers and a count by cell over 128,000 rows), so that figures measured on different days can
    be set against how fast the machine was that day (its speed has been seen to differ by almost
    two between days, for the same code)."""
    import numpy as np

    gen = np.random.default_rng(0)
    n = 128_000
    households = gen.integers(0, n // 2, n)
    cells = gen.integers(0, 1020, n)
    status = gen.integers(0, 3, n // 2).astype(np.int8)
    values = gen.random(n).astype(np.float32)
    t0 = time.perf_counter()
    for _ in range(MACHINE_REFERENCE_LOOPS):
        rows = np.flatnonzero(values < 0.3)
        np.bincount(cells.take(rows), minlength=1020)
        status.take(households)
        values += np.float32(1e-7)
    return {"total_s": time.perf_counter() - t0, "loops": MACHINE_REFERENCE_LOOPS}


MACHINE_REFERENCE_LOOPS = 3000
CHILDREN = {"engine": child_engine, "side_by_side": child_side_by_side, "ui_default": child_ui_default,
            "explore_step": child_explore_step, "machine_reference": child_machine_reference}


# ---- the parent -------------------------------------------------------------------------------
def fresh_process(kind: str, env: dict | None = None, **kwargs) -> dict:
    code = (f"import json, sys; sys.path.insert(0, {str(REPO)!r}); sys.path.insert(0, {str(REPO / 'experiments')!r});"
            f"import benchmark; print(json.dumps(benchmark.CHILDREN[{kind!r}](**{kwargs!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env=os.environ | SINGLE_THREAD | (env or {}))
    if done.returncode:
        raise RuntimeError(f"{kind} {kwargs} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict]) -> dict:
    keys = [k for k, v in runs[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def repeated(repeats: int, kind: str, long_s: float | None = None, **kwargs) -> dict:
    """Median over `repeats` fresh processes; a size whose first run takes longer than `long_s`
    seconds is not repeated (keeps the largest city's scaling point short), and says so."""
    runs = [fresh_process(kind, **kwargs)]
    if long_s is None or runs[0].get("total_s", 0) <= long_s:
        runs += [fresh_process(kind, **kwargs) for _ in range(repeats - 1)]
    return {"median": median_of(runs), "runs": runs, "repeats": len(runs)}


def kernel_cost() -> dict:
    """What the compiled kernels cost a run: a small run (2 %, 1 year) in a fresh process with an
    empty numba cache, as the first run after install, and with the cache the runs before filled.
    The difference is the compilation; import_s includes importing numba."""
    small = {"scale": 0.02, "years": 1, "burn_in_years": 0}
    with tempfile.TemporaryDirectory(prefix="bench_numba_cache_") as empty:
        first = fresh_process("engine", env={"NUMBA_CACHE_DIR": empty}, **small)
    cached = fresh_process("engine", **small)
    return {"size": small, "first_run_total_s": first["total_s"], "cached_total_s": cached["total_s"],
            "compile_s": first["total_s"] - cached["total_s"], "import_s": cached["import_s"]}


def sweep_throughput(repeats: int) -> dict:
    """Runs per minute of a 4-run Hydra sweep (2 scenarios × 2 seeds, 5 % sample) on the joblib launcher."""
    overrides = ["scenario=baseline,lotsen", "seed=0,1", "scale=small"]
    runs = []
    for _ in range(repeats):
        folder = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
        try:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sim.run", "-m", *overrides, f"hydra.sweep.dir={folder}"],
                           cwd=REPO, env=os.environ | SINGLE_THREAD, check=True, capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            finished = len(list(folder.glob("*/result")))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        runs.append({"seconds": seconds, "runs": finished, "runs_per_minute": 60 * finished / seconds})
    return {"command": "python -m sim.run -m " + " ".join(overrides) + " hydra.sweep.dir=<tmp>",
            "launcher": "joblib, n_jobs=-1", "median": median_of(runs), "runs": runs, "repeats": repeats}


def fit_exponent(children: list[float], seconds: list[float]) -> float:
    """Slope of log(time) over log(children), least squares."""
    x = [math.log(c) for c in children]
    y = [math.log(s) for s in seconds]
    mx, my = statistics.fmean(x), statistics.fmean(y)
    return sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)


def machine() -> dict:
    import mesa
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "mesa": mesa.__version__, "system": f"{platform.system()} {platform.release()}"}


def chart(report: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib import ticker

    from sim.analysis.de_format import de
    from sim.analysis.results import write_figure

    scaling = report["scaling"]["points"]
    n = [p["children_start"] for p in scaling]
    secs = [p["total_s"] for p in scaling]
    mem = [p["peak_mib"] for p in scaling]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    german = ticker.FuncFormatter(lambda v, _: de(v, digits=0 if v >= 1 else 1))  # tick values: 0,1 1 2 … 1 000
    ax = axes[0]
    ax.loglog(n, secs, "o-", label="gemessen (Median)")
    k = report["scaling"]["exponent"]
    # The least-squares line on the log-log scale passes through the mean of the logs.
    log_n, log_s = np.log(n), np.log(secs)
    ax.loglog(n, np.exp(log_s.mean() + k * (log_n - log_n.mean())), "--", color="grey",
              label=f"Anpassung: Zeit ∝ Kinder^{de(k, 2)}")
    reference = report["machine_reference"]["median"]["total_s"]
    goal = TARGETS["full_city_x_reference"] * reference
    ax.axhline(goal, color="red", lw=1, label=f"Ziel ganze Stadt: 2 × Maschinenreferenz = {de(goal, 1)} s")
    ax.set_xlabel("Kinder zu Beginn")
    ax.set_ylabel("Sekunden (Aufbau + 24 Jahre monatlich)")
    ax.set_title("Laufzeit nach Größe der Stadt")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.loglog(n, mem, "o-")
    ax.axhline(TARGETS["peak_mib"], color="red", lw=1, label=f"Ziel ganze Stadt: höchstens {de(TARGETS['peak_mib'], 0)} MiB")
    ax.set_xlabel("Kinder zu Beginn")
    ax.set_ylabel("Spitzen-Arbeitsspeicher (MiB)")
    ax.set_title("Speicher nach Größe der Stadt")
    ax.legend(fontsize=8)
    for ax in axes[:2]:  # plain German numbers instead of powers of ten
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(german)
            axis.set_minor_formatter(german if axis is ax.yaxis else ticker.NullFormatter())
    ax = axes[2]
    sizes = report["speedup"]
    x = np.arange(len(sizes))
    ax.bar(x - 0.2, [s["median"]["engine_s"] for s in sizes], 0.4, color="tab:blue", label="vektorisiert (sim)")
    ax.bar(x + 0.2, [s["median"]["reference_s"] for s in sizes], 0.4, color="tab:orange", label="pro Agent (Referenz)")
    ax.set_xticks(x, [f"{de(s['median']['children_start'], 0)} Kinder\n{de(s['median']['speedup'], 0)}-mal schneller"
                      for s in sizes])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(german)
    ax.set_ylabel("Sekunden (Aufbau + 24 Monate)")
    ax.set_title("Gleiche Regeln, gleicher Prozess")
    ax.legend(fontsize=8)
    m = report["machine"]
    fig.suptitle(f"Präventionskette-Sim, Status quo, synthetisches Düsseldorf · gemessen {report['date']} auf "
                 f"{m['cpu']} ({m['cores']} Kerne), 1 Thread je Lauf · Maschinenreferenz {de(reference, 2)} s", fontsize=10)
    fig.tight_layout()
    write_figure(fig, path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes only, one repeat (a smoke test of the script)")
    parser.add_argument("--out", type=Path, default=RESULTS / "benchmarks.json")
    parser.add_argument("--table", action="store_true", help="print the README table from an existing benchmarks.json and stop")
    args = parser.parse_args(argv)
    from sim.analysis.results import write_text  # (here, not at the top: the timed children import only what they time)

    if args.table:
        report = json.loads(args.out.read_text())
        print(markdown_table(report))
        return report
    repeats = 1 if args.quick else args.repeats
    scales = (0.02, 0.05) if args.quick else SCALING
    reference_sizes = ({"scale": 0.02, "years": 1, "burn_in_years": 0},) if args.quick else REFERENCE_SIZES
    started = time.perf_counter()
    report: dict = {"date": date.today().isoformat(), "machine": machine(),
                    "command": "make bench  (python experiments/benchmark.py)", "targets": TARGETS}

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {text}", flush=True)

    say("machine reference workload")
    report["machine_reference"] = repeated(repeats, "machine_reference")
    points = []
    for scale in scales:
        say(f"engine, scale {scale}, 18 + 6 years")
        result = repeated(repeats, "engine", long_s=30.0, scale=scale, years=18, burn_in_years=6)
        points.append({"scale": scale, **result["median"], "repeats": result["repeats"], "runs": result["runs"]})
    report["scaling"] = {"what": "baseline, 18 reported + 6 burn-in years (288 months), population build included",
                         "points": points,
                         "exponent": fit_exponent([p["children_start"] for p in points], [p["total_s"] for p in points]),
                         "exponent_largest": fit_exponent([p["children_start"] for p in points[-2:]],
                                                          [p["total_s"] for p in points[-2:]])}
    full = next((p for p in points if p["scale"] == 1.0), points[-1])
    report["full_city"] = {"what": "scale 1 (about 100,000 children), 18 reported + 6 burn-in years = 288 months "
                                   "(as make run; the 18-year target is met if this is), population build included",
                           **{k: v for k, v in full.items() if k != "runs"}}
    say("compiled kernels: first run after install against a cached one")
    report["kernels"] = kernel_cost()
    say("engine, quarter city, 4 + 6 years (a calibration run)")
    quarter = {"scale": 0.02, "years": 1, "burn_in_years": 0} if args.quick else {"scale": 0.25, "years": 4, "burn_in_years": 6}
    result = repeated(repeats, "engine", **quarter)
    report["quarter_city"] = {"what": "scale 0.25, 4 reported + 6 burn-in years (the size of a calibration run)",
                              **quarter, **result["median"], "repeats": result["repeats"]}
    report["speedup"] = []
    for size in reference_sizes:
        say(f"side by side with the per-agent reference, {size}")
        report["speedup"].append({"size": size, **repeated(repeats, "side_by_side", **size)})
    say("sweep throughput")
    report["sweep"] = sweep_throughput(1 if args.quick else min(repeats, 2))
    say("UI default comparison")
    report["ui_default"] = repeated(repeats, "ui_default")
    say("Erkunden: one Step at the 2 % sample")
    report["explore_step"] = repeated(repeats, "explore_step", steps=4 if args.quick else 12)
    report["verdicts"] = verdicts(report)
    report["seconds"] = time.perf_counter() - started
    write_text(json.dumps(report, indent=2, ensure_ascii=False), args.out)
    chart(report, args.out.with_suffix(".png"))
    say(f"written {args.out} and {args.out.with_suffix('.png')}")
    print(json.dumps(summary(report), indent=2, ensure_ascii=False))
    return report


def verdicts(report: dict) -> dict:
    """Each target against its measured figure, with the day's machine reference."""
    reference = report["machine_reference"]["median"]["total_s"]
    day = reference / FAST_DAY_REFERENCE_S  # how much slower than the fast day the machine was
    full, quarter = report["full_city"], report.get("quarter_city")
    speed = {round(s["size"]["scale"], 2): s["median"]["speedup"] for s in report["speedup"]}
    ui, step = report["ui_default"]["median"], report.get("explore_step", {}).get("median")
    rows = {
        "full city 18 + 6 years, × machine reference": (full["total_s"] / reference, "<=", TARGETS["full_city_x_reference"]),
        "full city: peak MiB": (full["peak_mib"], "<=", TARGETS["peak_mib"]),
        "scaling exponent": (report["scaling"]["exponent"], "<=", TARGETS["scaling_exponent"]),
    }
    if quarter:
        rows["quarter city 4 + 6 years, × machine reference"] = (quarter["total_s"] / reference, "<=",
                                                                  TARGETS["quarter_city_x_reference"])
    if 1.0 in speed:
        rows["speed-up over the per-agent reference, full city"] = (speed[1.0], ">=", TARGETS["speedup_full_city"])
    if 0.2 in speed:
        rows["speed-up over the per-agent reference, 20,000 children"] = (speed[0.2], ">=", TARGETS["speedup_20k"])
    rows["UI default comparison: first chart, s (target for the day)"] = (
        ui["first_chart_s"], "<=", TARGETS["ui_first_chart_s_fast_day"] * day)
    if "all_tabs_s" in ui:
        rows["UI default comparison: every tab's chart, s (target for the day)"] = (
            ui["all_tabs_s"], "<=", TARGETS["ui_all_tabs_s_fast_day"] * day)
    if step:
        rows["Erkunden: one Step at 2 %, s (target for the day)"] = (step["step_s"], "<=", TARGETS["explore_step_s_fast_day"] * day)
    return {name: {"measured": round(value, 3), "target": f"{op} {round(target, 3)}",
                   "met": value <= target if op == "<=" else value >= target}
            for name, (value, op, target) in rows.items()}


def summary(report: dict) -> dict:
    full = report["full_city"]
    return {
        "full city, 18+6 years: seconds (build + run)": round(full["total_s"], 2),
        "full city: peak MiB": round(full["peak_mib"]),
        "scaling exponent": round(report["scaling"]["exponent"], 2),
        "speed-up over per-agent reference, by size": [round(s["median"]["speedup"], 1) for s in report["speedup"]],
        "sweep runs per minute": round(report["sweep"]["median"]["runs_per_minute"], 1),
        "UI default comparison: seconds to the first chart": round(report["ui_default"]["median"]["first_chart_s"], 2),
        "machine reference workload: seconds": round(report["machine_reference"]["median"]["total_s"], 2),
        "targets": {name: f"{v['measured']} ({v['target']}: {'met' if v['met'] else 'not met'})"
                    for name, v in report.get("verdicts", {}).items()},
    }


def markdown_table(report: dict) -> str:
    """The README's tables, filled from benchmarks.json (`--table`): the measured figures, then each
    target against its figure."""
    full, sp, sw, ui = report["full_city"], report["speedup"], report["sweep"], report["ui_default"]["median"]
    reference = report["machine_reference"]["median"]["total_s"]
    lines = [
        "| figure | measured |",
        "|---|---|",
        f"| machine reference: a fixed numpy workload (`child_machine_reference`; lower is a faster machine; "
        f"fast day {FAST_DAY_REFERENCE_S:.2f} s) | {reference:.2f} s |",
        f"| full city (~{full['children_start']:,} children), 288 months (18 + 6 burn-in), build included, 1 core | "
        f"{full['total_s']:.1f} s (build {full['build_s']:.1f} s), {full['total_s'] / reference:.1f} × reference |",
        f"| peak memory of that run (ru_maxrss, incl. Python and libraries) | {full['peak_mib']:.0f} MiB |",
    ]
    if "kernels" in report:
        kc = report["kernels"]
        lines.append(f"| compiled kernels: a 2 %, 1-year run with an empty numba cache (first run after install) "
                     f"against the cached kernels | {kc['first_run_total_s']:.2f} s against {kc['cached_total_s']:.2f} s "
                     f"(compilation {kc['compile_s']:.2f} s, once) |")
    if "quarter_city" in report:
        q = report["quarter_city"]
        lines.append(f"| quarter city, 4 + 6 years (a calibration run) | {q['total_s']:.2f} s, {q['total_s'] / reference:.2f} × reference |")
    for p in report["scaling"]["points"]:
        lines.append(f"| scale {p['scale']:g}: {p['children_start']:,} children | {p['total_s']:.1f} s, {p['peak_mib']:.0f} MiB"
                     f"{'' if p.get('repeats', 3) > 1 else ' (one run)'} |")
    k, top = report["scaling"]["exponent"], report["scaling"]["exponent_largest"]
    lines.append(f"| scaling exponent (time ∝ children^k, log-log fit over the four sizes; between the two largest) | "
                 f"k = {k:.2f}; {top:.2f} |")
    for s in sp:
        size, m = s["size"], s["median"]
        months = 12 * (size["years"] + size["burn_in_years"])
        lines.append(
            f"| speed-up over the per-agent reference, scale {size['scale']:g} ({m['children_start']:,.0f} children), "
            f"{months} months, same process | {m['speedup']:.0f}× ({m['engine_s']:.2f} s against {m['reference_s']:.1f} s)"
            f"{'' if s['repeats'] > 1 else ', one run'} |")
    lines += [
        f"| sweep throughput, joblib on {report['machine']['cores']} cores (`{sw['command']}`) | "
        f"{sw['median']['runs_per_minute']:.1f} runs/min |",
        f"| UI default comparison (lotsen vs status quo, 2 %, 2 seeds, 3 + 1 years, {ui['workers']:.0f} "
        f"{'process' if ui['workers'] == 1 else 'processes'}): first chart; every tab's chart; all charts incl. Budget | "
        f"{ui['first_chart_s']:.1f} s (compute {ui['compute_s']:.1f} s); "
        + (f"{ui['all_tabs_s']:.1f} s; " if "all_tabs_s" in ui else "") + f"{ui['total_s']:.1f} s |",
    ]
    if "explore_step" in report:
        e = report["explore_step"]["median"]
        lines.append(f"| Erkunden: one Step at the 2 % sample (the month and both charts), median of {e['steps'] - 1:.0f} | "
                     f"{e['step_s']:.2f} s (slowest {e['slowest_step_s']:.2f} s) |")
    lines += ["", "| target (issues 16 and 17) | measured | target | met |", "|---|---|---|---|"]
    for name, v in verdicts(report).items():
        lines.append(f"| {name} | {v['measured']:.2f} | {v['target']} | {'yes' if v['met'] else 'no'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
