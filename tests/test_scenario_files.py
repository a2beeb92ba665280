"""Scenario files: planner-readable YAML, checked before anything runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.engine.model import PreventionChainModel
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers
from sim.inputs.scenario import SCENARIO_DIR, load_scenario

SCENARIO_FILES = sorted(SCENARIO_DIR.glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def scenario(levers: str, base: str | None = None) -> str:
    head = "title: Testszenario\ndescription: Ein Szenario für die Tests.\n"
    if base:
        head += f"base: {base}\n"
    return head + levers


def test_the_baseline_is_shipped_and_is_the_status_quo():
    assert SCENARIO_DIR / "baseline.yaml" in SCENARIO_FILES
    base = load_scenario("baseline")
    assert base.levers == Levers()
    assert base.lever_changes == {}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_shipped_scenario_loads_and_builds_a_model(path):
    loaded = load_scenario(path)
    assert loaded.name == path.stem
    assert loaded.title and loaded.description
    assert load_scenario(path.stem).levers == loaded.levers
    model = PreventionChainModel(path.stem, scale=0.05, years=2, burn_in_years=0)
    assert model.schedule.target == loaded.levers
    # The standard scenarios start in January 2027: the first simulated year (2026) is the status quo.
    assert path.stem == "baseline" or loaded.default_timing.start_year == 2027
    assert model.levers == Levers()
    model.run()
    assert model.levers == model.schedule.levers_in(2027) != Levers() or path.stem == "baseline"


def test_a_scenario_changes_only_the_levers_it_names(tmp_path):
    path = write(tmp_path, "bu_t_automatisch", scenario("levers:\n  access: {but_social: automatic}\n  lotse_fte: 6\n"))
    loaded = load_scenario(path)
    assert loaded.levers.access == {"but_social": "automatic"}
    assert loaded.levers.lotse_fte == 6
    assert loaded.levers.model_dump(exclude={"access", "lotse_fte"}) == Levers().model_dump(exclude={"access", "lotse_fte"})


def test_a_scenario_builds_on_its_base(tmp_path):
    write(tmp_path, "lotsen", scenario("levers:\n  lotse_fte: 8\n  priority_rule: need_based\n  access: {but_social: simplified}\n"))
    write(tmp_path, "lotsen_plus", scenario("levers:\n  lotse_fte: 10\n  access: {but_lunch: automatic}\n", base="lotsen"))
    loaded = load_scenario("lotsen_plus", directory=tmp_path)
    assert loaded.levers.lotse_fte == 10
    assert loaded.levers.priority_rule == "need_based"
    assert loaded.levers.access == {"but_social": "simplified", "but_lunch": "automatic"}


def test_a_scenario_changing_one_phase_or_quarter_type_keeps_the_others_at_the_status_quo(tmp_path):
    """Scenario files name only what differs: strengthening handovers into the Kita must not
    switch off the status-quo handovers at birth, nor must outreach in type 5 end it in type 4."""
    status_quo = Levers()
    path = write(tmp_path, "kita_lotsen", scenario("levers:\n  coordination: {kita: 0.8}\n  outreach_by_type: {5: 1.0}\n"))
    levers = load_scenario(path).levers
    assert levers.coordination_level("kita") == 0.8
    for phase in ("birth", "early_childhood", "primary", "secondary", "transition"):
        assert levers.coordination_level(phase) == status_quo.coordination_level(phase), phase
    assert levers.outreach_by_type.get(5) == 1.0
    for typ in (1, 2, 3, 4):
        assert levers.outreach_by_type.get(typ, 0.0) == status_quo.outreach_by_type[typ], typ


def test_an_unknown_lever_is_reported_with_a_suggestion(tmp_path):
    path = write(tmp_path, "tippfehler", scenario("levers:\n  lotse_ftee: 4\n"))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.source == str(path)
    assert err.value.field == "levers.lotse_ftee"
    assert "did you mean 'lotse_fte'" in str(err.value)


def test_an_unknown_top_level_key_is_reported_with_a_suggestion(tmp_path):
    path = write(tmp_path, "tippfehler", "titel: Test\ndescription: Test\nlevers: {}\n")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.field == "titel"
    assert "did you mean 'title'" in str(err.value)


def test_a_wrong_lever_value_names_the_lever(tmp_path):
    path = write(tmp_path, "falsch", scenario("levers:\n  priority_rule: zufall\n"))
    with pytest.raises(InputError, match=re.escape(f"{path}, field 'levers.priority_rule'")):
        load_scenario(path)


@pytest.mark.parametrize(
    "levers",
    [
        "outreach_by_type: {5: 1.5}",
        "outreach_by_type: {6: 1.0}",
        "coordination: {kita: 2.0}",
        "coordination: {kitaa: 1.0}",
        "places_factor: {u3_kita: {alle: 1.5}}",
        "places_factor: {u3_kita: {all: -1.0}}",
    ],
    ids=["outreach_above_one", "outreach_unknown_typ", "coordination_above_one", "coordination_unknown_phase",
         "places_unknown_typ", "places_negative"],
)
def test_a_lever_outside_its_declared_range_is_reported(tmp_path, levers):
    """The levers declare their ranges (0..1, Sozialraumtyp '1'..'5' or 'all', the six phases):
    a typo must not silently leave the status quo in place."""
    path = write(tmp_path, "ausserhalb", scenario(f"levers:\n  {levers}\n"))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.source == str(path)
    assert err.value.field.startswith("levers.")


def test_yaml_tags_are_rejected_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = write(
        tmp_path, "boese",
        f'title: !!python/object/apply:os.system ["touch {marker}"]\ndescription: x\nlevers: {{}}\n',
    )
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.source == str(path)
    assert err.value.field == "(file)"
    assert not marker.exists(), "a YAML tag ran code"


@pytest.mark.parametrize("text", ["- a\n- list\n", "just text\n", ""], ids=["list", "text", "empty"])
def test_a_file_that_is_no_scenario_is_reported(tmp_path, text):
    path = write(tmp_path, "kaputt", text)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.source == str(path)


def test_a_base_that_points_to_itself_is_rejected(tmp_path):
    write(tmp_path, "kreis", scenario("levers: {lotse_fte: 3}\n", base="kreis"))
    with pytest.raises(InputError) as err:
        load_scenario("kreis", directory=tmp_path)
    assert err.value.field == "base"
    assert "cycle" in str(err.value)


def test_two_scenarios_that_build_on_each_other_are_rejected(tmp_path):
    write(tmp_path, "a", scenario("levers: {lotse_fte: 3}\n", base="b"))
    write(tmp_path, "b", scenario("levers: {lotse_fte: 4}\n", base="a"))
    with pytest.raises(InputError, match="base"):
        load_scenario("a", directory=tmp_path)


def test_a_missing_scenario_lists_the_shipped_ones():
    with pytest.raises(InputError) as err:
        load_scenario("gibt_es_nicht")
    assert "not found" in str(err.value)
    assert "baseline" in err.value.allowed
