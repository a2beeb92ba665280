"""Budget allocation: the Pareto front of extra cost against gap reduction, and the best mix in budget.

    python -m sim.run experiment=budget_search        # Optuna searches, then this script
    python experiments/budget_search.py results/multirun/budget_search   # analyse again

Every trial is compared with the status quo on the same seed and settings (common random numbers,
so a difference comes from the levers). Writes to `<sweep>/budget/`: `trials.csv` (levers, extra
cost in EUR a year, gap and its reduction in percentage points), `pareto.csv`, `best_mix.yaml`
and the chart `pareto_front.png/.svg`. Budget and objective: conf/experiment/budget_search.yaml.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis.indicators import INDICATOR_LABELS_DE  # noqa: E402
from sim.analysis.results import write_csv, write_provenance, write_yaml  # noqa: E402
from sim.collect import collect, sweep_provenance  # noqa: E402
from sim.engine.model import PreventionChainModel  # noqa: E402
from sim.inputs.params import ModelParams  # noqa: E402
from sim.inputs.yamlio import safe_load  # noqa: E402
from sim.paths import RESULTS  # noqa: E402
from sim.sweeps.sweep_charts import CITY, plt, save  # noqa: E402


def pareto_mask(cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """True where no other trial costs no more and reduces the gap no less (and is better in one)."""
    keep = np.ones(len(cost), dtype=bool)
    for i in range(len(cost)):
        better = (cost <= cost[i]) & (gain >= gain[i]) & ((cost < cost[i]) | (gain > gain[i]))
        keep[i] = not better.any()
    return keep


def baseline_run(record: dict):
    model = PreventionChainModel("baseline", params=ModelParams.model_validate(record["params"]), seed=record["seed"],
                                 scale=record["scale"], years=record["years"], burn_in_years=record["burn_in_years"])
    model.run()
    return model.indicators(), model.cost_table()


def gap_of(indicators: pd.DataFrame, indicator: str) -> float:
    row = indicators[(indicators["indicator"] == indicator) & (indicators["subgroup_type"] == "poverty")
                     & (indicators["subgroup"] == "gap")]
    return float(row["value"].iloc[0])


def analyse(sweep_dir: Path) -> Path:
    sweep_dir = Path(sweep_dir)
    collected = collect(sweep_dir, charts=False)
    runs = pd.read_csv(collected / "runs.csv")
    indicators = pd.read_parquet(collected / "runs.parquet")
    record = safe_load(next(sweep_dir.rglob("result/config.yaml")).read_text(encoding="utf-8"))
    indicator = record["objective"]["indicator"]
    current = sweep_dir / "sweep_config.yaml"  # written at the end of the sweep (sim.sweeps.sweep_hooks)
    settings = safe_load(current.read_text(encoding="utf-8")) if current.exists() else record
    budget = float((settings.get("budget") or {}).get("extra_eur_per_year", 0))
    base_ind, base_cost = baseline_run(record)
    base_gap = gap_of(base_ind, indicator)
    base_annual = float(base_cost.groupby("year")["cost_eur"].sum().mean())
    gaps = indicators[(indicators["indicator"] == indicator) & (indicators["subgroup_type"] == "poverty")
                      & (indicators["subgroup"] == "gap")].set_index("run")["value"]
    trials = runs.assign(gap_pp=100 * runs["run"].map(gaps),
                         extra_eur_per_year=runs["annual_cost_eur"] - base_annual)
    trials["gap_reduction_pp"] = 100 * base_gap - trials["gap_pp"]
    trials["pareto"] = pareto_mask(trials["extra_eur_per_year"].to_numpy(), trials["gap_reduction_pp"].to_numpy())
    within = trials[trials["extra_eur_per_year"] <= budget]
    best = within.sort_values(["gap_reduction_pp", "extra_eur_per_year"], ascending=[False, True]).head(1)
    out = sweep_dir / "budget"
    out.mkdir(parents=True, exist_ok=True)
    lever_cols = [c for c in trials.columns if c.startswith("levers.")]
    write_csv(trials, out / "trials.csv")
    write_csv(trials[trials["pareto"]].sort_values("extra_eur_per_year"), out / "pareto.csv")
    summary = {"indicator": indicator, "budget_extra_eur_per_year": budget, "baseline_gap_pp": round(100 * base_gap, 3),
               "baseline_annual_cost_eur": round(base_annual), "trials": len(trials)}
    if not best.empty:
        b = best.iloc[0]
        summary["best_within_budget"] = {"run": b["run"], "extra_eur_per_year": round(float(b["extra_eur_per_year"])),
                                         "gap_reduction_pp": round(float(b["gap_reduction_pp"]), 3),
                                         "levers": {c.removeprefix("levers."): str(b[c]) for c in lever_cols}}
    write_yaml(summary, out / "best_mix.yaml")
    write_provenance({**sweep_provenance(sweep_dir, out), "analysis": "experiments/budget_search.py"},
                     out / "provenance.yaml", fill_params=False)
    chart(trials, best, budget, indicator, record, out)
    print(yaml.safe_dump(summary, sort_keys=False, allow_unicode=True))
    print(f"Budgetsuche -> {out}")
    return out


def chart(trials: pd.DataFrame, best: pd.DataFrame, budget: float, indicator: str, record: dict, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 6.5))
    ax.scatter(trials["extra_eur_per_year"] / 1e6, trials["gap_reduction_pp"], color="#9db4d3", label="Versuch (Optuna)")
    front = trials[trials["pareto"]].sort_values("extra_eur_per_year")
    ax.plot(front["extra_eur_per_year"] / 1e6, front["gap_reduction_pp"], "o-", color="#1f5fa8", label="Pareto-Front")
    if budget:
        ax.axvline(budget / 1e6, color="#b03030", ls="--", label=f"Zusatzbudget {budget / 1e6:,.1f} Mio. EUR/Jahr")
    if not best.empty:
        ax.scatter(best["extra_eur_per_year"] / 1e6, best["gap_reduction_pp"], s=180, facecolors="none",
                   edgecolors="#b03030", linewidths=2, label="bester Mix im Budget")
    ax.scatter([0], [0], marker="s", color="black", label="Status quo")
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel("Mehrkosten gegenüber Status quo (Mio. EUR je Jahr, Stadt)")
    ax.set_ylabel("Verringerung des Abstands SGB II − nicht SGB II (Prozentpunkte)")
    ax.set_title(f"Budgetsuche: {INDICATOR_LABELS_DE.get(indicator, indicator)}\n{CITY}, Seed {record['seed']}, "
                 f"Skala {record['scale']}, {record['years']} Jahre, {len(trials)} Versuche", fontsize=11, loc="left")
    ax.legend(fontsize=9)
    fig.tight_layout()
    save(fig, out, "pareto_front")


if __name__ == "__main__":
    analyse(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "multirun" / "budget_search")
