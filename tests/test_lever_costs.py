"""The budget: every lever has a price that rises with its level, a place shift costs nothing,
a lever that has not started yet changes nothing, and a cost per effect comes with its interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis.compare import _verdict, compare, ratio_interval
from sim.engine.mechanisms.costs import LEVER_LINES
from sim.engine.model import PreventionChainModel
from sim.inputs.errors import InputError
from sim.inputs.levers import TRANSITIONS, Levers, lever_cost_lines
from sim.inputs.scenario import load_scenario
from sim.inputs.services import UNIT_COSTS, load_catalogue, load_unit_costs

# Each lever raised (or switched) above its status quo, and the cost line that must rise with it.
RAISED = {
    "priority_rule": (Levers(priority_rule="need_based"), "need_assessment"),
    "places_factor": (Levers(places_factor={"u3_kita": {"4": 1.3, "5": 1.4}}), "new_places"),
    "lotse_fte": (Levers(lotse_fte=20.0), "lotse"),
    "school_social_work_fte": (Levers(school_social_work_fte=300.0), "school_social_work"),
    "youth_job_centre_fte": (Levers(youth_job_centre_fte=50.0), "youth_job_centre"),
    "outreach_by_type": (Levers(outreach_by_type={1: 0.0, 2: 0.0, 3: 0.5, 4: 0.6, 5: 1.0}), "outreach"),
    "outreach_fte_per_sozialraum": (Levers(outreach_fte_per_sozialraum=2.0), "outreach"),
    "multilingual_information": (Levers(multilingual_information=0.8), "multilingual"),
    "fee_waiver": (Levers(fee_waiver={"u3_kita": ["not_poor"]}), "fee_waiver"),
    "coordination": (Levers(coordination={phase: 0.8 for phase in TRANSITIONS}), "coordination"),
}


def line_cost(model: PreventionChainModel, line: str, column: str = "cost_eur") -> float:
    table = model.cost_table()
    return float(table.loc[table["service"] == line, column].sum())


def test_every_lever_has_a_price_on_cost_lines_the_engine_computes():
    known = set(load_catalogue().ids) | set(LEVER_LINES)
    for lever in Levers.model_fields:
        lines = lever_cost_lines(lever)
        assert lines, f"lever {lever} has no price"
        assert set(lines) <= known, f"{lever}: unknown cost lines {set(lines) - known}"


@pytest.mark.parametrize("lever", sorted(RAISED))
def test_a_levers_cost_rises_with_its_level(baseline, runs, lever):
    raised, line = RAISED[lever]
    assert line in lever_cost_lines(lever)
    before, after = line_cost(baseline, line, "total_cost_eur"), line_cost(runs(raised), line, "total_cost_eur")
    assert after > before * 1.2 + 1000, (lever, before, after)


@pytest.mark.parametrize("lever", ["lotse_fte", "coordination", "multilingual_information", "outreach_by_type"])
def test_a_lever_set_to_its_status_quo_costs_what_the_status_quo_costs(baseline, runs, lever):
    explicit = Levers(**{lever: getattr(Levers(), lever)})
    pd.testing.assert_frame_equal(runs(explicit).cost_table(), baseline.cost_table())


def test_places_are_costed_per_place_provided_filled_or_not(baseline, half_the_kita_places):
    """A Kita place costs its unit cost for every place provided, whoever uses it; half the places
    cost half (negative control: a per-user benefit does not follow the places)."""
    def cost(model, line):
        return model.cost_table().query("service == @line").groupby("year")["total_cost_eur"].sum().to_numpy()

    places = baseline.services.places[baseline.catalogue.index("u3_kita")].sum()
    assert cost(baseline, "u3_kita") == pytest.approx(places * 18600, rel=1e-9)
    assert cost(half_the_kita_places, "u3_kita") == pytest.approx(cost(baseline, "u3_kita") / 2, rel=1e-9)
    assert cost(half_the_kita_places, "kinderzuschlag") == pytest.approx(cost(baseline, "kinderzuschlag"), rel=0.05)


def test_an_automatic_procedure_saves_administration_per_euro_and_pays_more_benefits(baseline, but_automatic):
    """The city administers less per euro paid out; the Bund pays the benefits of the children
    who now take it up (so the city's administration in total may still grow)."""
    def admin_per_benefit(model):
        return line_cost(model, "but_social", "admin_overhead_eur") / line_cost(model, "but_social", "bund_eur")

    assert admin_per_benefit(but_automatic) == pytest.approx(0.2 * admin_per_benefit(baseline), rel=1e-6)
    assert line_cost(but_automatic, "but_social", "bund_eur") > 2 * line_cost(baseline, "but_social", "bund_eur")


def test_the_place_shift_is_budget_neutral_to_a_tenth_of_a_percent(baseline, runs):
    shift = runs(scenario="budget_neutral_shift")
    for column in ("cost_eur", "public_cost_eur"):
        base = baseline.cost_table().groupby("year")[column].sum()
        moved = shift.cost_table().groupby("year")[column].sum()
        assert (abs(moved - base) <= 0.001 * base).all(), (column, (moved - base).tolist())
    # Negative control: adding places (not moving them) is not neutral.
    more = runs(Levers(places_factor={"u3_kita": {"4": 1.2, "5": 1.2}}))
    assert more.cost_table()["cost_eur"].sum() > 1.005 * baseline.cost_table()["cost_eur"].sum()


def test_before_its_start_year_a_scenario_is_the_status_quo_exactly(tmp_path):
    """Every indicator and cost of every year before the start equals the status quo, seed by
    seed; from the start year on, the scenario differs (negative control)."""
    (tmp_path / "later.yaml").write_text(
        "title: Später\ndescription: Lotsen und Übergänge ab 2028\nstart_year: 2028\n"
        "levers:\n  lotse_fte: 30\n  coordination: {birth: 0.9, kita: 0.8}\n  priority_rule: need_based\n"
        "  places_factor: {u3_kita: {'5': 1.5}}\n", encoding="utf-8")
    later = load_scenario(tmp_path / "later.yaml")
    for seed in (0, 1):
        settings = dict(seed=seed, scale=0.05, years=4, burn_in_years=0)
        base = PreventionChainModel("baseline", **settings).run()
        scen = PreventionChainModel(later, **settings).run()
        bi, si = base.indicators(by_year=True), scen.indicators(by_year=True)
        bc, sc = base.cost_table(), scen.cost_table()
        before = [2026, 2027]
        pd.testing.assert_frame_equal(
            si[si["year"].isin(before)].drop(columns="scenario").reset_index(drop=True),
            bi[bi["year"].isin(before)].drop(columns="scenario").reset_index(drop=True))
        pd.testing.assert_frame_equal(
            sc[sc["year"].isin(before)].drop(columns="scenario").reset_index(drop=True),
            bc[bc["year"].isin(before)].drop(columns="scenario").reset_index(drop=True))
        assert sc[sc["year"] == 2028]["cost_eur"].sum() > bc[bc["year"] == 2028]["cost_eur"].sum()


def test_a_lever_builds_up_in_equal_yearly_steps():
    from sim.inputs.levers import LeverSchedule, LeverTiming

    schedule = LeverSchedule(Levers(lotse_fte=20.0, places_factor={"u3_kita": {"5": 1.6}}),
                             default=LeverTiming(start_year=2027, build_up_years=3))
    assert [schedule.levers_in(y).lotse_fte for y in (2026, 2027, 2028, 2029, 2035)] == pytest.approx([2, 8, 14, 20, 20])
    assert schedule.levers_in(2028).places_factor["u3_kita"]["5"] == pytest.approx(1.4)
    assert schedule.levers_in(2026) == Levers()
    # The first year at the full level: the last step of the build-up (what the capacity figures read).
    assert schedule.full_from() == 2029 and schedule.levers_in(2028) != schedule.levers_in(2029) == schedule.target
    assert LeverSchedule(Levers(lotse_fte=20.0), default=LeverTiming(start_year=2027)).full_from() == 2027
    assert LeverSchedule(Levers(lotse_fte=20.0)).full_from() is None  # from the first simulated month


def test_cost_per_effect_intervals_contain_the_estimate_and_widen_with_fewer_seeds():
    rng = np.random.default_rng(7)
    cost = rng.normal(5e6, 4e5, size=40)
    effect = rng.normal(100, 25, size=40)
    widths = []
    for n in (40, 10, 4):
        ratio, lo, hi = ratio_interval(cost[:n], effect[:n])
        assert lo <= ratio <= hi
        assert ratio == pytest.approx(cost[:n].mean() / effect[:n].mean())
        widths.append(hi - lo)
    assert widths[0] < widths[1] < widths[2]


def test_no_ratio_where_the_effect_may_be_zero_and_no_negative_cost_for_a_saving():
    assert _verdict(1e6, 3.0, -1.0, 7.0) == "keine gesicherte Wirkung"
    assert _verdict(-1e6, 3.0, 1.0, 5.0) == "spart Geld und wirkt"
    assert _verdict(1e6, -3.0, -5.0, -1.0) == "verschlechtert"
    assert _verdict(1e6, 3.0, 1.0, 5.0) == "wirkt"


def test_the_planning_periods_table_gives_ratios_only_for_secured_effects():
    c = compare(["baseline", "lotsen"], range(2), scale=0.03, years=5, burn_in=1, workers=1, progress=False)
    table = c.planning_periods()
    assert set(table["period"]) == {"2027-2030"}  # 2027-2040 is cut at the run's last year, 2030: the same
    unsure = table[table["verdict"] != "wirkt"]
    assert unsure["cost_per_effect_eur"].isna().all()
    sure = table[table["verdict"] == "wirkt"]
    assert (sure["effect_ci_low"] > 0).all() and sure["cost_per_effect_eur"].notna().all()
    paths = c.paths()
    cost = paths[(paths["quantity"] == "extra_cost_city") & (paths["kind"] == "annual")].set_index("year")["mean"]
    assert cost.loc[2026] == 0.0 and cost.loc[2027] > 0, "Lotsen start in 2027"


# ---- bad input -------------------------------------------------------------------------------------
def scenario_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("title: T\ndescription: D\n" + text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, field", [
    ("start_year: 2027\nbuild_up_years: -1\nlevers: {lotse_fte: 5}\n", "build_up_years"),
    ("timing: {lotse_fte: {start_year: 2027, build_up_years: -2}}\nlevers: {lotse_fte: 5}\n", "timing.lotse_fte.build_up_years"),
    ("timing: {lotse_ft: {start_year: 2027}}\nlevers: {lotse_fte: 5}\n", "timing.lotse_ft"),
    ("start_year: zwanzig\nlevers: {lotse_fte: 5}\n", "start_year"),
])
def test_a_broken_timing_is_refused_naming_file_and_field(tmp_path, text, field):
    path = scenario_file(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.source == str(path) and err.value.field == field, str(err.value)


@pytest.mark.parametrize("year", [2010, 2060])
def test_a_start_year_outside_the_simulated_years_is_refused_before_anything_runs(tmp_path, year):
    scenario = load_scenario(scenario_file(tmp_path, f"start_year: {year}\nlevers: {{lotse_fte: 5}}\n"))
    started = []
    with pytest.raises(InputError) as err:
        compare(["baseline", scenario], range(1), scale=0.02, years=3, burn_in=1, workers=1, progress=False,
                on_progress=lambda *a: started.append(a))
    assert err.value.field == "start_year" and err.value.allowed == "2025..2028", str(err.value)
    assert not started, "nothing ran"
    own = load_scenario(scenario_file(tmp_path, f"timing: {{lotse_fte: {{start_year: {year}}}}}\nlevers: {{lotse_fte: 5}}\n"))
    with pytest.raises(InputError) as err:
        compare(["baseline", own], range(1), scale=0.02, years=3, burn_in=1, workers=1, progress=False)
    assert err.value.field == "timing.lotse_fte.start_year", str(err.value)


@pytest.mark.parametrize("change, field", [
    ({"city_share": "1.2", "other_share": "-0.2"}, "city_share"),
    ({"land_share": "0.5"}, "city_share, land_share, bund_share, health_insurance_share, other_share"),
    ({"bund_share": "viel"}, "bund_share"),
])
def test_a_broken_payer_share_is_refused_with_row_and_column(tmp_path, change, field):
    table = pd.read_csv(UNIT_COSTS, dtype=str, keep_default_na=False)
    row = 3
    for column, value in change.items():
        table.loc[row, column] = value
    path = tmp_path / "unit_costs.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        load_unit_costs(path)
    assert err.value.field == field and err.value.row == row + 2, str(err.value)


def test_every_cost_line_names_its_payers_and_a_source():
    table = load_unit_costs()
    shares = table[["city_share", "land_share", "bund_share", "health_insurance_share", "other_share"]]
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert table["payer_source"].fillna("").str.strip().str.len().gt(0).all()
    assert table["source"].fillna("").str.strip().str.len().gt(0).all()
