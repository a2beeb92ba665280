"""Fit the uncertain model parameters to the published calibration targets.

Method: weighted non-linear least squares (scipy.optimize.least_squares, trust region) of
(model − target) / tolerance over every target in sim/calibrate.py, on a quarter-scale city
with fixed seeds (common random numbers make the objective a deterministic function of the
parameters). Finite differences are grouped by a declared sparsity pattern: a parameter is only
expected to move the targets listed for it, so parameters that touch disjoint targets are
perturbed in the same model run. Function evaluations run on both cores.

Writes conf/params/fitted.yaml: the fitted values, the date, the targets fitted to, the
residuals, the stopping status and the command that produced it. Re-run with `make fit`; every
evaluation is kept in results/fit_journal.jsonl, so a fit that was stopped picks up where it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import least_squares
from scipy.special import expit, logit
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis.results import write_text  # noqa: E402
from sim.calibrate import calibration_table, checked_target_ids, run_baseline  # noqa: E402
from sim.inputs.params import FITTED_PATH, ModelParams, load_params, params_from_dict, set_by_path  # noqa: E402
from sim.inputs.services import load_catalogue  # noqa: E402
from sim.paths import RESULTS  # noqa: E402

JOURNAL = RESULTS / "fit_journal.jsonl"
# Why a parameter may sit at its bound (written into fitted.yaml when it does).
BOUND_REASONS = {
    "takeup.elasticity.cost": "fees are waived for the poor in Düsseldorf (U3 below 40,000 EUR, Ü3 for all), so few targets see the cost barrier",
}

# name (dotted path into the parameters), transform, bounds (in the transformed space), targets it moves.
# "logit" parameters are probabilities searched on the logit scale.
FREE = [
    ("base_rate.welcome_visit", "logit", (-3, 8), ["T18"]),
    ("base_rate.kinderzuschlag", "logit", (-3, 8), ["T21", "T15"]),
    ("base_rate.but_social", "logit", (-3, 8), ["T14", "T15", "T12"]),
    ("base_rate.but_lunch", "logit", (-3, 8), ["T15"]),
    ("base_rate.u_checkups", "logit", (-3, 10), ["T16"]),
    ("base_rate.sports_club", "logit", (-3, 8), ["T12", "T13"]),
    ("base_rate.familienzentrum", "logit", (-4, 6), ["A02", "A03"]),
    ("base_rate.u3_kita", "logit", (-3, 8), ["D11", "T06", "T07", "D06", "D09"]),
    ("base_rate.kindertagespflege", "logit", (-3, 8), ["T06", "T07", "D06", "D09"]),
    ("base_rate.ue3_kita", "logit", (-3, 10), ["T08", "T09", "D11"]),
    ("base_rate.ogs", "logit", (-3, 8), ["T17", "D10"]),
    ("base_rate.family_midwife", "logit", (-5, 5), ["D07", "D08"]),
    ("takeup.elasticity.language", "plain", (0.0, 6.0), ["T09", "D06", "T07"]),
    ("takeup.elasticity.cost", "plain", (0.0, 6.0), ["T07", "T12", "T13", "D11"]),
    ("takeup.elasticity.information", "plain", (0.0, 6.0), ["D07", "D08", "T21", "T14", "A02"]),
    ("takeup.elasticity.stigma_trust", "plain", (0.0, 6.0), ["T07", "D11", "T12", "D07", "A02"]),
    ("takeup.work_demand", "plain", (0.0, 6.0), ["T07", "D11", "T06", "D06", "D09"]),
    ("takeup.susceptibility.information.sgb2", "plain", (0.0, 4.0), ["T07", "D11", "D07", "T14", "T15", "A02"]),
    ("development.risk.german.other_language", "plain", (-4.0, 0.0), ["T10", "T11"]),
    ("development.risk.german.sgb2", "plain", (-3.0, 0.5), ["T10", "T11"]),
    ("development.exam_threshold.german", "plain", (-5.0, 2.0), ["T10", "T11"]),
    ("development.risk.motor.sgb2", "plain", (-2.0, 0.5), ["D02", "D03"]),
    ("development.exam_threshold.motor", "plain", (-5.0, 2.0), ["D02", "D03"]),
    ("development.risk.weight.sgb2", "plain", (-2.0, 0.5), ["D04", "D05"]),
    ("development.exam_threshold.weight", "plain", (-6.0, 2.0), ["D04", "D05"]),
    ("development.risk.school.low_education", "plain", (-2.0, 0.5), ["T19", "T20", "A01"]),
    ("development.risk.school.high_education", "plain", (-0.5, 2.0), ["T19", "T20"]),
    ("development.risk.school.sgb2", "plain", (-2.0, 0.5), ["T20", "A01"]),
    ("development.neighbourhood_school_per_type", "plain", (-1.0, 0.0), ["T19", "T20"]),
    ("development.gymnasium_threshold", "plain", (-4.0, 4.0), ["T19", "T20"]),
    ("development.neet_threshold", "plain", (-5.0, 0.0), ["A01"]),
    ("development.risk.material.sgb2", "plain", (-4.0, 0.0), ["A04", "A05"]),
    ("development.deprivation_threshold.material", "plain", (-5.0, 1.0), ["A04", "A05"]),
    ("development.risk.social.sgb2", "plain", (-3.0, 0.5), ["A06", "A07"]),
    ("development.deprivation_threshold.social", "plain", (-5.0, 1.0), ["A06", "A07"]),
    ("development.deprivation_threshold.health", "plain", (-5.0, 1.0), ["A08", "A09"]),
    ("development.deprivation_threshold.cultural", "plain", (-5.0, 1.0), ["A10", "A11"]),
    ("demography.sgb2_exit_per_year", "plain", (0.03, 0.6), ["D01"]),
]


def get_by_path(data: dict, dotted: str):
    for part in dotted.split("."):
        data = data[part]
    return data


def start_vector(params: ModelParams) -> np.ndarray:
    data = params.model_dump()
    catalogue = load_catalogue()
    x = []
    for name, transform, _, _ in FREE:
        if name.startswith("base_rate."):
            service = name.split(".", 1)[1]
            value = data["base_rate"].get(service, catalogue.services[service].base_rate)
        else:
            value = get_by_path(data, name)
        x.append(float(logit(np.clip(value, 1e-4, 1 - 1e-4))) if transform == "logit" else float(value))
    return np.array(x)


def to_overrides(x: np.ndarray) -> dict:
    overrides: dict = {}
    for (name, transform, _, _), value in zip(FREE, x):
        overrides = set_by_path(overrides, name, float(expit(value)) if transform == "logit" else float(value))
    return overrides


def _indicators(job):
    """The baseline runs of one parameter vector, all seeds in one worker (they share its donor pool)."""
    os.environ["PKSIM_HISTORY_CACHE"] = "0"  # every step of the fit has new parameters: no pool on disk
    x, args = job
    params = params_from_dict(to_overrides(x), "fit")
    return run_baseline(list(args.seeds), args.scale, args.years, args.burn_in, params=params, workers=1)


class Evaluations:
    """Residuals (model − target) / tolerance per parameter vector, kept in a journal on disk, so
    that a fit started again with the same settings replays what is done and goes on from there."""

    def __init__(self, path: Path, settings: dict, pool):
        self.path, self.pool, self.settings = path, pool, settings
        self.known: dict[bytes, np.ndarray] = {}
        self.runs = 0
        if path.exists():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                if entry["settings"] == settings:
                    self.known[np.array(entry["x"]).tobytes()] = np.array(entry["r"])

    def many(self, xs: list[np.ndarray], args) -> list[np.ndarray]:
        todo = [x for x in xs if x.tobytes() not in self.known]
        if todo:
            results = list(tqdm(self.pool.map(_indicators, [(x, args) for x in todo]), total=len(todo),
                                desc="Modellläufe", unit="Satz", leave=False))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as journal:
                for x, tables in zip(todo, results):
                    table = calibration_table(tables)
                    table = table[table["checked"]]
                    r = ((table["model"] - table["target"]) / table["tolerance"]).to_numpy()
                    self.known[x.tobytes()] = r
                    journal.write(json.dumps({"settings": self.settings, "x": x.tolist(), "r": r.tolist()}) + "\n")
            self.runs += len(todo) * len(args.seeds)
        return [self.known[x.tobytes()] for x in xs]


def sparsity(target_ids: list[str]) -> np.ndarray:
    m = np.zeros((len(target_ids), len(FREE)), dtype=int)
    for j, (_, _, _, targets) in enumerate(FREE):
        for t in targets:
            m[target_ids.index(t), j] = 1
    return m


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--burn-in", type=int, default=6)
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104])
    parser.add_argument("--max-evals", type=int, default=60, help="at most this many evaluations of the objective")
    parser.add_argument("--tol", type=float, default=2e-3, help="ftol and xtol of least_squares (its stopping rule)")
    parser.add_argument("--journal", type=Path, default=JOURNAL, help="evaluations kept for resuming")
    parser.add_argument("--dense", action="store_true", help="perturb one parameter per run (exact, slower)")
    parser.add_argument("--out", type=Path, default=FITTED_PATH)
    args = parser.parse_args(argv)
    target_ids = checked_target_ids()
    x0 = start_vector(load_params())  # start from the last fit (or the defaults)
    previous = yaml.safe_load(args.out.read_text()) if args.out.exists() else {}
    started_from = (f"the fit of {previous.get('fitted_on')} ({previous.get('command')})"
                    if previous.get("fitted_on") else "the declared defaults of sim/inputs/params.py")
    lower = np.array([b[0] for _, _, b, _ in FREE])
    upper = np.array([b[1] for _, _, b, _ in FREE])
    x0 = np.clip(x0, lower + 1e-6, upper - 1e-6)
    pattern = np.ones((len(target_ids), len(FREE)), dtype=int) if args.dense else sparsity(target_ids)
    pool = ProcessPoolExecutor(max_workers=2)
    started = time.time()
    settings = {"scale": args.scale, "years": args.years, "burn_in": args.burn_in, "seeds": list(args.seeds),
                "free": [name for name, *_ in FREE], "targets": target_ids, "x0": x0.round(6).tolist()}
    evaluations = Evaluations(args.journal, settings, pool)

    def fun(x):
        r = evaluations.many([x], args)[0]
        print(f"[{time.time() - started:6.0f}s] cost {0.5 * np.sum(r ** 2):9.2f}  outside tolerance: "
              f"{int(np.sum(np.abs(r) > 1))}/{r.size}", flush=True)
        return r

    # Grouped forward differences: columns with disjoint target rows share one run.
    groups: list[list[int]] = []
    for j in range(len(FREE)):
        for g in groups:
            if not (pattern[:, g].sum(axis=1) * pattern[:, j]).any():
                g.append(j)
                break
        else:
            groups.append([j])
    steps = np.where(np.array([t for _, t, _, _ in FREE]) == "logit", 0.25, 0.08)

    def jac(x, *_):
        base = fun(x)
        shifted = []
        for g in groups:
            xp = x.copy()
            for j in g:
                xp[j] = x[j] + steps[j] if x[j] + steps[j] <= upper[j] else x[j] - steps[j]
            shifted.append(xp)
        J = np.zeros((base.size, len(FREE)))
        for g, xp, r in zip(groups, shifted, evaluations.many(shifted, args)):
            for j in g:
                J[:, j] = (r - base) / (xp[j] - x[j]) * pattern[:, j]
        return J

    print(f"{len(FREE)} parameters, {len(target_ids)} targets, {len(groups)} runs per Jacobian", flush=True)
    # Stops by its own criterion: the cost changes by less than ftol (relative) or the step by
    # less than xtol, both at the size of the objective's noise between neighbouring parameters.
    result = least_squares(fun, x0, jac=jac, bounds=(lower, upper), max_nfev=args.max_evals, x_scale="jac",
                           ftol=args.tol, xtol=args.tol, verbose=1)
    overrides = to_overrides(result.x)
    final = fun(result.x)
    pool.shutdown()
    at_bound = [name for (name, *_), x, lo, hi in zip(FREE, result.x, lower, upper)
                if min(x - lo, hi - x) < 1e-3 * (hi - lo)]
    document = {
        "fitted_on": dt.date.today().isoformat(),
        "method": "scipy.optimize.least_squares (trf, " + ("forward differences, one parameter per run"
                  if args.dense else "grouped finite differences") + ") of (model - target) / tolerance",
        "started_from": started_from,
        "command": "python experiments/fit_parameters.py " + " ".join(argv or sys.argv[1:]),
        "status": {"code": int(result.status), "message": result.message, "converged": bool(result.status > 0),
                   "jacobian_evaluations": int(result.njev or 0), "function_evaluations": int(result.nfev),
                   "model_runs_this_session": evaluations.runs, "cost": round(float(result.cost), 3)},
        "fit_setup": {"scale": args.scale, "years": args.years, "burn_in_years": args.burn_in, "seeds": list(args.seeds)},
        "targets": target_ids,
        "residuals_in_tolerances": {t: round(float(r), 3) for t, r in zip(target_ids, final)},
        "parameters_at_bounds": {name: BOUND_REASONS.get(name, "at its bound: see README, calibration")
                                 for name in at_bound},
        "params": overrides,
    }
    # Atomic: every run reads this file, and a refit killed mid-write must not leave half of it.
    write_text("# Written by experiments/fit_parameters.py; do not edit by hand, re-run `make fit`.\n"
               + yaml.safe_dump(document, sort_keys=False, allow_unicode=True), args.out)
    print(f"written {args.out}; status {result.status} ({result.message}); "
          f"outside tolerance: {int(np.sum(np.abs(final) > 1))}/{final.size}")


if __name__ == "__main__":
    main()
