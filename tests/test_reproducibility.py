"""Same seed, same city: a run can be repeated exactly, and a lever changes only what it touches."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine import rng
from sim.engine.model import PreventionChainModel
from sim.inputs.levers import Levers

# Series of the DataCollector that no lever may change: the families, births and moves.
DEMOGRAPHY = ["Kinder", "Geburten", "Zuzüge (Kinder)", "Fortzüge (Kinder)", "18 geworden", "SGB-II-Quote"]


def settings_of(model: PreventionChainModel) -> dict:
    return {"seed": model.seed, "scale": model.scale, "years": model.years, "burn_in_years": model.burn_in_years,
            "params": model.params}


@pytest.fixture(scope="module")
def repeat(baseline) -> PreventionChainModel:
    """The baseline again, built and run from scratch after other runs in the same process."""
    return PreventionChainModel("baseline", **settings_of(baseline)).run()


def test_same_seed_gives_identical_indicators(baseline, repeat):
    pd.testing.assert_frame_equal(baseline.indicators(), repeat.indicators())
    pd.testing.assert_frame_equal(baseline.indicators(by_year=True), repeat.indicators(by_year=True))


def test_same_seed_gives_identical_costs(baseline, repeat):
    costs = baseline.cost_table()
    assert costs["cost_eur"].sum() > 0
    pd.testing.assert_frame_equal(costs, repeat.cost_table())


def test_same_seed_gives_identical_school_entry_records(baseline, repeat):
    records = baseline.school_entry_records()
    assert len(records) > 0
    pd.testing.assert_frame_equal(records, repeat.school_entry_records())


def test_same_seed_gives_identical_monthly_series_and_population(baseline, repeat):
    pd.testing.assert_frame_equal(
        baseline.datacollector.get_model_vars_dataframe(), repeat.datacollector.get_model_vars_dataframe())
    a, b = baseline.pop.children, repeat.pop.children
    assert a.n == b.n
    for column in ("cid", "alive", "birth", "hh", "use", "ever", "place", "dev"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column), err_msg=column)


def test_another_seed_gives_another_city(baseline, runs):
    other = runs(seed=1)
    a = baseline.indicators().set_index(["indicator", "subgroup_type", "subgroup"])["value"]
    b = other.indicators().set_index(["indicator", "subgroup_type", "subgroup"])["value"]
    a, b = a.align(b)
    differs = ~np.isclose(a, b, equal_nan=True)
    assert differs.mean() > 0.5, "most indicators should change with the seed"
    assert not baseline.school_entry_records().equals(other.school_entry_records())
    assert not baseline.cost_table().equals(other.cost_table())


def test_a_scenario_identical_to_baseline_gives_zero_difference(baseline):
    same = PreventionChainModel(None, levers=Levers(), **settings_of(baseline)).run()
    a = baseline.indicators()
    b = same.indicators()
    assert (b["scenario"] == "custom").all()
    columns = ["indicator", "subgroup_type", "subgroup", "numerator", "denominator", "value"]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    pd.testing.assert_frame_equal(baseline.cost_table().drop(columns="scenario"), same.cost_table().drop(columns="scenario"))


@pytest.mark.parametrize(
    "run_name", ["but_automatic", "more_u3_places", "full_coordination", "need_based", "outreach_in_high_need",
                 "half_the_kita_places"])
def test_levers_leave_the_families_births_and_moves_unchanged(baseline, run_name, request):
    """Common random numbers: only the decisions a lever touches may differ between two runs."""
    other = request.getfixturevalue(run_name)
    pd.testing.assert_frame_equal(
        baseline.datacollector.get_model_vars_dataframe()[DEMOGRAPHY],
        other.datacollector.get_model_vars_dataframe()[DEMOGRAPHY],
    )
    np.testing.assert_array_equal(baseline.pop.children.cid, other.pop.children.cid)
    np.testing.assert_array_equal(baseline.pop.households.status, other.pop.households.status)


def test_a_lever_on_one_benefit_leaves_unrelated_services_unchanged(baseline, but_automatic):
    """Making BuT automatic cannot change who gets a U3 place or a welcome visit."""
    a = baseline.indicators().set_index(["indicator", "subgroup_type", "subgroup"])["value"]
    b = but_automatic.indicators().set_index(["indicator", "subgroup_type", "subgroup"])["value"]
    for name in ("reach_u3_kita", "reach_welcome_visit", "reach_familienzentrum", "child_sgb2_rate", "reach_ogs"):
        np.testing.assert_array_equal(a.loc[name].to_numpy(), b.loc[name].to_numpy(), err_msg=name)


def test_a_run_in_another_process_gives_the_same_results(tmp_path, params):
    """Seeds must not depend on the interpreter (string hashing, object ids): parallel sweeps run
    each scenario in its own process and compare the results side by side."""
    settings = {"seed": 7, "scale": 0.05, "years": 1, "burn_in_years": 1}
    params_file = tmp_path / "params.json"
    params_file.write_text(params.model_dump_json(), encoding="utf-8")
    out = tmp_path / "indicators.csv"
    code = (
        "import sys; from pathlib import Path; from sim.engine.model import PreventionChainModel; "
        "from sim.inputs.params import ModelParams; "
        "params = ModelParams.model_validate_json(Path(sys.argv[1]).read_text(encoding='utf-8')); "
        f"PreventionChainModel('baseline', params=params, **{settings!r}).run().indicators().to_csv(sys.argv[2], index=False)"
    )
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(repo)}
    subprocess.run([sys.executable, "-c", code, str(params_file), str(out)], cwd=repo, env=env, check=True, timeout=120)
    here = PreventionChainModel("baseline", params=params, **settings).run().indicators()
    there = pd.read_csv(out, dtype={"subgroup": str})
    pd.testing.assert_frame_equal(here.reset_index(drop=True), there, check_dtype=False)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**31), st.integers(0, 500), st.sampled_from(["handover:3:4", "x"]))
def test_the_compiled_draw_is_the_numpy_draw_to_the_last_bit(person_id, seed, t, stream):
    """Compiled kernels draw with rng.unit_of; it must give exactly rng.uniforms' number, or a
    kernel would break common random numbers between the engine's parts."""
    expected = rng.uniforms(seed, stream, np.array([person_id], dtype=np.uint64), t)[0]
    assert rng.unit_of(np.uint64(person_id), rng._key(seed, stream, t)) == expected


@given(st.integers(0, 2**31), st.integers(0, 5000), st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_keys_made_for_many_streams_at_once_are_the_single_keys(seed, t, streams):
    assert rng.month_keys(rng.stream_keys(seed, streams), t).tolist() == [int(rng._key(seed, s, t)) for s in streams]
