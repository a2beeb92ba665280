"""Paired comparison, costs, charts and report: what `make run` shows a budget meeting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import report
from sim.analysis import charts
from sim.analysis.compare import BASELINE, STANDARD_SET, Cancelled, compare, resolve
from sim.inputs.levers import Levers
from sim.inputs.scenario import SCENARIO_DIR, Scenario, load_scenario

SMALL = {"scale": 0.05, "years": 3, "burn_in": 1}
SEEDS = [0, 1, 2]
COPY = Scenario(name="baseline_kopie", title="Kopie des Status quo", description="Gleiche Hebel wie der Status quo.",
                levers=Levers())
# The standard scenarios in their settled state (levers from the first month): three short years show
# their effects; their start in 2027 is tested in test_lever_costs.py.
LEVERS = ["but_automatic", "u3_expansion_high_need", "need_based_priority", "warm_handover", "budget_neutral_shift"]


@pytest.fixture(scope="module")
def comparison():
    return compare([BASELINE, COPY, *[load_scenario(n).settled() for n in LEVERS]], SEEDS, workers=2, progress=False, **SMALL)


def _diff(c, indicator, subgroup_type="all", subgroup="all"):
    table = c.differences()
    sel = table[(table["indicator"] == indicator) & (table["subgroup_type"] == subgroup_type) & (table["subgroup"] == subgroup)]
    return sel.set_index("scenario")


def _per_seed(c, scenario, indicator, subgroup_type="all", subgroup="all"):
    wide = c._wide()
    return wide.loc[(scenario, indicator, subgroup_type, subgroup)] - wide.loc[(BASELINE, indicator, subgroup_type, subgroup)]


def test_the_standard_set_is_shipped():
    for name in STANDARD_SET:
        assert (SCENARIO_DIR / f"{name}.yaml").exists()
        assert load_scenario(name).title


def test_a_scenario_identical_to_the_baseline_differs_by_exactly_zero(comparison):
    diffs = comparison.differences()
    same = diffs[diffs["scenario"] == COPY.name]
    assert len(same) > 1000
    finite = same["mean"].dropna()
    assert (finite == 0).all()
    costs = comparison.costs()
    assert (costs[costs["scenario"] == COPY.name]["extra_over_baseline_eur"] == 0).all()


def test_common_random_numbers_make_paired_differences_tighter_than_levels(comparison):
    # The same seed gives the same population: the lever's effect varies less over seeds than the level.
    level_sd = comparison._wide().loc[(BASELINE, "insufficient_german_at_school_entry", "all", "all")].std()
    diff_sd = _per_seed(comparison, "u3_expansion_high_need", "insufficient_german_at_school_entry").std()
    assert diff_sd < level_sd


def test_but_without_application_raises_but_takeup_on_every_seed(comparison):
    per_seed = _per_seed(comparison, "but_automatic", "but_social_participation_takeup")
    assert (per_seed > 0.05).all()
    row = _diff(comparison, "but_social_participation_takeup").loc["but_automatic"]
    assert row["ci_low"] > 0


def test_more_u3_places_in_high_need_quarters_raise_u3_care_there(comparison):
    # In a 5 % city a seed can have no unmet U3 demand in type 5 (there, the barriers in front of
    # poor families limit U3 care more than places do): never less care, more on average.
    per_seed = _per_seed(comparison, "u3_expansion_high_need", "u3_care_coverage", "sozialraum_typ", "5")
    assert (per_seed >= 0).all() and per_seed.mean() > 0.005, per_seed
    untouched = _per_seed(comparison, "u3_expansion_high_need", "u3_care_coverage", "sozialraum_typ", "1")
    assert abs(untouched.mean()) < per_seed.mean()


def test_need_based_priority_gives_poor_children_more_u3_places(comparison):
    per_seed = _per_seed(comparison, "need_based_priority", "u3_care_coverage", "poverty", "sgb2")
    assert (per_seed > 0).all()
    others = _per_seed(comparison, "need_based_priority", "u3_care_coverage", "poverty", "not_poor")
    assert others.mean() < 0


def test_warm_handovers_raise_reach_of_the_chain_in_primary_school(comparison):
    # Pupils already in the city at the start carry the handovers of their past (the status quo),
    # so over 3 + 1 years the gain comes from the contacts made since: clear on average, small per seed.
    per_seed = _per_seed(comparison, "warm_handover", "chain_reach_primary", "poverty", "sgb2")
    assert per_seed.mean() > 0.002 and (per_seed > -0.005).all(), per_seed


def test_costs_add_up(comparison):
    costs = comparison.costs()
    ce = comparison.cost_effectiveness().set_index("scenario")
    annual = costs.groupby(["scenario", "year"])["cost_eur"].sum().groupby("scenario").mean()
    for name in comparison.names:
        assert annual[name] == pytest.approx(ce.loc[name, "annual_cost_eur"], rel=1e-9)
        assert ce.loc[name, "extra_cost_eur"] == pytest.approx(
            ce.loc[name, "annual_cost_eur"] - ce.loc[BASELINE, "annual_cost_eur"], rel=1e-9, abs=1e-3)
        extra = costs[costs["scenario"] == name].groupby("year")["extra_over_baseline_eur"].sum().mean()
        assert extra == pytest.approx(ce.loc[name, "extra_cost_eur"], rel=1e-9, abs=1e-3)
    assert (costs["cost_eur"] >= 0).all()
    assert (costs["admin_overhead_eur"] <= costs["cost_eur"] + 1e-6).all()
    # Automatic BuT removes most of the application overhead of BuT.
    but = costs[costs["service"] == "but_social"].groupby("scenario")
    share = (but["admin_overhead_eur"].sum() / but["total_cost_eur"].sum())
    assert share["but_automatic"] < share[BASELINE]
    for name in LEVERS:
        row = ce.loc[name]
        if row["verdict_reached"] == "wirkt":
            assert row["cost_per_extra_child_reached_eur"] == pytest.approx(
                row["extra_cost_eur"] / row["extra_children_reached_per_year"])
        else:  # no secured effect, or cheaper and better: no ratio
            assert np.isnan(row["cost_per_extra_child_reached_eur"])


def test_a_budget_neutral_shift_keeps_the_places(comparison):
    from sim.inputs.city import load_city

    city = load_city()
    typ = city.table["sozialraum_typ"].to_numpy()
    shift = load_scenario("budget_neutral_shift").levers
    base = city.table["places_u3_kita"].to_numpy(float)
    moved = base * shift.place_multipliers("u3_kita", typ, base)
    assert moved.sum() == pytest.approx(base.sum())
    assert moved[np.isin(typ, [4, 5])].sum() > base[np.isin(typ, [4, 5])].sum()
    ce = comparison.cost_effectiveness().set_index("scenario")
    # Places are costed per place provided: the same places, the same money, to 0.1 % of the budget.
    assert abs(ce.loc["budget_neutral_shift", "extra_cost_eur"]) < 0.001 * ce.loc[BASELINE, "annual_cost_eur"]


def test_comparison_table_is_tidy(comparison):
    tidy = comparison.tidy()
    key = ["scenario", "indicator", "subgroup_type", "subgroup", "quantity", "statistic"]
    assert not tidy.duplicated(key).any()
    assert set(tidy["statistic"]) == {"mean", "sd", "ci_low", "ci_high", "n_seeds"}
    assert set(tidy["quantity"]) == {"level", "difference"}
    assert set(tidy["subgroup_type"]) == {"all", "poverty", "sozialraum_typ", "stadtbezirk", "language"}
    assert tidy["indicator_label"].notna().all()
    n = tidy[(tidy["statistic"] == "n_seeds")]["value"]
    assert (n <= len(SEEDS)).all()


def test_every_chart_file_is_produced_and_not_empty(comparison, tmp_path):
    files = charts.make_all(comparison, tmp_path)
    assert len(files) == 2 * len(charts.CHARTS)
    for path in files:
        assert path.stat().st_size > 10_000, path
    assert (tmp_path / "1_abstand_arm_nicht_arm.svg").read_text(encoding="utf-8").count("synthetisches Düsseldorf") >= 1


def _not_in_full(fig, titles: list[str]) -> list[str]:
    """The titles that no text of the figure shows whole (line breaks read as spaces), and any cut text."""
    from matplotlib.text import Text

    words = " ".join(" ".join(t.get_text().split()) for t in fig.findobj(Text))
    return [t for t in titles if t not in words] + (["…"] if "…" in words else [])


def test_every_chart_names_each_scenario_in_full(comparison):
    """Long titles wrap or stand in a numbered key; none is cut. Negative control: tick labels cut
    the way the charts once cut them are caught."""
    others = [n for n in comparison.names if n != BASELINE]
    titles = [comparison.titles[n] for n in others]
    assert max(map(len, titles)) > 40, "the fixture needs a long title to test wrapping"
    for name, draw in charts.CHARTS.items():
        fig = draw(comparison)
        assert _not_in_full(fig, titles) == [], name
        charts.plt.close(fig)
    fig, ax = charts.plt.subplots()
    ax.set_yticks(range(len(titles)), [t if len(t) <= 34 else t[:33] + "…" for t in titles])
    assert _not_in_full(fig, titles) == [t for t in titles if len(t) > 34] + ["…"]
    charts.plt.close(fig)


def test_the_budget_chart_shows_each_scenario_s_difference_by_cost_line_in_three_colours(comparison):
    """One panel per scenario, the same cost lines in each, bars equal to the cost table's mean extra
    cost (M EUR), blue for more, orange for less, the balance in black: nothing else coloured."""
    from matplotlib.colors import to_hex

    fig = charts.budget_chart(comparison)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    others = [n for n in comparison.names if n != BASELINE]
    assert len(panels) == len(others)
    extra = comparison.costs().groupby(["scenario", "service_label"])["extra_over_baseline_eur"].mean() / 1e6
    colours = set()
    for ax, name in zip(panels, others):
        bars = ax.patches
        values = [b.get_width() for b in bars]
        assert values[-1] == pytest.approx(extra[name].sum(), abs=1e-6)  # the balance: every line, shown or not
        colours |= {to_hex(b.get_facecolor()) for b in bars}
        assert len(bars) == len(panels[0].patches)  # the same lines in every panel
    assert colours <= {charts.EXTRA_COST_COLOR, charts.SAVING_COLOR, to_hex(charts.BALANCE_COLOR)}
    # More U3 places cost more on their own line, drawn blue; BuT without application saves on the benefit's lines.
    expansion = panels[others.index(next(n for n in others if n.startswith("u3_expansion")))]
    labels = [t.get_text().replace("\n", " ") for t in panels[0].get_yticklabels()]
    u3_bar = expansion.patches[labels.index("U3-Platz in der Kita")]
    assert u3_bar.get_width() > 0.01 and to_hex(u3_bar.get_facecolor()) == charts.EXTRA_COST_COLOR
    # All public budgets: the balance is the public extra cost, which differs from the city's (the
    # Land, the Bund and the health insurance pay shares), e.g. for BuT without application.
    public = charts.budget_chart(comparison, "public")
    public_extra = comparison.costs().groupby(["scenario", "service_label"])["public_extra_over_baseline_eur"].mean() / 1e6
    for ax, name in zip([a for a in public.axes if a.get_visible()], others):
        assert ax.patches[-1].get_width() == pytest.approx(public_extra[name].sum(), abs=1e-6)
    assert any(abs(public_extra[n].sum() - extra[n].sum()) > 0.1 for n in others)
    assert "alle öffentlichen Haushalte" in public._supxlabel.get_text()


def test_the_cost_effect_chart_ranks_no_scenario_when_no_outcome_changed():
    """A copy of the status quo changes nothing: the chart says so and marks nothing as (not)
    efficient, instead of ranking by cost alone. Negative control: the fixture's levers change
    outcomes, and there the efficiency legend is drawn."""
    nothing = compare([BASELINE, COPY], [0], workers=1, progress=False, **SMALL)
    texts = " ".join(t.get_text() for ax in charts.cost_effect_chart(nothing).axes for t in ax.texts)
    assert texts.count("keine Änderung gemessen") == 2 and "effizient" not in texts.replace("Effizienz", "")
    legends = [ax.get_legend() for ax in charts.cost_effect_chart(nothing).axes]
    assert all(legend is None for legend in legends)


def test_the_cost_effect_chart_marks_efficient_scenarios_where_outcomes_changed(comparison):
    fig = charts.cost_effect_chart(comparison)
    assert any(ax.get_legend() is not None for ax in fig.axes)


def test_the_report_folder_is_complete_or_absent(comparison, tmp_path, monkeypatch):
    out = report.write_report(comparison, tmp_path / "report", {"test": True})
    for name in ("bericht.html", "bericht.pdf", "comparison.csv", "costs.csv", "paths.csv", "cost_effectiveness.csv",
                 "cost_effectiveness_periods.csv", "capacity.csv", "unit_costs.csv", "runs.parquet", "provenance.yaml"):
        assert (out / name).stat().st_size > 0
    page = (out / "bericht.html").read_text(encoding="utf-8")
    assert "synthetischen Düsseldorf" in page and page.count("<img") == len(charts.CHARTS)
    assert "Kostenperspektive" in page and "Planungszeitraum 2027-2028" in page
    assert "Kapazität und Nachfrage" in page and "Grenze der Reichweite" in page
    capacity = pd.read_csv(out / "capacity.csv")
    assert set(capacity["scenario"]) == set(comparison.names) and (capacity["used"] <= capacity["capacity"] + 1 / comparison.scale).all()
    # (a single-contact service carries a fraction of a contact into the next month: at most one more)
    assert "Mehrkosten" in report.terminal_summary(comparison, out)
    # The council's PDF: A4 landscape pages with the report's text and its charts.
    from pypdf import PdfReader

    pdf = PdfReader(out / "bericht.pdf")
    assert len(pdf.pages) >= 5
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert width > height and abs(width - 842) < 3, "A4 landscape"
    text = "".join(p.extract_text() for p in pdf.pages)
    for heading in ("Szenarienvergleich", "Kostenperspektive", "Kosten je Hebel", "Kostensätze und wer sie trägt"):
        assert heading in text, heading
    assert sum(len(p.images) for p in pdf.pages) == len(charts.CHARTS)

    def broken(*_):
        raise RuntimeError("disk full")

    monkeypatch.setattr(charts, "make_all", broken)
    with pytest.raises(RuntimeError):
        report.write_report(comparison, tmp_path / "second", {})
    assert not (tmp_path / "second").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_efficient_scenarios_are_those_nobody_beats():
    cost = np.array([0.0, 1.0, 2.0, 2.0, 5.0])
    effect = np.array([0.0, 3.0, 2.0, 4.0, 4.0])
    assert charts.efficient(cost, effect).tolist() == [True, True, False, True, False]


def test_bad_scenarios_stop_before_anything_runs():
    from sim.inputs.errors import InputError

    with pytest.raises(InputError, match="not found"):
        resolve(["baseline", "gibt_es_nicht"])
    with pytest.raises(ValueError, match="unique"):
        resolve(["lotsen", "lotsen"])


def test_a_comparison_can_be_cancelled():
    with pytest.raises(Cancelled):
        compare(["baseline", "lotsen"], [0], workers=1, progress=False, cancelled=lambda: True, **SMALL)


def test_the_summary_table_has_one_row_per_scenario(comparison):
    table = report.summary_table(comparison)
    assert list(table["Szenario"]) == [comparison.titles[n] for n in comparison.names]
    assert isinstance(table, pd.DataFrame)
