"""Paired scenario comparison with common random numbers.

Every scenario runs on the same seeds as the baseline. A seed fixes the population and every
random draw (draws are keyed by seed, purpose, month and person, see sim.engine.rng), so a scenario run
and the baseline run with the same seed differ only where a lever changes a decision. The
difference per seed is therefore the lever's effect; its mean over seeds gets a 95% t-interval.

`compare()` is the library entry point (the main job, the UI and the tests use it); on the command
line it runs through the report:

    python -m sim.report                      # the standard set, 5 seeds, full city
    python -m sim.report --scenarios baseline,lotsen --seeds 3 --scale 0.2
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.de_format import de, de_share
from sim.analysis.intervals import CONFIDENCE, t_half_width
from sim.engine.model import START_YEAR, PreventionChainModel
from sim.inputs.scenario import Scenario, load_scenario
from sim.inputs.services import PAYERS

BASELINE = "baseline"
STANDARD_SET = (
    "baseline", "u3_expansion_high_need", "lotsen", "but_automatic", "outreach_high_need", "warm_handover",
    "need_based_priority", "budget_neutral_shift", "full_chain",
)
# Subgroups compared (single Sozialräume stay in the per-run table: too small for stable differences).
COMPARED_SUBGROUPS = ("all", "poverty", "sozialraum_typ", "stadtbezirk", "language")
REACH = "service_reach_all"  # a child reached by any offer or benefit (not the U-checkups)
AVOIDED_CASE = "insufficient_german_at_school_entry"  # the case a budget meeting counts: assumption
# Outcomes a cost-effectiveness ratio is given for: the indicator, what one unit of effect is, and
# whether the effect is fewer cases (avoided) or more (gained). Counts per calendar year, city scale.
OUTCOMES = {
    AVOIDED_CASE: ("vermiedener Fall unzureichender Deutschkenntnisse bei der Schuleingangsuntersuchung", "avoided"),
    "multiple_deprivation": ("vermiedenes Kind-Jahr in multipler Deprivation (AWO-ISS, 6-17 Jahre)", "avoided"),
    "neet_at_18": ("vermiedener Fall NEET mit 18 (weder Schule, Ausbildung noch Arbeit)", "avoided"),
    "gymnasium_transition": ("zusätzlicher Übergang aufs Gymnasium", "gained"),
    REACH: ("zusätzlich erreichtes Kind (Kind-Jahr mit einem Angebot)", "gained"),
}
# Planning periods of the council (the national action plan's horizon 2030, and a long view) and
# the rate at which later euros and effects count less: 2 % a year, assumption (the BMF's
# calculation rate for economic appraisals was 0.9 % nominal in 2023).
PLANNING_PERIODS = ((2027, 2030), (2027, 2040))
DISCOUNT_RATE = 0.02
BOOTSTRAP_DRAWS = 4000
PERSPECTIVES = {"city": ("cost_eur", "Haushalt der Stadt"), "public": ("public_cost_eur", "alle öffentlichen Haushalte")}
# The column of costs() with each perspective's extra cost over the status quo.
EXTRA_OVER_BASELINE = {"city": "extra_over_baseline_eur", "public": "public_extra_over_baseline_eur"}


class Cancelled(Exception):
    """The caller asked the comparison to stop; nothing was written."""


@dataclass(frozen=True)
class RunSpec:
    scenario: Scenario
    seed: int
    scale: float
    years: int
    burn_in: int


def run_one(spec: RunSpec) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One scenario and seed: its pooled indicator table, its cost table, the outcomes year by year
    and what its capacity-limited services did (PreventionChainModel.capacity_table)."""
    model = PreventionChainModel(spec.scenario, seed=spec.seed, scale=spec.scale, years=spec.years,
                                 burn_in_years=spec.burn_in)
    model.run()
    indicators = model.indicators()
    # Counts per reported year at city scale (numerators are counted in the simulated sample).
    indicators["per_year_city"] = indicators["numerator"] / spec.scale / spec.years
    by_year = model.indicators(by_year=True)
    by_year = by_year[(by_year["subgroup_type"] == "all") & by_year["indicator"].isin(list(OUTCOMES))]
    by_year = by_year.assign(count_city=by_year["numerator"] / spec.scale)[
        ["scenario", "seed", "indicator", "year", "value", "count_city"]].reset_index(drop=True)
    return indicators, model.cost_table(), by_year, model.capacity_table()


