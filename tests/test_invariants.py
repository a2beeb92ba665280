"""What holds in every valid configuration: property tests over random levers, seeds and lengths.

tests/test_mechanisms.py checks the same bookkeeping on fixed runs (status quo, half the places)
and the take-up rule for lowered intensities; here hypothesis draws the scenario: any lever
within its declared range, any seed, a 1-2 % city over one or two years. Month by month the
population balances and no place or caseload is exceeded; at the end every share lies in
[0, 1], no cost is negative and the same seed gives the same tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim.engine.mechanisms.services import ServiceSystem
from sim.engine.mechanisms.takeup import household_key, probability_from_load
from sim.engine.model import PreventionChainModel
from sim.inputs.levers import TRANSITIONS, Levers
from sim.inputs.params import ModelParams, load_params
from sim.inputs.services import Capacity

PLACE_SERVICES = ("u3_kita", "kindertagespflege", "ue3_kita", "pluskita", "ogs")
APPLICATION_SERVICES = ("but_social", "but_lunch", "but_tutoring", "kinderzuschlag")
# Not a share: like the published figure, occupied U3 places (children who turned 3 during the
# Kita year included) per child under 3, which in a small Sozialraum can exceed 1.
RATIOS = ("u3_care_coverage",)
# No shrinking: each example is a model run, and the failing configuration is printed as drawn.
RUNS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.reuse, Phase.generate])

share = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
types = st.lists(st.integers(1, 5), min_size=1, max_size=2, unique=True)


@st.composite
def place_shifts(draw):
    giving = draw(types)
    taking = draw(st.lists(st.sampled_from([t for t in range(1, 6) if t not in giving]), min_size=1, max_size=2, unique=True))
    return {"share": draw(share), "from_types": giving, "to_types": taking}


levers = st.builds(
    Levers,
    priority_rule=st.sampled_from(["employment_first", "need_based"]),
    places_factor=st.dictionaries(st.sampled_from(PLACE_SERVICES), st.dictionaries(
        st.sampled_from(["all", "1", "2", "3", "4", "5"]), st.floats(0.0, 3.0), min_size=1, max_size=2), max_size=2),
    place_shift=st.dictionaries(st.sampled_from(PLACE_SERVICES), place_shifts(), max_size=1),
    lotse_fte=st.floats(0.0, 60.0),
    school_social_work_fte=st.floats(0.0, 400.0),
    youth_job_centre_fte=st.floats(0.0, 80.0),
    outreach_by_type=st.fixed_dictionaries({t: share for t in range(1, 6)}),
    outreach_fte_per_sozialraum=st.floats(0.0, 3.0),
    multilingual_information=share,
    access=st.dictionaries(st.sampled_from(APPLICATION_SERVICES), st.sampled_from(["standard", "simplified", "automatic"]),
                           max_size=2),
    fee_waiver=st.dictionaries(st.sampled_from(("u3_kita", "ue3_kita", "ogs", "sports_club")),
                               st.lists(st.sampled_from(["sgb2", "low_income", "not_poor"]), unique=True), max_size=2),
    coordination=st.fixed_dictionaries({phase: share for phase in TRANSITIONS}),
)
configurations = st.fixed_dictionaries({
    "levers": levers,
    "seed": st.integers(0, 2**32 - 1),
    "scale": st.sampled_from([0.01, 0.015, 0.02]),
    "years": st.integers(1, 2),
    "burn_in_years": st.integers(0, 1),
})


@pytest.fixture(scope="module")
def params() -> ModelParams:
    return load_params()


def build(config: dict, params: ModelParams) -> PreventionChainModel:
    return PreventionChainModel("baseline", params=params, **config)


def check_month(model: PreventionChainModel, before: int, place_services: list[int], caseload: list[int]) -> None:
    ch, hh = model.pop.children, model.pop.households
    f = model.flows
    assert min(f.values()) >= 0, f
    after = int(ch.alive.sum())
    assert after == before + f["births"] + f["moved_in"] - f["moved_out"] - f["aged_out"], (model.t, before, after, f)
    assert hh.alive[ch.hh[ch.alive]].all(), "a child lives in a household that has left"
    for s in place_services:
        held = ch.alive & (ch.place[:, s] >= 0)
        occupied = np.bincount(ch.place[held, s], minlength=model.services.n_sr)
        assert (occupied <= model.services.capacity[s]).all(), (model.t, model.catalogue.ids[s])
    for s in caseload:
        svc = model.catalogue.services[model.catalogue.ids[s]]
        limit = model.services.fte(s) * model.scale * svc.capacity.caseload_per_fte_year
        assert (ch.alive & ch.use[:, s]).sum() <= int(limit), (model.t, model.catalogue.ids[s])


@RUNS
@given(config=configurations)
def test_any_valid_configuration_keeps_the_books_and_same_seed_gives_same_result(params, config):
    model = build(config, params)
    place_services = [s for s in range(len(model.catalogue)) if model.services.capacity[s].sum() > 0]
    caseload = [s for s, svc in enumerate(model.catalogue.services.values())
                if isinstance(svc.capacity, Capacity) and svc.capacity.fte and svc.mode == "ongoing"]
    for _ in range(model.n_months):
        before = int(model.pop.children.alive.sum())
        model.step()
        check_month(model, before, place_services, caseload)

    for table in (model.indicators(), model.indicators(by_year=True)):
        counted = table[table["subgroup"] != "gap"]  # a gap is a difference of two shares, without counts
        assert (counted["numerator"] >= 0).all() and (counted["denominator"] >= 0).all()
        shares = counted[~counted["indicator"].isin(RATIOS)]
        assert (shares["numerator"] <= shares["denominator"] + 1e-9).all(), shares[shares["numerator"] > shares["denominator"]]
        measured = shares[shares["denominator"] > 0]["value"]
        assert measured.between(0.0, 1.0).all(), shares[~shares["value"].between(0, 1) & (shares["denominator"] > 0)]
        gaps = table[(table["subgroup"] == "gap") & ~table["indicator"].isin(RATIOS)]["value"].dropna()
        assert gaps.between(-1.0, 1.0).all()
    costs = model.cost_table()
    money = costs[["cost_eur", "admin_overhead_eur"]].to_numpy()
    assert np.isfinite(money).all() and (money >= 0).all(), "a cost is negative or not a number"
    assert (costs["admin_overhead_eur"] <= costs["cost_eur"] + 1e-6).all()

    again = build(config, params).run()
    pd.testing.assert_frame_equal(model.indicators(), again.indicators())
    pd.testing.assert_frame_equal(model.cost_table(), again.cost_table())


# ---- take-up never falls when a barrier falls --------------------------------------------------
loads = st.floats(min_value=0.0, max_value=50.0, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(base_logit=st.floats(-9.2, 9.2), load=loads, less=st.floats(0.0, 1.0), need=st.floats(-5.0, 5.0))
def test_a_lower_barrier_load_never_gives_a_lower_takeup_probability(base_logit, load, less, need):
    p = probability_from_load(np.float64(base_logit), np.float64(load), need)
    lowered = probability_from_load(np.float64(base_logit), np.float64(load * less), need)
    assert 0.0 <= p <= 1.0 and lowered >= p


# ---- on the engine's own path ----------------------------------------------------------------
@pytest.fixture(scope="module")
def city_in_motion(params) -> PreventionChainModel:
    """A small city two years in: handovers made, places under pressure, benefits that cover costs in use."""
    model = build({"seed": 11, "scale": 0.02, "years": 3, "burn_in_years": 0}, params)
    for _ in range(26):
        model.step()
    return model


ACCESS_STEPS = {"standard": "simplified", "simplified": "automatic", "automatic": "automatic"}


@st.composite
def lowered_barrier(draw):
    """A lever set and a second one that lowers one barrier further: more multilingual
    information, a simpler application, more outreach in one Sozialraumtyp or one more fee waiver."""
    before = draw(levers)
    kind = draw(st.sampled_from(["multilingual", "access", "outreach", "fee_waiver"]))
    change: dict = {}
    if kind == "multilingual":
        change["multilingual_information"] = before.multilingual_information + (1 - before.multilingual_information) * draw(share)
    elif kind == "access":
        service = draw(st.sampled_from(APPLICATION_SERVICES))
        change["access"] = {**before.access, service: ACCESS_STEPS[before.access.get(service, "standard")]}
    elif kind == "outreach":
        typ = draw(st.integers(1, 5))
        level = before.outreach_by_type[typ]
        change["outreach_by_type"] = {**before.outreach_by_type, typ: level + (1 - level) * draw(share)}
    else:
        service = draw(st.sampled_from(("u3_kita", "ue3_kita", "ogs", "sports_club")))
        status = draw(st.sampled_from(["sgb2", "low_income", "not_poor"]))
        change["fee_waiver"] = {**before.fee_waiver, service: sorted(set(before.fee_waiver.get(service, [])) | {status})}
    return before, before.model_copy(update=change)


def engine_probabilities(model: PreventionChainModel, lever_set: Levers) -> np.ndarray:
    """(services × present children) take-up probabilities as ServiceSystem computes them this
    month under lever_set, in the model's present state (handovers, pressure, covering benefits)."""
    kept = model.levers
    model.levers = lever_set
    try:
        system = ServiceSystem(model)
    finally:
        model.levers = kept
    system.pressure[:] = model.services.pressure
    ctx = system.context(model.t, household_key(model.pop.households))
    present = np.flatnonzero(model.pop.children.alive)
    return np.stack([system.takeup_probability(s, present, ctx)[0] for s in range(len(system.svc))])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(pair=lowered_barrier())
def test_lowering_a_barrier_never_lowers_takeup_on_the_engines_path(city_in_motion, pair):
    """ServiceSystem's own take-up probability, with outreach, warm handovers, capacity pressure
    and costs covered by a benefit: whatever the other levers, lowering one barrier never lowers
    any child's take-up of any service."""
    before, after = pair
    p_before = engine_probabilities(city_in_motion, before)
    p_after = engine_probabilities(city_in_motion, after)
    assert ((p_before >= 0) & (p_before <= 1)).all()
    worse = p_after < p_before - 1e-6
    assert not worse.any(), (np.argwhere(worse)[:5], before, after)


def test_the_engine_path_check_can_fail(city_in_motion):
    """Negative control of the property above: raising a barrier (no multilingual information
    instead of all of it) lowers the take-up of children from families with another language."""
    p_all = engine_probabilities(city_in_motion, Levers(multilingual_information=1.0))
    p_none = engine_probabilities(city_in_motion, Levers(multilingual_information=0.0))
    assert (p_none < p_all - 1e-3).any()
    assert (p_none <= p_all + 1e-6).all()

