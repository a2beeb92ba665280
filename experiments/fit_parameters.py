"""Fit the uncertain model parameters to the published calibration targets.

Method: weighted non-linear least squares (scipy.optimize.least_squares, trust region) of
(model − target) / tolerance over every target in sim/calibrate.py, on a quarter-scale city
with fixed seeds (common random numbers make the objective a deterministic function of the
parameters). Finite differences are grouped by a declared sparsity pattern: a parameter is only
expected to move the targets listed for it, so parameters that touch disjoint targets are
perturbed in the same model run. Function evaluations run on both cores.

Writes conf/params/fitted.yaml: the fitted values, the date, the targets fitted to, the
residuals and the command that produced it. Re-run with `make fit` (about 15-30 minutes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import least_squares
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.calibrate import calibration_table, load_targets, run_baseline  # noqa: E402
from sim.params import FITTED_PATH, ModelParams, load_params, params_from_dict, set_by_path  # noqa: E402
from sim.results import write_text  # noqa: E402
from sim.services import load_catalogue  # noqa: E402

# name (dotted path into the parameters), transform, bounds (in the transformed space), targets it moves.
# "logit" parameters are probabilities searched on the logit scale.
FREE = [
    ("base_rate.welcome_visit", "logit", (-3, 8), ["T18"]),
    ("base_rate.kinderzuschlag", "logit", (-3, 8), ["T21", "T15"]),
    ("base_rate.but_social", "logit", (-3, 8), ["T14", "T15", "T12"]),
    ("base_rate.but_lunch", "logit", (-3, 8), ["T15"]),
    ("base_rate.u_checkups", "logit", (-3, 10), ["T16"]),
    ("base_rate.sports_club", "logit", (-3, 8), ["T12", "T13"]),
    ("base_rate.u3_kita", "logit", (-3, 8), ["T04", "T05", "T06", "T07", "D06", "D09"]),
    ("base_rate.kindertagespflege", "logit", (-3, 8), ["T06", "T07", "D06", "D09"]),
    ("base_rate.ue3_kita", "logit", (-3, 10), ["T08", "T09", "T04", "T05"]),
    ("base_rate.ogs", "logit", (-3, 8), ["T17", "D10"]),
    ("base_rate.family_midwife", "logit", (-5, 5), ["D07", "D08"]),
    ("takeup.elasticity.language", "plain", (0.0, 6.0), ["T09", "D06", "T07"]),
    ("takeup.elasticity.cost", "plain", (0.0, 6.0), ["T07", "T12", "T13", "T04"]),
    ("takeup.elasticity.information", "plain", (0.0, 6.0), ["D07", "D08", "T21", "T14"]),
    ("takeup.elasticity.stigma_trust", "plain", (0.0, 6.0), ["T07", "T04", "T12", "D07"]),
    ("takeup.susceptibility.information.sgb2", "plain", (0.0, 4.0), ["T07", "T04", "T05", "D07", "T14", "T15"]),
    ("development.risk.german.other_language", "plain", (-3.0, 0.0), ["T10", "T11"]),
    ("development.risk.german.sgb2", "plain", (-2.0, 0.5), ["T10", "T11"]),
    ("development.exam_threshold.german", "plain", (-6.0, 3.0), ["T10", "T11"]),
    ("development.risk.motor.sgb2", "plain", (-1.0, 0.5), ["D02", "D03"]),
    ("development.exam_threshold.motor", "plain", (-5.0, 2.0), ["D02", "D03"]),
    ("development.risk.weight.sgb2", "plain", (-1.0, 0.5), ["D04", "D05"]),
    ("development.exam_threshold.weight", "plain", (-6.0, 2.0), ["D04", "D05"]),
    ("development.risk.school.low_education", "plain", (-1.0, 0.5), ["T19", "T20"]),
    ("development.risk.school.high_education", "plain", (-0.5, 1.0), ["T19", "T20"]),
    ("development.neighbourhood_school_per_type", "plain", (-1.0, 0.0), ["T19", "T20"]),
    ("development.gymnasium_threshold", "plain", (-4.0, 4.0), ["T19", "T20"]),
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
    """One baseline run (worker process): parameters x, one seed."""
    x, seed, args = job
    params = params_from_dict(to_overrides(x), "fit")
    return run_baseline([seed], args.scale, args.years, args.burn_in, params=params, workers=1)[0]


def residuals_many(xs: list[np.ndarray], args, pool) -> list[np.ndarray]:
    """Residuals (model - target) / tolerance for several parameter vectors, all runs on the pool."""
    jobs = [(x, seed, args) for x in xs for seed in args.seeds]
    tables = list(pool.map(_indicators, jobs))
    k = len(args.seeds)
    out = []
    for i in range(len(xs)):
        table = calibration_table(tables[i * k:(i + 1) * k])
        out.append(((table["model"] - table["target"]) / table["tolerance"]).to_numpy())
    return out


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
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102])
    parser.add_argument("--max-evals", type=int, default=12, help="Jacobian evaluations (outer iterations)")
    parser.add_argument("--dense", action="store_true", help="perturb one parameter per run (exact, slower)")
    parser.add_argument("--out", type=Path, default=FITTED_PATH)
    args = parser.parse_args(argv)
    target_ids = load_targets()["id"].tolist()
    x0 = start_vector(load_params())  # start from the last fit (or the defaults)
    lower = np.array([b[0] for _, _, b, _ in FREE])
    upper = np.array([b[1] for _, _, b, _ in FREE])
    x0 = np.clip(x0, lower + 1e-6, upper - 1e-6)
    pattern = np.ones((len(target_ids), len(FREE)), dtype=int) if args.dense else sparsity(target_ids)
    pool = ProcessPoolExecutor(max_workers=2)
    started = time.time()

    cache: dict[bytes, np.ndarray] = {}

    def fun(x):
        if x.tobytes() not in cache:
            cache[x.tobytes()] = residuals_many([x], args, pool)[0]
        r = cache[x.tobytes()]
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
        for g, xp, r in zip(groups, shifted, residuals_many(shifted, args, pool)):
            for j in g:
                J[:, j] = (r - base) / (xp[j] - x[j]) * pattern[:, j]
        return J

    print(f"{len(FREE)} parameters, {len(target_ids)} targets, {len(groups)} runs per Jacobian", flush=True)
    result = least_squares(fun, x0, jac=jac, bounds=(lower, upper), max_nfev=args.max_evals, x_scale="jac",
                           verbose=1)
    overrides = to_overrides(result.x)
    final = fun(result.x)
    pool.shutdown()
    document = {
        "fitted_on": dt.date.today().isoformat(),
        "method": "scipy.optimize.least_squares (trf, grouped finite differences) of (model - target) / tolerance",
        "command": "python experiments/fit_parameters.py " + " ".join(argv or sys.argv[1:]),
        "fit_setup": {"scale": args.scale, "years": args.years, "burn_in_years": args.burn_in, "seeds": args.seeds},
        "targets": target_ids,
        "residuals_in_tolerances": {t: round(float(r), 3) for t, r in zip(target_ids, final)},
        "params": overrides,
    }
    # Atomic: every run reads this file, and a refit killed mid-write must not leave half of it.
    write_text("# Written by experiments/fit_parameters.py; do not edit by hand, re-run `make fit`.\n"
               + yaml.safe_dump(document, sort_keys=False, allow_unicode=True), args.out)
    print(f"written {args.out}; outside tolerance: {int(np.sum(np.abs(final) > 1))}/{final.size}")


if __name__ == "__main__":
    main()