def t_interval(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and the 95% t-interval over seeds (NaN interval for one seed)."""
    n = values.shape[axis]
    with warnings.catch_warnings():  # subgroups without children (NaN on every seed) stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=axis)
        sd = np.nanstd(values, axis=axis, ddof=1) if n > 1 else np.full_like(mean, np.nan, dtype=float)
    if n < 2:
        return mean, sd, sd, sd
    half = t_half_width(sd, n)
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
    run_years: pd.DataFrame = field(default_factory=pd.DataFrame)  # scenario, seed, indicator, year, value, count_city
    seconds: float = 0.0
    run_capacity: pd.DataFrame = field(default_factory=pd.DataFrame)  # scenario, seed, year, service, capacity, used, ...
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    @property
    def titles(self) -> dict[str, str]:
        return {s.name: s.title for s in self.scenarios}

    def label(self) -> str:
        """The line every chart and table carries."""
        return (f"synthetisches Düsseldorf · {len(self.seeds)} {'Seed' if len(self.seeds) == 1 else 'Seeds (gepaart)'} · "
                f"{de_share(self.scale)} der Stadt · {self.years} Jahre")

    def capacity_years(self, scenario: Scenario) -> tuple[int, int]:
        """The reported years a scenario's capacity figures average over: from the year its levers
        act in full (start and build-up), or from their latest start if the build-up outlasts the
        run, to the last year; every reported year for the status quo and levers from the start."""
        first, last = START_YEAR, START_YEAR + self.years - 1
        schedule = scenario.schedule()
        full, starts = schedule.full_from(), schedule.start_years()
        if full is not None and full <= last:
            return max(full, first), last
        if starts and max(starts) <= last:
            return max(max(starts), first), last
        return first, last

    def capacity_use(self) -> pd.DataFrame:
        """Per scenario and capacity-limited service, monthly averages over seeds and the years its
        levers act in full (capacity_years, in from_year and to_year) at city scale: capacity, used,
        asked and got nothing, in the age and group but did not ask; and the share of the capacity used."""
        if self.run_capacity.empty:
            return pd.DataFrame(columns=["scenario", "service", "service_label", "capacity_kind", "access", "capacity",
                                         "used", "unserved", "not_asking", "used_share", "from_year", "to_year"])
        numbers = ["capacity", "used", "unserved", "not_asking"]
        years = {s.name: self.capacity_years(s) for s in self.scenarios}
        frm = self.run_capacity["scenario"].map(lambda name: years[name][0])
        to = self.run_capacity["scenario"].map(lambda name: years[name][1])
        chosen = self.run_capacity[(self.run_capacity["year"] >= frm) & (self.run_capacity["year"] <= to)]
        out = chosen.groupby(["scenario", "service", "service_label", "capacity_kind", "access"], sort=False)[
            numbers].mean().reset_index()
        out["used_share"] = out["used"] / out["capacity"].where(out["capacity"] > 0)
        out["from_year"] = out["scenario"].map(lambda name: years[name][0])
        out["to_year"] = out["scenario"].map(lambda name: years[name][1])
        return out

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
        from sim.analysis.indicators import indicator_label, label_subgroup

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
        """costs.csv: annual cost per scenario, cost line and year (mean over seeds), each payer and
        both perspectives, with the extra over the baseline (city budget and all public budgets)."""
        money = ["cost_eur", "public_cost_eur", "total_cost_eur", *[f"{p}_eur" for p in PAYERS], "admin_overhead_eur"]
        per_seed = self.run_costs.groupby(["scenario", "seed", "year", "service", "service_label"], as_index=False)[money].sum()
        table = per_seed.groupby(["scenario", "year", "service", "service_label"], as_index=False)[money].mean()
        for perspective, (column, _) in PERSPECTIVES.items():
            extra = EXTRA_OVER_BASELINE[perspective]
            base = table[table["scenario"] == BASELINE].set_index(["year", "service"])[column]
            table[extra] = table[column].to_numpy() - base.reindex(pd.MultiIndex.from_frame(table[["year", "service"]])).to_numpy()
        table.insert(1, "scenario_title", table["scenario"].map(self.titles))
        order = {name: k for k, name in enumerate(self.names)}
        return table.sort_values(["scenario", "year", "service"], key=lambda c: c.map(order) if c.name == "scenario" else c,
                                 kind="stable").reset_index(drop=True)

    def yearly_cost_per_seed(self, column: str = "cost_eur") -> pd.DataFrame:
        """(scenario, seed) × year: total cost in EUR of one perspective."""
        total = self.run_costs.groupby(["scenario", "seed", "year"])[column].sum()
        return total.unstack("year")

    def annual_cost_per_seed(self) -> pd.DataFrame:
        """scenario × seed: mean annual total cost (EUR) over the reported years."""
        total = self.run_costs.groupby(["scenario", "seed", "year"])[["cost_eur", "admin_overhead_eur"]].sum()
        return total.groupby(["scenario", "seed"]).mean()

    def mean_extra_cost(self, perspective: str = "public") -> pd.Series:
        """Per scenario, the extra cost over the status quo a year for a perspective (EUR; mean of the
        reported years, of the seeds' mean)."""
        column = EXTRA_OVER_BASELINE[perspective]
        return self.costs().groupby(["scenario", "year"])[column].sum().groupby("scenario").mean()

    def cost_effectiveness(self) -> pd.DataFrame:
        """Per scenario, averaged over the reported years: annual cost, extra cost, admin overhead,
        extra children reached and cases avoided per year, and the cost per unit of effect where the
        effect is secured (its interval excludes zero) and the scenario costs more."""
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
            for effect, ratio, verdict_column in (
                    ("extra_children_reached_per_year", "cost_per_extra_child_reached_eur", "verdict_reached"),
                    ("avoided_cases_per_year", "cost_per_avoided_case_eur", "verdict_avoided_case")):
                verdict = _verdict(row["extra_cost_eur"], row[effect], row[f"{effect}_ci_low"], row[f"{effect}_ci_high"])
                row[ratio] = row["extra_cost_eur"] / row[effect] if verdict == VERDICT_RATIO else float("nan")
                row[verdict_column] = verdict
            rows.append(row)
        table = pd.DataFrame(rows)
        table["avoided_case"] = AVOIDED_CASE
        return table

    # ---- the path over the years ---------------------------------------------------------------
    def _effect_per_seed(self, indicator: str) -> pd.DataFrame:
        """(scenario, seed) × year: the effect against the baseline, in units of OUTCOMES (positive is good)."""
        sel = self.run_years[self.run_years["indicator"] == indicator]
        counts = sel.set_index(["scenario", "seed", "year"])["count_city"].unstack("year")
        base = counts.xs(BASELINE, level="scenario")
        diff = counts - base.reindex(counts.index, level="seed")
        return -diff if OUTCOMES[indicator][1] == "avoided" else diff

    def _extra_cost_per_seed(self, perspective: str) -> pd.DataFrame:
        cost = self.yearly_cost_per_seed(PERSPECTIVES[perspective][0])
        return cost - cost.xs(BASELINE, level="scenario").reindex(cost.index, level="seed")

    def paths(self) -> pd.DataFrame:
        """paths.csv: per scenario and calendar year, the extra cost (both perspectives) and the
        effect on each outcome, mean and 95% interval over the paired seeds, each also summed from
        the first planning year on, discounted. Computed once per comparison (the report, two
        charts and the Budget page read it)."""
        if "paths" not in self._cache:
            self._cache["paths"] = self._paths()
        return self._cache["paths"]

    def _paths(self) -> pd.DataFrame:
        first = PLANNING_PERIODS[0][0]
        parts = [("extra_cost_" + p, self._extra_cost_per_seed(p)) for p in PERSPECTIVES]
        parts += [("effect:" + o, self._effect_per_seed(o)) for o in OUTCOMES if not self.run_years.empty]
        rows = []
        for quantity, table in parts:
            years = np.array(table.columns)
            discount = np.where(years >= first, (1 + DISCOUNT_RATE) ** -(years - first).clip(0), 0.0)
            cumulative = (table * discount).cumsum(axis=1)
            for name in self.names:
                if name == BASELINE:
                    continue
                for kind, values in (("annual", table.loc[name]), ("cumulative_discounted", cumulative.loc[name])):
                    mean, _, lo, hi = t_interval(values.to_numpy(float), axis=0)
                    rows += [{"scenario": name, "scenario_title": self.titles[name], "year": int(y), "quantity": quantity,
                              "kind": kind, "mean": m, "ci_low": l, "ci_high": h}
                             for y, m, l, h in zip(years, mean, lo, hi)]
        return pd.DataFrame(rows)

    def periods(self) -> list[tuple[int, int]]:
        """The planning periods within the reported years; a period the run does not reach to its
        end is cut at the last reported year (and two periods cut alike are shown once)."""
        years = self.yearly_cost_per_seed().columns
        out = []
        for start, end in PLANNING_PERIODS:
            if years.min() <= start <= years.max() and (start, min(end, years.max())) not in out:
                out.append((start, min(end, int(years.max()))))
        return out

    def planning_periods(self) -> pd.DataFrame:
        """cost_effectiveness_periods.csv: per scenario, planning period, perspective and outcome,
        the discounted extra cost and effect summed over the period (mean, 95% t-interval over the
        paired seeds) and the cost per unit of effect with a 95% bootstrap interval over the seeds.
        Where the effect's interval includes zero there is no ratio ("keine gesicherte Wirkung");
        a scenario that saves money and works is marked so, not given a negative cost. The cost is
        the scenario's whole extra cost, each ratio charges all of it to one outcome. Computed once
        per comparison (its bootstraps are the slow part)."""
        if "periods" not in self._cache:
            self._cache["periods"] = self._planning_periods()
        return self._cache["periods"]

    def _planning_periods(self) -> pd.DataFrame:
        rows = []
        effects = {outcome: self._effect_per_seed(outcome) for outcome in OUTCOMES} if not self.run_years.empty else {}
        for start, end in self.periods():
            in_period = list(range(start, end + 1))
            weight = pd.Series([(1 + DISCOUNT_RATE) ** -(y - start) for y in in_period], index=in_period)
            for perspective, (_, label) in PERSPECTIVES.items():
                cost = (self._extra_cost_per_seed(perspective)[in_period] * weight).sum(axis=1)
                for outcome, per_seed in effects.items():
                    unit = OUTCOMES[outcome][0]
                    effect = (per_seed[in_period] * weight).sum(axis=1)
                    for name in self.names[1:]:
                        c, e = cost.loc[name].to_numpy(float), effect.loc[name].reindex(cost.loc[name].index).to_numpy(float)
                        c_mean, _, c_lo, c_hi = t_interval(c, axis=0)
                        e_mean, _, e_lo, e_hi = t_interval(e, axis=0)
                        verdict = _verdict(float(c_mean), float(e_mean), float(e_lo), float(e_hi))
                        ratio, r_lo, r_hi = (ratio_interval(c, e) if verdict == VERDICT_RATIO else (np.nan, np.nan, np.nan))
                        rows.append({"scenario": name, "scenario_title": self.titles[name], "period": f"{start}-{end}",
                                     "perspective": perspective, "perspective_label": label, "outcome": outcome,
                                     "effect_unit": unit, "discount_rate": DISCOUNT_RATE,
                                     "extra_cost_eur": float(c_mean), "extra_cost_eur_ci_low": float(c_lo),
                                     "extra_cost_eur_ci_high": float(c_hi), "effect": float(e_mean),
                                     "effect_ci_low": float(e_lo), "effect_ci_high": float(e_hi),
                                     "cost_per_effect_eur": ratio, "cost_per_effect_eur_ci_low": r_lo,
                                     "cost_per_effect_eur_ci_high": r_hi, "verdict": verdict, "n_seeds": len(c)})
        return pd.DataFrame(rows, columns=PERIOD_COLUMNS)


PERIOD_COLUMNS = ["scenario", "scenario_title", "period", "perspective", "perspective_label", "outcome", "effect_unit",
                  "discount_rate", "extra_cost_eur", "extra_cost_eur_ci_low", "extra_cost_eur_ci_high", "effect",
                  "effect_ci_low", "effect_ci_high", "cost_per_effect_eur", "cost_per_effect_eur_ci_low",
                  "cost_per_effect_eur_ci_high", "verdict", "n_seeds"]
CERTAINTY = ("sicher besser", "unklar", "sicher schlechter", "keine Änderung gemessen", "erst ab 2 Seeds")


def certainty(mean: float, low: float, high: float, lower_is_better: bool) -> str:
    """A plain word for a paired difference: better or worse where its 95 % interval excludes
    zero on that side, unclear where it includes zero (CERTAINTY)."""
    if mean == 0 and low == 0 and high == 0:
        return CERTAINTY[3]
    if not (np.isfinite(low) and np.isfinite(high)):
        return CERTAINTY[4] if mean != 0 else CERTAINTY[3]
    if low <= 0 <= high:
        return CERTAINTY[1]
    improved = (high < 0) if lower_is_better else (low > 0)
    return CERTAINTY[0] if improved else CERTAINTY[2]


VERDICT_RATIO = "wirkt"
VERDICTS = (VERDICT_RATIO, "spart Geld und wirkt", "keine gesicherte Wirkung", "verschlechtert", "nur ein Seed: Sicherheit unbekannt")


def _verdict(cost: float, effect: float, effect_low: float, effect_high: float) -> str:
    """What can be said of a scenario's cost per unit of effect (VERDICTS)."""
    if not np.isfinite(effect_low) or not np.isfinite(effect_high):
        return VERDICTS[4]
    if effect_low <= 0 <= effect_high:
        return VERDICTS[2]
    if effect_high < 0:
        return VERDICTS[3]
    return VERDICTS[1] if cost <= 0 else VERDICT_RATIO


def ratio_interval(cost: np.ndarray, effect: np.ndarray, draws: int = BOOTSTRAP_DRAWS,
                   seed: int = 0) -> tuple[float, float, float]:
    """Cost per unit of effect (ratio of the means over paired seeds) and its 95% percentile
    bootstrap interval: seeds are drawn with replacement, cost and effect of a seed together.
    A draw whose mean effect is not positive has no finite ratio and counts as infinitely costly."""
    cost, effect = np.asarray(cost, float), np.asarray(effect, float)
    n = cost.size
    ratio = cost.mean() / effect.mean()
    if n < 2:
        return ratio, np.nan, np.nan
    pick = np.random.default_rng(seed).integers(0, n, size=(draws, n))
    c, e = cost[pick].mean(axis=1), effect[pick].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(e > 0, c / e, np.inf)
    lo, hi = np.quantile(r, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return float(ratio), float(lo), float(hi)


def _catalogue():
    from sim.inputs.services import load_catalogue

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
    first, last = START_YEAR - burn_in, START_YEAR + years - 1
    for scenario in loaded:  # a start year outside the simulated years is refused before anything runs
        scenario.schedule().check(first, last, scenario.source or scenario.name)
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
    run_years = pd.concat([results[k][2] for k in range(len(specs))], ignore_index=True)
    run_capacity = pd.concat([results[k][3] for k in range(len(specs))], ignore_index=True)
    return Comparison(loaded, seeds, scale, years, burn_in, runs, run_costs, run_years, time.perf_counter() - started,
                      run_capacity=run_capacity)
