"""Paired scenario comparison with common random numbers.

Every scenario runs on the same seeds as the baseline. A seed fixes the population and every
random draw (draws are keyed by seed, purpose, month and person, see sim.rng), so a scenario run
and the baseline run with the same seed differ only where a lever changes a decision. The
difference per seed is therefore the lever's effect; its mean over seeds gets a 95% t-interval.

    python -m sim.compare                      # the standard set, 5 seeds, full city
    python -m sim.compare --scenarios baseline,lotsen --seeds 3 --scale 0.2

`compare()` is the library entry point (the main job, the UI and the tests use it).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from sim.model import PreventionChainModel
from sim.scenario import Scenario, load_scenario

BASELINE = "baseline"
STANDARD_SET = (
    "baseline", "u3_expansion_high_need", "lotsen", "but_automatic", "outreach_high_need", "warm_handover",
    "need_based_priority", "budget_neutral_shift", "full_chain",
)
# Subgroups compared (single Sozialräume stay in the per-run table: too small for stable differences).
COMPARED_SUBGROUPS = ("all", "poverty", "sozialraum_typ", "stadtbezirk", "language")
REACH = "service_reach_all"  # a child reached by any offer or benefit (not the U-checkups)
AVOIDED_CASE = "insufficient_german_at_school_entry"  # the case a budget meeting counts: assumption
CONFIDENCE = 0.95


class Cancelled(Exception):
    """The caller asked the comparison to stop; nothing was written."""


@dataclass(frozen=True)
class RunSpec:
    scenario: Scenario
    seed: int
    scale: float
    years: int
    burn_in: int


def run_one(spec: RunSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One scenario and seed: its pooled indicator table and its cost table."""
    model = PreventionChainModel(spec.scenario, seed=spec.seed, scale=spec.scale, years=spec.years,
                                 burn_in_years=spec.burn_in)
    model.run()
    indicators = model.indicators()
    # Counts per reported year at city scale (numerators are counted in the simulated sample).
    indicators["per_year_city"] = indicators["numerator"] / spec.scale / spec.years
    return indicators, model.cost_table()


