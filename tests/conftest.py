"""Shared model runs for the tests: small cities, short runs, common random numbers.

Every paired comparison uses the same seed, scale, length and parameters, so two runs differ
only where a lever differs. The parameters (defaults plus conf/params/fitted.yaml) are read once
per session, so a refit that rewrites fitted.yaml while the tests run cannot split a pair. Runs are
cached for the whole session: a test that asks for the baseline gets the same finished model as
every other test that asks for it.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest
from hypothesis import settings

from sim.engine.model import PreventionChainModel
from sim.inputs.levers import TRANSITIONS, Levers
from sim.inputs.params import ModelParams, load_params

# Property tests draw new examples on every local run; CI (.ci/run) draws the same ones each
# time, so that a red CI run names a failure anyone can repeat.
settings.register_profile("ci", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# One small city for all paired runs: 10% of Düsseldorf, one burn-in year, three reported years.
SMALL = {"seed": 0, "scale": 0.1, "years": 3, "burn_in_years": 1}


class Runs:
    """Finished model runs, keyed by their levers and settings."""

    def __init__(self, params: ModelParams):
        self.params = params
        self._done: dict[str, PreventionChainModel] = {}

    def __call__(self, levers: Levers | None = None, scenario="baseline", **settings) -> PreventionChainModel:
        settings = {**SMALL, **settings}
        key = json.dumps(
            {"levers": None if levers is None else levers.model_dump(mode="json"), "scenario": str(scenario), **settings},
            sort_keys=True,
        )
        if key not in self._done:
            self._done[key] = PreventionChainModel(scenario, levers=levers, params=self.params, **settings).run()
        return self._done[key]


@pytest.fixture(scope="session")
def params() -> ModelParams:
    return load_params()


@pytest.fixture(scope="session")
def runs(params) -> Runs:
    return Runs(params)


@pytest.fixture(scope="session")
def baseline(runs) -> PreventionChainModel:
    return runs()


@pytest.fixture(scope="session")
def but_automatic(runs) -> PreventionChainModel:
    return runs(Levers(access={"but_social": "automatic"}))


@pytest.fixture(scope="session")
def more_u3_places(runs) -> PreventionChainModel:
    return runs(Levers(places_factor={"u3_kita": {"all": 1.5}}))


@pytest.fixture(scope="session")
def no_coordination(runs) -> PreventionChainModel:
    return runs(Levers(coordination={phase: 0.0 for phase in TRANSITIONS}))


@pytest.fixture(scope="session")
def full_coordination(runs) -> PreventionChainModel:
    return runs(Levers(coordination={phase: 1.0 for phase in TRANSITIONS}))


@pytest.fixture(scope="session")
def need_based(runs) -> PreventionChainModel:
    return runs(Levers(priority_rule="need_based"))


@pytest.fixture(scope="session")
def outreach_in_high_need(runs) -> PreventionChainModel:
    return runs(Levers(outreach_by_type={1: 0.0, 2: 0.0, 3: 0.0, 4: 1.0, 5: 1.0}))


@pytest.fixture(scope="session")
def half_the_kita_places(runs) -> PreventionChainModel:
    return runs(Levers(places_factor={"u3_kita": {"all": 0.5}, "ue3_kita": {"all": 0.5}}))


def indicator(model: PreventionChainModel, name: str, subgroup_type: str = "all", subgroup: str = "all") -> float:
    """One value of the indicator table over the reported years."""
    table = model.indicators()
    row = table[(table["indicator"] == name) & (table["subgroup_type"] == subgroup_type) & (table["subgroup"] == subgroup)]
    assert len(row) == 1, f"expected one row for {name} / {subgroup_type} / {subgroup}, got {len(row)}"
    return float(row["value"].iloc[0])


def reported_months(model: PreventionChainModel) -> pd.DataFrame:
    """The monthly DataCollector series, reported years only."""
    series = model.datacollector.get_model_vars_dataframe()
    return series.iloc[12 * model.burn_in_years:]


@pytest.fixture(scope="session")
def value():
    return indicator


@pytest.fixture(scope="session")
def monthly():
    return reported_months
