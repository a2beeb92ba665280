"""Saving an edited scenario from the UI, the lever fields and the server's bounds (issue 7)."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.analysis.compare import STANDARD_SET
from sim.inputs.levers import Levers
from sim.inputs.scenario import SCENARIO_DIR, load_scenario
from sim.ui import lever_fields as lf
from sim.ui import scenario_store, state
from sim.ui.__main__ import DEFAULT_HOST


@pytest.fixture
def scenario_dir(tmp_path):
    for name in STANDARD_SET:
        shutil.copy(SCENARIO_DIR / f"{name}.yaml", tmp_path)
    return tmp_path


def copy_with_lotsen(name: str, fte: float = 40):
    levers, errors = lf.apply_fields(load_scenario("baseline").levers, {"lotse_fte": str(fte)})
    assert not errors
    return scenario_store.edited_copy(load_scenario("baseline"), levers, name, "Mehr Lotsen")


@pytest.mark.parametrize("typed, name", [
    ("Mehr Lotsen für Garath", "mehr_lotsen_fuer_garath"),
    ("../../etc/passwd", "etc_passwd"),
    ("/tmp/x.yaml", "tmp_x_yaml"),
    ("2025 Plan", "szenario_2025_plan"),
    ("   ", ""),
])
def test_a_typed_name_becomes_a_safe_file_name(typed, name):
    assert scenario_store.sanitise_name(typed) == name


def test_a_saved_copy_is_a_valid_scenario_file_with_only_the_changed_levers(scenario_dir):
    path = scenario_store.save(copy_with_lotsen("Mehr Lotsen"), directory=scenario_dir)
    assert path == scenario_dir / "mehr_lotsen.yaml"
    loaded = load_scenario(path, directory=scenario_dir)
    assert loaded.levers.lotse_fte == 40 and loaded.title == "Mehr Lotsen"
    assert loaded.lever_changes == {"lotse_fte": 40.0}
    assert not [p for p in scenario_dir.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize("name", STANDARD_SET)
def test_the_standard_set_is_never_overwritten(scenario_dir, name):
    before = (scenario_dir / f"{name}.yaml").read_bytes()
    with pytest.raises(scenario_store.SaveError, match="Standardszenarien"):
        scenario_store.save(copy_with_lotsen(name), directory=scenario_dir)
    assert (scenario_dir / f"{name}.yaml").read_bytes() == before


def test_an_earlier_saved_scenario_is_not_replaced(scenario_dir):
    scenario_store.save(copy_with_lotsen("mein_plan", 40), directory=scenario_dir)
    with pytest.raises(scenario_store.SaveError, match="gibt es schon"):
        scenario_store.save(copy_with_lotsen("mein_plan", 80), directory=scenario_dir)
    assert load_scenario(scenario_dir / "mein_plan.yaml", directory=scenario_dir).levers.lotse_fte == 40


def test_a_name_that_tries_to_leave_the_folder_lands_inside_it(scenario_dir):
    path = scenario_store.save(copy_with_lotsen("../../ausserhalb"), directory=scenario_dir)
    assert path.parent == scenario_dir and path.name == "ausserhalb.yaml"


def test_saved_scenarios_are_offered_after_the_standard_set(scenario_dir):
    scenario_store.save(copy_with_lotsen("aaa_zuerst"), directory=scenario_dir)
    names = scenario_store.available(scenario_dir)
    assert names[: len(STANDARD_SET)] == list(STANDARD_SET) and names[-1] == "aaa_zuerst"


@pytest.mark.parametrize("key, typed, message", [
    ("lotse_fte", "viele", "Bitte eine Zahl eingeben, z. B. 20, 2,5 oder 1.000"),
    ("lotse_fte", "2.5", "„2.5“ ist mehrdeutig: Komma für Dezimalstellen (2,5), Punkt nur für Tausender (1.000)"),
    ("lotse_fte", "501", "Zu groß: höchstens 500"),
    ("lotse_fte", "-1", "Zu klein: mindestens 0"),
    ("priority_rule", "wer_zuerst_kommt", "Bitte einen der angebotenen Werte wählen"),
])
def test_a_wrong_lever_value_gets_a_german_message_at_its_field(key, typed, message):
    levers, errors = lf.apply_fields(Levers(), {key: typed})
    assert levers is None and errors == {key: message}


def test_a_lever_typed_with_a_decimal_comma_is_read():
    levers, errors = lf.apply_fields(Levers(), {"lotse_fte": "2,5", "coordination.kita": 0.5})
    assert not errors and levers.lotse_fte == 2.5 and levers.coordination["kita"] == 0.5


def test_a_thousand_written_the_german_way_is_a_thousand():
    levers, errors = lf.apply_fields(Levers(), {"school_social_work_fte": "1.000"})
    assert not errors and levers.school_social_work_fte == 1000


def german(value: float, decimals: int, thousands: str = ".") -> str:
    """value as a German writes it: groups of three apart, a decimal comma."""
    whole, _, fraction = f"{abs(value):.{decimals}f}".partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    text = thousands.join(groups) + ("," + fraction if fraction else "")
    return ("-" if value < 0 else "") + text


@given(value=st.floats(-1e9, 1e9, allow_nan=False), decimals=st.integers(0, 4), thousands=st.sampled_from([".", " ", "\u202f", ""]))
def test_every_number_written_the_german_way_is_read_back(value, decimals, thousands):
    text = german(value, decimals, thousands)
    assert lf.parse_number(text) == pytest.approx(round(value, decimals), abs=10 ** -decimals)


@given(value=st.floats(-1e9, 1e9, allow_nan=False), digits=st.integers(0, 3), sign=st.booleans())
def test_every_number_the_pages_print_is_read_back(value, digits, sign):
    """The pages print numbers with de_format.de: a true minus sign (U+2212), thin spaces between
    thousands, a decimal comma. What a planner copies from a page into a field reads back."""
    from sim.analysis.de_format import de

    text = de(value, digits, sign=sign)
    assert "-" not in text and (("\u2212" in text) == (round(value, digits) < 0))
    assert lf.parse_number(text) == pytest.approx(round(value, digits), abs=10 ** -digits)


@given(whole=st.integers(0, 10**6), fraction=st.text("0123456789", min_size=1, max_size=6).filter(lambda f: len(f) != 3))
def test_a_dot_that_is_no_thousands_separator_is_refused_not_guessed(whole, fraction):
    with pytest.raises(lf.NumberError, match="mehrdeutig"):
        lf.parse_number(f"{whole}.{fraction}")


@given(text=st.text(max_size=12))
def test_any_text_is_a_number_or_a_german_message(text):
    try:
        value = lf.parse_number(text)
    except lf.NumberError as exc:
        assert str(exc) and ("Zahl" in str(exc) or "mehrdeutig" in str(exc))
    else:
        assert isinstance(value, float)


@pytest.mark.parametrize("scale, seeds, years, field", [
    ("25", "2", "3", "scale"), ("0,5", "2", "3", "scale"), ("2", "11", "3", "seeds"), ("2", "2,5", "3", "seeds"),
    ("2", "2", "19", "years"),
])
def test_one_user_cannot_ask_for_more_than_the_server_allows(scale, seeds, years, field):
    settings, errors = state.check_run_settings(scale, seeds, years, "1", n_scenarios=2)
    assert settings is None and field in errors


def test_the_bounds_and_the_default_address():
    assert state.MAX_SCALE <= 0.2 and state.MAX_SEEDS <= 10 and state.MAX_PARALLEL_COMPARISONS <= 2
    assert DEFAULT_HOST == "127.0.0.1"
    settings, errors = state.check_run_settings("20", "10", "18", "6", n_scenarios=2)
    assert not errors and settings.scale == 0.2 and settings.seeds == 10


@pytest.mark.parametrize("mean, low, high, lower_is_better, word", [
    (-0.02, -0.03, -0.01, True, "sicher besser"),  # fewer cases, interval below zero
    (-0.02, -0.03, -0.01, False, "sicher schlechter"),  # fewer of something good
    (0.02, 0.01, 0.03, False, "sicher besser"),
    (0.02, 0.01, 0.03, True, "sicher schlechter"),
    (0.01, -0.01, 0.03, True, "unklar"),
    (0.0, 0.0, 0.0, True, "keine Änderung gemessen"),
    (0.01, float("nan"), float("nan"), True, "erst ab 2 Seeds"),
])
def test_the_verdict_word_follows_the_interval_and_the_better_direction(mean, low, high, lower_is_better, word):
    from sim.analysis.compare import certainty

    assert certainty(mean, low, high, lower_is_better) == word


def test_kept_settings_come_back_and_a_damaged_entry_changes_nothing():
    saved = state.kept_settings()
    try:
        state.years_text.set("7")
        state.chosen.set(["lotsen", "full_chain"])
        state.question.set("schuleingang")
        state.child_group.set("sgb2")
        text = state.kept_settings()
        state.years_text.set("3")
        state.chosen.set(["lotsen"])
        state.question.set("alle")
        state.child_group.set("beide")
        state.restore_settings(text)
        assert state.years_text.value == "7" and state.chosen.value == ["lotsen", "full_chain"]
        assert state.question.value == "schuleingang" and state.child_group.value == "sgb2"  # the question too
        for damaged in ("{kaputt", "[1, 2]", '{"years_text": 12, "copy_base": "gibt_es_nicht", "unbekannt": 1}',
                        '{"question": "gibt_es_nicht", "child_group": 3}'):
            state.restore_settings(damaged)
            assert state.years_text.value == "7" and state.copy_base.value == "baseline"
            assert state.question.value == "schuleingang" and state.child_group.value == "sgb2"
    finally:
        state.restore_settings(saved)


# ---- the question: which indicators can the chosen years measure (sim.ui.question) -------------------
@pytest.mark.parametrize("word, indicator, start, last, shown", [
    ("unklar", "insufficient_german_at_school_entry", 2027, 2030, "noch nicht messbar (ab 2033)"),
    ("keine Änderung gemessen", "insufficient_german_at_school_entry", 2027, 2032, "noch nicht messbar (ab 2033)"),
    ("unklar", "insufficient_german_at_school_entry", 2027, 2033, "unklar"),  # the first cohort with the lever
    ("sicher besser", "neet_at_18", 2027, 2040, "sicher besser – erst ein Teil, volle Wirkung ab 2045"),
    ("unklar", "chain_reach_all", 2027, 2027, "unklar"),  # reach is measured as a service is used
    ("erst ab 2 Seeds", "gymnasium_transition", 2027, 2036, "noch nicht messbar (ab 2037)"),
])
def test_an_outcome_not_yet_measurable_says_so_instead_of_a_verdict(word, indicator, start, last, shown):
    from sim.ui.question import verdict_word

    assert verdict_word(word, indicator, start, last) == shown


def test_the_horizon_check_names_what_the_years_cannot_measure_yet():
    from sim.analysis.indicators import INDICATOR_LABELS_DE
    from sim.ui import question as q

    lotsen, baseline = load_scenario("lotsen"), load_scenario("baseline")  # Lotsen start in 2027
    school = q.indicators_of("schuleingang")
    missing = q.not_yet_measurable([baseline, lotsen], school, 2030)
    assert {m.indicator for m in missing} == set(school) and {m.measurable_from for m in missing} == {2033}
    ok, text = q.measurability_text([baseline, lotsen], school, 2030, INDICATOR_LABELS_DE)
    assert not ok and "Noch nicht messbar bis 2030" in text and "erst ab 2033" in text
    # Negative controls: the same question a year after the first cohort is measured, and reach at once.
    assert q.not_yet_measurable([baseline, lotsen], school, 2033) == []
    assert q.measurability_text([baseline, lotsen], q.indicators_of("erreichen"), 2027, INDICATOR_LABELS_DE)[0]
    assert q.not_yet_measurable([baseline], school, 2026) == []  # the status quo has no levers to wait for


def test_the_long_view_is_long_enough_for_the_question_within_the_limit_of_years():
    from sim.engine.model import START_YEAR
    from sim.ui import question as q

    lotsen = load_scenario("lotsen")
    limit = START_YEAR + state.MAX_YEARS - 1
    assert q.long_view_end("erreichen", [lotsen], limit) == 2040
    assert q.long_view_end("schuleingang", [lotsen], limit) == 2040  # 2033 and two more cohorts fit in 2040
    assert q.long_view_end("bildungswege", [lotsen], limit) == limit  # NEET from birth: 2045, beyond the limit
    assert q.horizon_ends("erreichen", [lotsen], limit)["2030"] == ("bis 2030", 2030)
