"""The vectorised engine against the per-agent reference (tests/reference/): same rules, same distributions.

Both run the status quo on a small city over several seeds; they draw different random numbers,
so they agree in distribution, not bit for bit. For each key indicator (take-up and reach of every
service, Kita, school entry, poverty, deprivation, the chain's reach, and the counts of children)
a Welch t-test compares the values over seeds; a Bonferroni bound keeps the chance of a false
alarm over all of them below FAMILY_ALPHA. The same comparison runs a scenario that pulls every
lever (full_chain). The last two tests show the check has teeth: a reference
with one changed base rate fails it, and so does one that lets low-income families use BuT without
receiving Kinderzuschlag.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest
from scipy import stats

import reference.model
from reference import ReferenceModel
from reference.agents import LOW_INCOME, SGB2
from reference.providers import ServiceProvider
from sim.engine.model import PreventionChainModel
from sim.inputs.params import load_params
from sim.inputs.scenario import load_scenario

SETTINGS = {"scale": 0.02, "years": 2, "burn_in_years": 1}
ENGINE_SEEDS = range(8)
REFERENCE_SEEDS = range(100, 108)  # other seeds: the two samples are independent
FAMILY_ALPHA = 0.01

SERVICES = ("welcome_visit", "lotse", "family_midwife", "u_checkups", "familienzentrum", "u3_kita",
            "kindertagespflege", "ue3_kita", "pluskita", "sports_club", "kinderzuschlag", "but_social",
            "but_lunch", "but_tutoring", "ogs", "school_social_work", "youth_centre", "youth_job_centre")
FOR_ALL = (
    "child_sgb2_rate", "sgb2_4_years_or_more_at_6",
    "u3_care_coverage", "ue3_kita_attendance", "kita_entry_before_36_months", "u3_waiting_list_august",
    "ogs_participation", "ogs_waiting_list_august",
    "insufficient_german_at_school_entry", "motor_problems_at_school_entry", "obesity_at_school_entry",
    "sports_club_member_at_school_entry", "u_checkup_u9_participation", "gymnasium_transition", "neet_at_18",
    "welcome_visit_acceptance", "kinderzuschlag_takeup", "but_social_participation_takeup", "but_any_component_takeup",
    "multiple_deprivation", "wellbeing", "deprivation_material", "deprivation_social", "deprivation_health",
    "deprivation_cultural", "chain_reach_early_childhood", "chain_reach_kita", "chain_reach_primary",
    "chain_reach_secondary", "chain_reach_transition", "chain_reach_all", "service_reach_all",
) + tuple(f"reach_{s}" for s in SERVICES)
BY_POVERTY = ("insufficient_german_at_school_entry", "kita_entry_before_36_months", "u3_care_coverage",
              "ogs_participation", "chain_reach_all", "multiple_deprivation", "reach_family_midwife")
# Counts per run: children on 1 March, school starters, young people turning 18, first-borns, under-3s.
COUNTS = ("child_sgb2_rate", "insufficient_german_at_school_entry", "neet_at_18", "welcome_visit_acceptance",
          "u3_care_coverage")
# BuT is for SGB II households and for low-income households that receive Kinderzuschlag/Wohngeld
# (services.yaml: but_eligible). Per eligibility group: take-up among the eligible, and use among
# all children of the group (in the low-income group only those whose family receives Kinderzuschlag
# may use BuT; the take-up figures alone, whose denominators require that receipt, would not show it).
BY_BUT_ELIGIBILITY = ("but_social_participation_takeup", "but_any_component_takeup", "reach_but_social",
                      "reach_but_lunch")
BUT_ELIGIBILITY_GROUPS = ("sgb2", "low_income")


def key_figures(table: pd.DataFrame) -> pd.Series:
    """The compared figures of one run, from a table with indicator, subgroup, value, denominator."""
    table = table.set_index(["indicator", "subgroup"])
    figures = {("value", name, "all"): table.loc[(name, "all"), "value"] for name in FOR_ALL}
    for name in BY_POVERTY:
        for group in ("sgb2", "non_sgb2"):
            figures[("value", name, group)] = table.loc[(name, group), "value"]
    for name in COUNTS:
        figures[("count", name, "all")] = table.loc[(name, "all"), "denominator"]
    for name in BY_BUT_ELIGIBILITY:
        for group in BUT_ELIGIBILITY_GROUPS:
            figures[("value", name, group)] = table.loc[(name, group), "value"]
    return pd.Series(figures, dtype=float)


def run_engine(seed: int, params=None, scenario: str = "baseline") -> pd.Series:
    # The reference has no lever schedule: both run the scenario's settled state.
    table = PreventionChainModel(load_scenario(scenario).settled(), seed=seed, params=params, **SETTINGS).run().indicators()
    return key_figures(table[table["subgroup_type"].isin(["all", "poverty"])])


def run_reference(seed: int, params=None, scenario: str = "baseline") -> pd.Series:
    return key_figures(ReferenceModel(scenario, seed=seed, params=params, **SETTINGS).run().indicators())


class ProviderIgnoringKinderzuschlag(ServiceProvider):
    """A broken BuT rule: every low-income child may use BuT, whether its family receives
    Kinderzuschlag or not."""

    def eligible(self, child, t: int) -> bool:
        if self.svc.eligibility == "but_eligible":
            return child.household.status in (SGB2, LOW_INCOME)
        return super().eligible(child, t)


def run_reference_ignoring_kinderzuschlag(seed: int, params=None, scenario: str = "baseline") -> pd.Series:
    # Runs in a worker process of `runs`, so the broken rule stays in that process.
    reference.model.ServiceProvider = ProviderIgnoringKinderzuschlag
    return run_reference(seed, params, scenario)


def runs(function, seeds, params, scenario: str = "baseline") -> pd.DataFrame:
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        return pd.DataFrame(list(pool.map(function, seeds, [params] * len(seeds), [scenario] * len(seeds))))


def disagreements(engine: pd.DataFrame, reference: pd.DataFrame, family_alpha: float = FAMILY_ALPHA) -> pd.DataFrame:
    """The figures whose distributions over seeds differ (Welch t-test, Bonferroni over all figures)."""
    bound = family_alpha / engine.shape[1]
    rows = []
    for figure in engine.columns:
        a, b = engine[figure].dropna().to_numpy(), reference[figure].dropna().to_numpy()
        if a.std() == 0 and b.std() == 0:
            p = 1.0 if a.mean() == b.mean() else 0.0
        else:
            p = stats.ttest_ind(a, b, equal_var=False).pvalue
        rows.append((*figure, a.mean(), b.mean(), p))
    table = pd.DataFrame(rows, columns=["quantity", "indicator", "subgroup", "engine", "reference", "p"])
    return table[table["p"] < bound].sort_values("p")


@pytest.fixture(scope="module")
def fixed_params():
    return load_params()


@pytest.fixture(scope="module")
def engine_runs(fixed_params) -> pd.DataFrame:
    return runs(run_engine, list(ENGINE_SEEDS), fixed_params)


def test_engine_and_per_agent_reference_give_the_same_indicator_distributions(engine_runs, fixed_params):
    reference_runs = runs(run_reference, list(REFERENCE_SEEDS), fixed_params)
    assert engine_runs.shape == reference_runs.shape
    differing = disagreements(engine_runs, reference_runs)
    assert differing.empty, "engine and reference differ:\n" + differing.to_string()


def test_engine_and_reference_agree_on_a_scenario_that_pulls_every_lever(fixed_params):
    """The whole chain (Lotsen, outreach and multilingual information, BuT without application,
    warm handovers at every transition, need-based places, more U3 places in high-need quarters)
    through both implementations: the levers' rules agree, not only the status quo's."""
    engine_runs = runs(run_engine, list(ENGINE_SEEDS), fixed_params, "full_chain")
    reference_runs = runs(run_reference, list(REFERENCE_SEEDS), fixed_params, "full_chain")
    differing = disagreements(engine_runs, reference_runs)
    assert differing.empty, "engine and reference differ under full_chain:\n" + differing.to_string()


def test_the_comparison_notices_a_changed_rule(engine_runs, fixed_params):
    """A reference whose welcome visit has a base rate of 0.6 instead of the engine's rate fails."""
    broken = fixed_params.model_copy(update={"base_rate": {**fixed_params.base_rate, "welcome_visit": 0.6}})
    # All eight seeds: with four, Welch's test has about three degrees of freedom and even a gap of
    # 0.5 in acceptance stays above the Bonferroni bound.
    reference_runs = runs(run_reference, list(REFERENCE_SEEDS), broken)
    differing = disagreements(engine_runs, reference_runs)
    assert "welcome_visit_acceptance" in set(differing["indicator"])


def test_the_comparison_notices_but_without_kinderzuschlag(engine_runs, fixed_params):
    """A reference that lets low-income children use BuT without Kinderzuschlag fails on BuT use in
    the low-income group."""
    reference_runs = runs(run_reference_ignoring_kinderzuschlag, list(REFERENCE_SEEDS), fixed_params)
    differing = disagreements(engine_runs, reference_runs)
    flagged = set(zip(differing["indicator"], differing["subgroup"]))
    assert {("reach_but_social", "low_income"), ("reach_but_lunch", "low_income")} & flagged, differing.to_string()
