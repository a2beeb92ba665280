"""Each lever a planner can pull moves what it should by a clear margin, and leaves alone what it
cannot reach (a negative control). Paired runs share their seed: the difference is the lever's.
"""

from __future__ import annotations

import pytest

from sim.inputs.levers import Levers


def test_more_lotsen_reach_more_newborn_families(baseline, runs, value):
    more = runs(Levers(lotse_fte=20.0))
    assert value(more, "reach_lotse") > value(baseline, "reach_lotse") + 0.15
    # The Lotsen hand families over to the family centre: its parent-child groups follow (a small
    # gain: most families are handed over there already at an earlier contact).
    assert value(more, "parent_child_group_under_3") > value(baseline, "parent_child_group_under_3") + 0.003
    # Negative control: without Lotsen nobody meets one; and school services are out of their reach.
    none = runs(Levers(lotse_fte=0.0))
    assert value(none, "reach_lotse") == 0.0
    assert value(more, "reach_school_social_work") == pytest.approx(value(baseline, "reach_school_social_work"), abs=0.005)


def test_a_fee_waiver_for_low_incomes_raises_their_sports_club_membership(baseline, runs, value):
    waived = runs(Levers(fee_waiver={"sports_club": ["low_income"]}))
    before = value(baseline, "reach_sports_club", "poverty", "low_income")
    after = value(waived, "reach_sports_club", "poverty", "low_income")
    assert after > before + 0.03, (before, after)
    # Negative control: families above the low-income line pay as before and decide as before.
    assert value(waived, "reach_sports_club", "poverty", "not_poor") == pytest.approx(
        value(baseline, "reach_sports_club", "poverty", "not_poor"), abs=0.002)


def test_multilingual_information_raises_takeup_where_german_is_not_spoken_at_home(baseline, runs, value):
    multilingual = runs(Levers(multilingual_information=0.9))
    before = value(baseline, "reach_sports_club", "language", "other")
    after = value(multilingual, "reach_sports_club", "language", "other")
    assert after > before + 0.01, (before, after)
    # Negative control: German-speaking families face no language barrier to lower.
    assert value(multilingual, "reach_sports_club", "language", "german") == pytest.approx(
        value(baseline, "reach_sports_club", "language", "german"), abs=0.003)


def test_more_school_social_work_reaches_more_pupils_until_every_pupil_who_asks_is_served(baseline, runs, value):
    """196 FTE (the status quo) leave pupils who ask without a case; 300 serve them all, so 450
    reach no one more: the demand (a fifth of pupils) is then the limit, not the caseload."""
    more = runs(Levers(school_social_work_fte=300.0))
    assert value(more, "reach_school_social_work") > value(baseline, "reach_school_social_work") + 0.01
    much_more = runs(Levers(school_social_work_fte=450.0))
    assert value(much_more, "reach_school_social_work") == pytest.approx(value(more, "reach_school_social_work"), abs=0.002)
    none = runs(Levers(school_social_work_fte=0.0))
    assert value(none, "reach_school_social_work") == 0.0
    # Negative control: children before school are untouched.
    assert value(more, "reach_u3_kita") == pytest.approx(value(baseline, "reach_u3_kita"), abs=1e-9)


def test_more_youth_job_centre_caseworkers_reach_more_young_people(baseline, runs, value):
    more = runs(Levers(youth_job_centre_fte=100.0))
    assert value(more, "reach_youth_job_centre") > value(baseline, "reach_youth_job_centre") + 0.02
    none = runs(Levers(youth_job_centre_fte=0.0))
    assert value(none, "reach_youth_job_centre") == 0.0
    assert value(more, "reach_ogs") == pytest.approx(value(baseline, "reach_ogs"), abs=1e-9)


def test_a_simplified_application_raises_but_takeup_less_than_an_automatic_one(baseline, but_automatic, runs, value):
    simplified = runs(Levers(access={"but_social": "simplified"}))
    before = value(baseline, "but_social_participation_takeup")
    middle = value(simplified, "but_social_participation_takeup")
    after = value(but_automatic, "but_social_participation_takeup")
    assert before + 0.03 < middle < after, (before, middle, after)
    # Negative control: the Kinderzuschlag keeps its own procedure.
    assert value(simplified, "kinderzuschlag_takeup") == pytest.approx(value(baseline, "kinderzuschlag_takeup"), abs=1e-9)
