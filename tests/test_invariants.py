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
from hypothesis.extra import numpy as hnp

from sim.levers import TRANSITIONS, Levers
from sim.mechanisms.takeup import probability, probability_from_load, susceptibility_weights
from sim.model import PreventionChainModel
from sim.params import BARRIERS, TRAITS, ModelParams, load_params
from sim.services import Capacity

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
weights = st.floats(min_value=0.0, max_value=20.0, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(base_logit=st.floats(-9.2, 9.2), load=loads, less=st.floats(0.0, 1.0), need=st.floats(-5.0, 5.0))
def test_a_lower_barrier_load_never_gives_a_lower_takeup_probability(base_logit, load, less, need):
    p = probability_from_load(np.float64(base_logit), np.float64(load), need)
    lowered = probability_from_load(np.float64(base_logit), np.float64(load * less), need)
    assert 0.0 <= p <= 1.0 and lowered >= p


@st.composite
def takeup_setup(draw):
    """Valid parameters (elasticities and susceptibilities within their declared ranges) and households."""
    elasticity = {b: draw(weights) for b in BARRIERS}
    susceptibility = {b: {t: draw(weights) for t in ("base",) + TRAITS if draw(st.booleans())} for b in BARRIERS}
    params = ModelParams(takeup={"elasticity": elasticity, "susceptibility": susceptibility})
    n = draw(st.integers(1, 12))
    traits = draw(hnp.arrays(np.float32, (n, len(TRAITS)), elements=st.sampled_from([0.0, 1.0])))
    intensity = draw(hnp.arrays(np.float64, (len(BARRIERS),), elements=st.floats(0.0, 3.0)))
    return params, traits, intensity


@settings(max_examples=60, deadline=None)
@given(setup=takeup_setup(), barrier=st.sampled_from(range(len(BARRIERS))), remaining=st.floats(0.0, 1.0),
       base_rate=st.floats(0.0, 1.0))
def test_lowering_one_barrier_never_lowers_any_households_takeup(setup, barrier, remaining, base_rate):
    """Through the model's own susceptibility weights: whatever the household's traits, a lever
    that lowers one barrier of a service raises or keeps every household's take-up probability."""
    params, traits, intensity = setup
    w = susceptibility_weights(params)
    susceptibility = np.hstack([np.ones((len(traits), 1), np.float32), traits]) @ w
    elasticity = np.array([params.takeup.elasticity[b] for b in BARRIERS])
    lowered = intensity.copy()
    lowered[barrier] *= remaining
    before = probability(base_rate, np.broadcast_to(intensity, susceptibility.shape), susceptibility, elasticity)
    after = probability(base_rate, np.broadcast_to(lowered, susceptibility.shape), susceptibility, elasticity)
    assert (after >= before).all(), (before, after)
    # A household more susceptible to that barrier never takes the service up more often.
    more = susceptibility.copy()
    more[:, barrier] += 1.0
    worse = probability(base_rate, np.broadcast_to(intensity, susceptibility.shape), more, elasticity)
    assert (worse <= before).all()