def t_interval(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and the 95% t-interval over seeds (NaN interval for one seed)."""
    n = values.shape[axis]
    with warnings.catch_warnings():  # subgroups without children (NaN on every seed) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=axis)
        sd = np.nanstd(values, axis=axis, ddof=1) if n > 1 else np.full_like(mean, np.nan, dtype=float)
    if n < 2:
        return mean, sd, sd, sd
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * sd / np.sqrt(n)
    return mean, sd, mean - half, mean + half


@dataclass
class Comparison:
    """All runs of a comparison, and the statistics planners read off them."""

    scenarios: list[Scenario]
    seeds: list[int]
    scale: float
    years: int
    burn_in: int
    runs: pd.DataFrame  # tidy: scenario, seed, indicator, subgroup_type, subgroup, value, numerator, ...
    run_costs: pd.DataFrame  # scenario, seed, year, service, service_label, sozialraum_typ, cost_eur, ...
    seconds: float = 0.0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    @property
    def titles(self) -> dict[str, str]:
        return {s.name: s.title for s in self.scenarios}

    def label(self) -> str:
        """The line every chart and table carries."""
        return (f"synthetisches Düsseldorf · {len(self.seeds)} Seeds (gepaart) · Skala {self.scale:g} · "
                f"{self.years} Jahre")

    # ---- indicators ----------------------------------------------------------------------------
    def _wide(self, column: str = "value") -> pd.DataFrame:
        """(scenario, indicator, subgroup_type, subgroup) × seed."""
        key = ("wide", column)
        if key not in self._cache:
            sel = self.runs[self.runs["subgroup_type"].isin(COMPARED_SUBGROUPS)]
            self._cache[key] = sel.set_index(["scenario", "indicator", "subgroup_type", "subgroup", "seed"])[
                column].unstack("seed")
        return self._cache[key]

    def _stats(self, table: pd.DataFrame, quantity: str) -> pd.DataFrame:
        mean, sd, lo, hi = t_interval(table.to_numpy(float), axis=1)
        out = table.index.to_frame(index=False)
        out["quantity"] = quantity
        out["mean"], out["sd"], out["ci_low"], out["ci_high"] = mean, sd, lo, hi
        out["n_seeds"] = table.notna().sum(axis=1).to_numpy()
        return out

    def levels(self, column: str = "value") -> pd.DataFrame:
        return self._stats(self._wide(column), "level")

    def differences(self, column: str = "value") -> pd.DataFrame:
        """Paired difference scenario − baseline per seed, then mean and 95% interval over seeds."""
        wide = self._wide(column)
        base = wide.xs(BASELINE, level="scenario")
        parts = []
        for name in self.names:
            scen = wide.xs(name, level="scenario")
            diff = scen - base.reindex(scen.index)
            diff.index = pd.MultiIndex.from_frame(diff.index.to_frame(index=False).assign(scenario=name)[
                ["scenario", "indicator", "subgroup_type", "subgroup"]])
            parts.append(diff)
        return self._stats(pd.concat(parts), "difference")

    def tidy(self) -> pd.DataFrame:
        """comparison.csv: one row per scenario, indicator, subgroup, quantity and seed statistic."""
        from sim.indicators import indicator_label, label_subgroup

        both = pd.concat([self.levels(), self.differences()], ignore_index=True)
        long = both.melt(id_vars=["scenario", "indicator", "subgroup_type", "subgroup", "quantity"],
                         value_vars=["mean", "sd", "ci_low", "ci_high", "n_seeds"], var_name="statistic")
        service_names = {s: svc.name for s, svc in _catalogue().services.items()}
        long.insert(1, "scenario_title", long["scenario"].map(self.titles))
        long.insert(3, "indicator_label", long["indicator"].map(lambda i: indicator_label(i, service_names)))
        long["subgroup_label"] = [label_subgroup(t, g) for t, g in zip(long["subgroup_type"], long["subgroup"])]
        order = ["scenario", "scenario_title", "indicator", "indicator_label", "subgroup_type", "subgroup",
                 "subgroup_label", "quantity", "statistic", "value"]
        return long[order].sort_values(["scenario", "indicator", "subgroup_type", "subgroup", "quantity"],
                                       kind="stable").reset_index(drop=True)

    def value(self, indicator: str, subgroup_type: str = "all", subgroup: str = "all",
              quantity: str = "difference") -> pd.DataFrame:
        """One indicator and subgroup, one row per scenario with mean and interval."""
        table = self.differences() if quantity == "difference" else self.levels()
        sel = table[(table["indicator"] == indicator) & (table["subgroup_type"] == subgroup_type)
                    & (table["subgroup"] == subgroup)]
        return sel.set_index("scenario").reindex(self.names)

    # ---- costs ---------------------------------------------------------------------------------
    def costs(self) -> pd.DataFrame:
        """costs.csv: annual cost per scenario, service and year (mean over seeds), with the extra over the baseline."""
        per_seed = self.run_costs.groupby(["scenario", "seed", "year", "service", "service_label"], as_index=False)[
            ["cost_eur", "admin_overhead_eur"]].sum()
        table = per_seed.groupby(["scenario", "year", "service", "service_label"], as_index=False)[
            ["cost_eur", "admin_overhead_eur"]].mean()
        base = table[table["scenario"] == BASELINE].set_index(["year", "service"])["cost_eur"]
        table["extra_over_baseline_eur"] = table["cost_eur"].to_numpy() - base.reindex(
            pd.MultiIndex.from_frame(table[["year", "service"]])).to_numpy()
        table.insert(1, "scenario_title", table["scenario"].map(self.titles))
        order = {name: k for k, name in enumerate(self.names)}
        return table.sort_values(["scenario", "year", "service"], key=lambda c: c.map(order) if c.name == "scenario" else c,
                                 kind="stable").reset_index(drop=True)

    def annual_cost_per_seed(self) -> pd.DataFrame:
        """scenario × seed: mean annual total cost (EUR) over the reported years."""
        total = self.run_costs.groupby(["scenario", "seed", "year"])[["cost_eur", "admin_overhead_eur"]].sum()
        return total.groupby(["scenario", "seed"]).mean()

    def cost_effectiveness(self) -> pd.DataFrame:
        """Per scenario: annual cost, extra cost, admin overhead, extra children reached and cases avoided per year."""
        annual = self.annual_cost_per_seed()
        cost = annual["cost_eur"].unstack("seed").reindex(self.names)
        admin = annual["admin_overhead_eur"].unstack("seed").reindex(self.names)
        extra = cost - cost.loc[BASELINE]
        counts = self._wide("per_year_city")
        reached = counts.xs((REACH, "all", "all"), level=("indicator", "subgroup_type", "subgroup")).reindex(self.names)
        cases = counts.xs((AVOIDED_CASE, "all", "all"), level=("indicator", "subgroup_type", "subgroup")).reindex(self.names)
        extra_reached = reached - reached.loc[BASELINE]
        avoided = -(cases - cases.loc[BASELINE])
        rows = []
        for name in self.names:
            row = {"scenario": name, "scenario_title": self.titles[name]}
            for label, table in (("annual_cost_eur", cost), ("admin_overhead_eur", admin), ("extra_cost_eur", extra),
                                 ("extra_children_reached_per_year", extra_reached),
                                 ("avoided_cases_per_year", avoided)):
                mean, _, lo, hi = t_interval(table.loc[[name]].to_numpy(float), axis=1)
                row[label], row[f"{label}_ci_low"], row[f"{label}_ci_high"] = mean[0], lo[0], hi[0]
            row["cost_per_extra_child_reached_eur"] = _ratio(row["extra_cost_eur"], row["extra_children_reached_per_year"])
            row["cost_per_avoided_case_eur"] = _ratio(row["extra_cost_eur"], row["avoided_cases_per_year"])
            rows.append(row)
        table = pd.DataFrame(rows)
        table["avoided_case"] = AVOIDED_CASE
        return table


def _ratio(cost: float, effect: float) -> float:
    """Cost per unit of effect; undefined (NaN) when the lever has no positive effect."""
    return cost / effect if effect > 0 else float("nan")


def _catalogue():
    from sim.services import load_catalogue

    return load_catalogue()


def resolve(scenarios: Sequence[str | Scenario]) -> list[Scenario]:
    """Scenario names or objects, validated before anything runs; the baseline always comes first."""
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    if BASELINE not in [s.name for s in loaded]:
        loaded.insert(0, load_scenario(BASELINE))
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must be unique, got {names}")
    loaded.sort(key=lambda s: s.name != BASELINE)
    return loaded


def compare(
    scenarios: Sequence[str | Scenario] = STANDARD_SET,
    seeds: Sequence[int] = range(5),
    *,
    scale: float = 1.0,
    years: int = 18,
    burn_in: int = 6,
    workers: int = 2,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Comparison:
    """Run every scenario on every seed (common random numbers) and collect the tables."""
    loaded = resolve(scenarios)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("at least one seed is needed")
    specs = [RunSpec(s, seed, scale, years, burn_in) for seed in seeds for s in loaded]
    started = time.perf_counter()
    results: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}
    bar = tqdm(total=len(specs), desc="Läufe (Szenario × Seed)", unit="Lauf", disable=not progress)

    def done(k: int, result) -> None:
        results[k] = result
        bar.update()
        if on_progress:
            on_progress(len(results), len(specs))

    try:
        if workers <= 1:
            for k, spec in enumerate(specs):
                if cancelled and cancelled():
                    raise Cancelled()
                done(k, run_one(spec))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending = {pool.submit(run_one, spec): k for k, spec in enumerate(specs)}
                while pending:
                    finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if cancelled and cancelled():
                        for future in pending:
                            future.cancel()
                        raise Cancelled()
                    for future in finished:
                        done(pending.pop(future), future.result())
    finally:
        bar.close()
    runs = pd.concat([results[k][0] for k in range(len(specs))], ignore_index=True)
    run_costs = pd.concat([results[k][1] for k in range(len(specs))], ignore_index=True)
    return Comparison(loaded, seeds, scale, years, burn_in, runs, run_costs, time.perf_counter() - started)
