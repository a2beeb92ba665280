"""Children and households as Mesa agents: thin views that read the same rows the engine writes."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from sim.engine.agents import Child, Household
from sim.engine.model import PreventionChainModel
from sim.engine.population import AGE_OUT_MONTHS, STATUS_NAMES
from sim.inputs.params import DEVELOPMENT_DOMAINS


@pytest.fixture(scope="module")
def model() -> PreventionChainModel:
    m = PreventionChainModel("baseline", seed=4, scale=0.05, years=2, burn_in_years=1)
    for _ in range(20):
        m.step()
    return m


def row_of(model, child: Child) -> int:
    ch = model.pop.children
    rows = np.flatnonzero(ch.cid == child.child_id)
    assert rows.size == 1
    return int(rows[0])


def test_views_are_mesa_agents_registered_with_the_model(model):
    children = model.sample_children(25)
    assert len(children) == 25
    assert [c.child_id for c in children] == sorted(c.child_id for c in children)
    for child in children:
        assert isinstance(child, mesa.Agent) and isinstance(child, Child)
        assert child in model.agents
        household = child.household
        assert isinstance(household, Household) and household in model.agents
    # A view is made once per id: asking again returns the same registered agent.
    n_agents = len(model.agents)
    again = model.child(children[0].child_id)
    assert again is children[0]
    assert len(model.agents) == n_agents


def test_child_views_match_the_arrays(model):
    ch, hh = model.pop.children, model.pop.households
    ids = model.catalogue.ids
    for child in model.sample_children(60, seed=1):
        row = row_of(model, child)
        assert child.present
        assert child.age_months == model.t - int(ch.birth[row])
        assert child.services_used == [ids[k] for k in np.flatnonzero(ch.use[row])]
        assert child.household.household_id == int(hh.hid[ch.hh[row]])
        assert child.household.poverty_status == STATUS_NAMES[int(hh.status[ch.hh[row]])]
        assert child.development == pytest.approx(dict(zip(DEVELOPMENT_DOMAINS, ch.dev[row].tolist())), abs=1e-3)
        entry = int(ch.kita_entry_age[row])
        assert child.kita_entry_age_months == (None if entry < 0 else entry)
        path = child.path
        assert [age for age, _ in path] == sorted(age for age, _ in path), "the path is in order of age"
        assert {s for _, s in path} == {ids[k] for k in np.flatnonzero(ch.ever[row])}
        for age, service in path:
            assert 0 <= age <= child.age_months
            assert age == int(ch.first_age[row, ids.index(service)])
        assert child in child.household.children
        described = child.describe()
        assert described["Kind"] == child.child_id
        assert described["Alter (Monate)"] == child.age_months


def test_someone_uses_services_so_the_comparison_means_something(model):
    used = [c.services_used for c in model.sample_children(60, seed=1)]
    assert sum(len(u) for u in used) > 30


def test_household_views_match_the_arrays(model):
    hh, ch = model.pop.households, model.pop.children
    for child in model.sample_children(20, seed=2):
        household = child.household
        row = int(np.flatnonzero(hh.hid == household.household_id)[0])
        assert household.present
        assert household.single_parent == bool(hh.single_parent[row])
        assert household.other_language == bool(hh.other_language[row])
        assert household.employed == bool(hh.employed[row])
        assert household.sozialraum_id == model.city.table["sozialraum_id"].iloc[int(hh.sozialraum[row])]
        members = sorted(c.child_id for c in household.children)
        assert members == sorted(int(c) for c in ch.cid[ch.alive & (ch.hh == row)])


def test_a_child_that_ages_out_is_no_longer_present():
    m = PreventionChainModel("baseline", seed=5, scale=0.05, years=1, burn_in_years=0)
    m.step()
    ch = m.pop.children
    about_to_leave = ch.cid[ch.alive & (m.t - ch.birth == AGE_OUT_MONTHS - 1)]
    assert about_to_leave.size > 5
    views = [m.child(int(c)) for c in about_to_leave]
    households = [v.household for v in views]
    m.step()  # still 17 during this month
    assert sum(v.present for v in views) >= 0.9 * len(views)
    m.step()  # turns 18: leaves
    assert not any(v.present for v in views)
    for view, household in zip(views, households):
        assert view.child_id not in [c.child_id for c in household.children]
    # The views stay valid when departed rows are dropped from the arrays.
    for _ in range(6):
        m.step()
    assert not any(v.present for v in views)
    assert not m.pop.children.alive[np.isin(m.pop.children.cid, about_to_leave)].any()
