"""The mechanisms of the chain: each lever moves what it should, and the city's bookkeeping holds.

Paired runs share a seed (common random numbers), so a difference between them comes from the
lever alone. The invariants are checked month by month on small cities.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.engine import rng
from sim.engine.mechanisms import demography, development, history
from sim.engine.mechanisms.contacts import first_contacts, hand_over, handover_stream
from sim.engine.mechanisms.allocation import allocate
from sim.engine.mechanisms.takeup import (
    TRAIT_CODES,
    household_key,
    household_traits,
    need_score,
    traits_of_code,
)
from sim.engine.model import PreventionChainModel
from sim.engine.population import AGE_OUT_MONTHS, STATUS_LOW_INCOME, STATUS_NOT_POOR, STATUS_SGB2
from sim.inputs.levers import Levers
from sim.inputs.params import BARRIERS
from sim.inputs.services import Capacity, Catalogue, load_catalogue

PLACE_SERVICES = ("u3_kita", "kindertagespflege", "ue3_kita", "pluskita", "ogs")


# --- levers, in paired runs ---------------------------------------------------------------


def test_removing_the_application_barrier_raises_but_takeup(baseline, but_automatic, value):
    before = value(baseline, "but_social_participation_takeup")
    after = value(but_automatic, "but_social_participation_takeup")
    assert after > before + 0.1, (before, after)
    # SGB II children, for whom the application effort bites hardest, gain clearly too.
    assert value(but_automatic, "but_social_participation_takeup", "poverty", "sgb2") > value(
        baseline, "but_social_participation_takeup", "poverty", "sgb2") + 0.1


def test_more_places_shorten_waiting_lists(baseline, more_u3_places, value, monthly):
    waiting_before = monthly(baseline)["U3-Warteliste"].mean()
    waiting_after = monthly(more_u3_places)["U3-Warteliste"].mean()
    assert waiting_before > 0, "the status quo should have a U3 waiting list"
    assert waiting_after < 0.8 * waiting_before, (waiting_before, waiting_after)
    assert value(more_u3_places, "u3_care_coverage") > value(baseline, "u3_care_coverage")
    u3 = baseline.catalogue.index("u3_kita")
    assert more_u3_places.pop.children.waiting[:, u3].sum() <= baseline.pop.children.waiting[:, u3].sum()
    assert more_u3_places.services.capacity[u3].sum() > 1.4 * baseline.services.capacity[u3].sum()


def test_warm_handovers_raise_next_phase_reach(no_coordination, full_coordination, value):
    ch = no_coordination.pop.children
    born_here = ch.alive & (ch.arrived == ch.birth)  # the others bring the handovers of their past
    assert not ch.handover[born_here].any(), "without coordination nobody is handed over in the city"
    assert full_coordination.pop.children.handover.sum() > 1000
    for target in ("familienzentrum", "family_midwife"):
        assert value(full_coordination, f"ever_{target}") > value(no_coordination, f"ever_{target}") + 0.02, target
    assert value(full_coordination, "reach_familienzentrum") > value(no_coordination, "reach_familienzentrum")
    # Handovers lower the information and trust barriers: SGB II families gain too.
    assert value(full_coordination, "ever_familienzentrum", "poverty", "sgb2") > value(
        no_coordination, "ever_familienzentrum", "poverty", "sgb2")


def _hand_over_plainly(model, t, age, coordination, handover, pending):
    """The rule of warm handovers written out child by child, with the engine's draws from
    rng.uniforms: the slow, obvious version the compiled kernel must agree with."""
    services, ch = model.services, model.pop.children
    for i in range(ch.n):
        for s in services.handover_sources:
            months = age[i] - ch.first_age[i, s]
            contact = months == 0 if services.svc[s].mode == "once" else months >= 0 and months % 12 == 0
            if not (ch.use[i, s] and contact):
                continue
            for j in services.handover_to[s]:
                draw = rng.uniforms(model.seed, handover_stream(s, j), ch.cid[i:i + 1], t).astype(np.float32)[0]
                if not handover[i, j] and draw < coordination[j]:
                    handover[i, j] = pending[i, j] = True


def test_the_compiled_handover_kernel_does_what_the_plain_rule_does(full_coordination):
    """On the state of a finished run (handovers cleared, so that every contact can hand over), for
    the last two months at two coordination levels. Negative control: the draws decide (some
    chances hand over and some do not) and a higher level hands over more."""
    model, ch = full_coordination, full_coordination.pop.children
    services = model.services
    gained = {}
    for level in (0.3, 0.8):
        coordination = np.where(services.coordination > 0, np.float32(level), np.float32(0))
        for t in (model.n_months - 1, model.n_months - 2):
            age = (t - ch.birth).astype(np.int32)
            keys = rng.month_keys(services.handover_keys, t)
            fast = [np.zeros_like(ch.handover, order="F"), np.zeros_like(ch.takeup_pending, order="F")]
            hand_over(ch.use, ch.first_age, age, ch.cid, services.handover_sources, services.handover_once,
                      services.handover_start, services.handover_targets, keys, coordination, *fast)
            slow = [np.zeros_like(ch.handover), np.zeros_like(ch.takeup_pending)]
            _hand_over_plainly(model, t, age, coordination, *slow)
            assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1]), (level, t)
            everyone = [np.zeros_like(ch.handover), np.zeros_like(ch.takeup_pending)]
            _hand_over_plainly(model, t, age, np.where(coordination > 0, np.float32(1), np.float32(0)), *everyone)
            gained[level, t] = (int(fast[0].sum()), int(everyone[0].sum()))
    for (level, t), (got, chances) in gained.items():
        assert 0.5 * level * chances < got < min(1.5 * level, 0.95) * chances, (level, t, got, chances)
        assert got < gained[0.8, t][0] or level == 0.8


def test_the_compiled_first_contacts_do_what_the_plain_rule_does(baseline):
    """On the state of a finished run with a tenth of the contacts forgotten (so that they are
    first contacts again) and some Kita entries cleared: the kernel against the rule written out
    child by child. Negative control: the forgotten contacts, and only they, come back."""
    ch, services = baseline.pop.children, baseline.services
    age = (baseline.n_months - 1 - ch.birth).astype(np.int32)
    forget = (np.random.default_rng(5).random(ch.ever.shape) < 0.1) & ch.use
    ever, first_age, kita_entry = ch.ever & ~forget, ch.first_age.copy(), ch.kita_entry_age.copy()
    kita_entry[::3] = -1
    fast = [np.asfortranarray(ever), np.asfortranarray(first_age), kita_entry.copy()]
    rows, new = first_contacts(ch.use, fast[0], fast[1], age, services.kita_columns, fast[2])
    slow = [ever.copy(), first_age.copy(), kita_entry.copy()]
    slow_rows, slow_new = [], []
    for i in range(ch.n):
        fresh = ch.use[i] & ~slow[0][i]
        if fresh.any():
            slow_rows.append(i)
            slow_new.append(fresh)
            slow[1][i, fresh] = age[i]
            slow[0][i] |= fresh
            if fresh[services.kita].any() and slow[2][i] < 0:
                slow[2][i] = age[i]
    assert rows.tolist() == slow_rows and np.array_equal(new, np.array(slow_new).reshape(-1, ch.use.shape[1]))
    for got, expected in zip(fast, slow):
        assert np.array_equal(got, expected)
    assert np.array_equal(new, forget[rows]) and forget.sum() > 100
    assert np.array_equal(fast[0], ch.ever)


def test_the_compiled_poverty_moves_do_what_the_plain_rule_does(baseline):
    """A month of entries into and exits from SGB II and low income, household by household with
    the engine's draws from rng.uniforms, against the kernel, at the raised hazards of a bad
    year (so that every branch is taken). Negative control: statuses change, in each direction."""
    hh, d = baseline.pop.households, baseline.params.demography
    t = baseline.n_months - 1
    alive = np.flatnonzero(hh.alive)
    exit_sgb2 = np.array([[0.05, 0.12], [0.03, 0.08]])
    entry_sgb2 = np.full((baseline.pop.city.sgb2_share.size, 2), 0.02)
    entry_sgb2[:, 1] = 0.04
    low_share = np.clip(baseline.pop.city.low_income_share * 1.2, 0, 0.9)
    enter_low, exit_low = 0.03 * low_share, 0.06
    keys = rng.month_keys(rng.stream_keys(baseline.seed, ["poverty", "poverty:dest"]), t)
    status = hh.status[alive]
    fast = demography.poverty_moves(hh.hid[alive], hh.sozialraum[alive], status, hh.single_parent[alive],
                                    hh.employed[alive], keys, exit_sgb2, entry_sgb2, low_share, enter_low, exit_low)
    u = rng.uniforms(baseline.seed, "poverty", hh.hid[alive], t)
    u2 = rng.uniforms(baseline.seed, "poverty:dest", hh.hid[alive], t)
    slow = status.copy()
    for k, i in enumerate(alive):
        sr, single = hh.sozialraum[i], int(hh.single_parent[i])
        if status[k] == STATUS_SGB2:
            if u[k] < exit_sgb2[single, int(hh.employed[i])]:
                slow[k] = STATUS_LOW_INCOME if u2[k] < low_share[sr] else STATUS_NOT_POOR
        elif u[k] < entry_sgb2[sr, single]:
            slow[k] = STATUS_SGB2
        elif status[k] == STATUS_LOW_INCOME and u2[k] < exit_low:
            slow[k] = STATUS_NOT_POOR
        elif status[k] == STATUS_NOT_POOR and u2[k] < enter_low[sr]:
            slow[k] = STATUS_LOW_INCOME
    assert np.array_equal(fast, slow)
    moves = set(zip(status[fast != status].tolist(), fast[fast != status].tolist()))
    assert moves == {(STATUS_SGB2, STATUS_LOW_INCOME), (STATUS_SGB2, STATUS_NOT_POOR), (STATUS_LOW_INCOME, STATUS_SGB2),
                     (STATUS_NOT_POOR, STATUS_SGB2), (STATUS_LOW_INCOME, STATUS_NOT_POOR),
                     (STATUS_NOT_POOR, STATUS_LOW_INCOME)}, moves


def test_need_based_priority_gives_poor_children_more_u3_places(runs, value):
    # In the calibrated city few U3 applicants go without a place once places elsewhere in the
    # Stadtbezirk count, so priority moves little there (need ranks families by language,
    # education and poverty; employment-first also favours working SGB II parents). Where U3
    # care as a whole is scarce (places of Kita and Tagespflege cut to 70%), need-based priority
    # raises the U3 care coverage of SGB II children and narrows the gap.
    scarce = {"u3_kita": {"all": 0.7}, "kindertagespflege": {"all": 0.7}}
    by_employment = runs(Levers(places_factor=scarce))
    by_need = runs(Levers(places_factor=scarce, priority_rule="need_based"))
    before = value(by_employment, "u3_care_coverage", "poverty", "sgb2")
    after = value(by_need, "u3_care_coverage", "poverty", "sgb2")
    assert after > before, (before, after)
    assert value(by_need, "u3_care_coverage", "poverty", "gap") > value(by_employment, "u3_care_coverage", "poverty", "gap")
    # The places are the same: priority moves them, it does not make more.
    assert value(by_need, "u3_care_coverage") == pytest.approx(value(by_employment, "u3_care_coverage"), abs=0.01)


def test_outreach_raises_takeup_in_high_need_quarters(baseline, outreach_in_high_need, value):
    before = value(baseline, "reach_familienzentrum", "sozialraum_typ", "5")
    after = value(outreach_in_high_need, "reach_familienzentrum", "sozialraum_typ", "5")
    assert after > before + 0.03, (before, after)
    assert value(outreach_in_high_need, "reach_familienzentrum", "sozialraum_typ", "4") > value(
        baseline, "reach_familienzentrum", "sozialraum_typ", "4")
    # Type 1 quarters get no outreach in either run: their take-up hardly moves.
    low_before = value(baseline, "reach_familienzentrum", "sozialraum_typ", "1")
    low_after = value(outreach_in_high_need, "reach_familienzentrum", "sozialraum_typ", "1")
    assert abs(low_after - low_before) < 0.01


def test_kita_places_improve_german_at_school_entry(baseline, half_the_kita_places, value):
    assert len(baseline.school_entry_records()) > 500, "the run must examine school entrants"
    with_places = value(baseline, "insufficient_german_at_school_entry")
    without = value(half_the_kita_places, "insufficient_german_at_school_entry")
    assert without > with_places + 0.02, (with_places, without)
    assert value(half_the_kita_places, "ue3_kita_attendance") < value(baseline, "ue3_kita_attendance")


@given(h=st.floats(-5, 5), k=st.floats(-5, 5), rho=st.floats(-0.95, 0.95))
@settings(max_examples=200, deadline=None)
def test_the_bivariate_normal_cdf_is_scipy_s(h, k, rho):
    """demography.bivariate_normal_cdf (Owen's T) gives what scipy.stats.multivariate_normal gives,
    also on the axes (h or k zero) and where they have opposite signs; negative control: with the
    correlation's sign flipped the numbers differ wherever the correlation matters."""
    from scipy.stats import multivariate_normal

    def scipy_cdf(r: float) -> float:
        return float(multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, r], [r, 1.0]]).cdf([h, k]))

    ours = float(demography.bivariate_normal_cdf(np.array([h]), np.array([k]), rho)[0])
    assert ours == pytest.approx(scipy_cdf(rho), abs=1e-7)
    for h0, k0 in ((0.0, k), (h, 0.0), (0.0, 0.0)):
        on_axis = float(demography.bivariate_normal_cdf(np.array([h0]), np.array([k0]), rho)[0])
        assert on_axis == pytest.approx(float(multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([h0, k0])),
                                        abs=1e-7)
    if abs(rho) > 0.2 and abs(h) < 2 and abs(k) < 2:
        assert abs(ours - scipy_cdf(-rho)) > 1e-4


def test_poverty_rate_stays_near_the_city_rate(baseline, monthly):
    by_year = baseline.indicators(by_year=True)
    rate = by_year[(by_year["indicator"] == "child_sgb2_rate") & (by_year["subgroup_type"] == "all")]
    assert sorted(rate["year"]) == list(baseline.reported_years)
    assert rate["value"].between(0.145, 0.205).all(), rate[["year", "value"]]
    assert monthly(baseline)["SGB-II-Quote"].between(0.145, 0.205).all()
    # The spread across quarters persists: type 5 stays far poorer than type 1.
    table = baseline.indicators()
    typ = table[(table["indicator"] == "child_sgb2_rate") & (table["subgroup_type"] == "sozialraum_typ")]
    typ = typ.set_index("subgroup")["value"]
    assert typ["5"] > 3 * typ["1"]


def test_automatic_but_cuts_the_administrative_share(baseline, but_automatic):
    def share(model):
        costs = model.cost_table()
        but = costs[costs["service"] == "but_social"]
        return but["admin_overhead_eur"].sum() / but["total_cost_eur"].sum()

    assert but_automatic.cost_table().query("service == 'but_social'")["cost_eur"].sum() > baseline.cost_table().query(
        "service == 'but_social'")["cost_eur"].sum(), "more children take BuT up, so it costs more"
    assert share(but_automatic) < 0.5 * share(baseline)


def test_subgroups_add_up_to_the_city(baseline):
    """Every child is counted once in each way of splitting the city."""
    table = baseline.indicators()
    for name in ("u3_care_coverage", "child_sgb2_rate", "insufficient_german_at_school_entry", "reach_ogs"):
        rows = table[table["indicator"] == name]
        city = rows[rows["subgroup_type"] == "all"][["numerator", "denominator"]].iloc[0]
        assert city["denominator"] > 0, name
        parts = {
            "poverty": rows[(rows["subgroup_type"] == "poverty") & rows["subgroup"].isin(["sgb2", "low_income", "not_poor"])],
            "sozialraum_typ": rows[rows["subgroup_type"] == "sozialraum_typ"],
            "stadtbezirk": rows[rows["subgroup_type"] == "stadtbezirk"],
            "language": rows[rows["subgroup_type"] == "language"],
            "sozialraum": rows[rows["subgroup_type"] == "sozialraum"],
        }
        for kind, part in parts.items():
            assert part["numerator"].sum() == pytest.approx(city["numerator"]), (name, kind)
            assert part["denominator"].sum() == pytest.approx(city["denominator"]), (name, kind)
        non_sgb2 = rows[(rows["subgroup_type"] == "poverty") & (rows["subgroup"] == "non_sgb2")]["value"].iloc[0]
        sgb2 = rows[(rows["subgroup_type"] == "poverty") & (rows["subgroup"] == "sgb2")]["value"].iloc[0]
        gap = rows[(rows["subgroup_type"] == "poverty") & (rows["subgroup"] == "gap")]["value"].iloc[0]
        assert gap == pytest.approx(sgb2 - non_sgb2), name


# --- invariants, month by month -------------------------------------------------------------


@pytest.mark.parametrize("factor", [1.0, 0.5], ids=["status_quo", "half_the_places"])
def test_no_capacity_is_ever_exceeded(factor):
    levers = Levers(places_factor={s: {"all": factor} for s in PLACE_SERVICES})
    model = PreventionChainModel("baseline", levers=levers, seed=1, scale=0.05, years=2, burn_in_years=1)
    place_services = [s for s in range(len(model.catalogue)) if model.services.capacity[s].sum() > 0]
    assert {model.catalogue.ids[s] for s in place_services} == set(PLACE_SERVICES)
    caseload = [
        s for s, svc in enumerate(model.catalogue.services.values())
        if isinstance(svc.capacity, Capacity) and svc.capacity.fte and svc.mode == "ongoing"
    ]
    ever_full = False
    for _ in range(model.n_months):
        model.step()
        ch = model.pop.children
        for s in place_services:
            held = ch.alive & (ch.place[:, s] >= 0)
            occupied = np.bincount(ch.place[held, s], minlength=model.services.n_sr)
            over = np.flatnonzero(occupied > model.services.capacity[s])
            assert over.size == 0, (model.t, model.catalogue.ids[s], over, occupied[over], model.services.capacity[s][over])
            assert not (~ch.alive & (ch.place[:, s] >= 0)).any(), "a departed child still holds a place"
            assert (ch.use[ch.alive, s] == (ch.place[ch.alive, s] >= 0)).all(), "use without a place"
            ever_full |= bool((occupied == model.services.capacity[s]).any())
        for s in caseload:
            limit = model.services.fte(s) * model.scale * model.catalogue.services[model.catalogue.ids[s]].capacity.caseload_per_fte_year
            assert (ch.alive & ch.use[:, s]).sum() <= int(limit), (model.t, model.catalogue.ids[s])
    assert ever_full, "places never ran out, so the test checked nothing"


def test_kita_and_ogs_places_are_given_out_in_august():
    """The Kita year and the school year start on 1 August: services the catalogue marks
    `allocation: august` hand out their places then. During the year only vacancies are filled
    (moves, children turning 3 where Ü3 places are left), so each August brings more than twice the
    new places of an average other month."""
    model = PreventionChainModel("baseline", seed=6, scale=0.05, years=1, burn_in_years=1)
    august = [s for s, svc in enumerate(model.catalogue.services.values())
              if isinstance(svc.capacity, Capacity) and svc.capacity.places and svc.capacity.allocation == "august"]
    assert {model.catalogue.ids[s] for s in august} >= {"u3_kita", "ue3_kita", "ogs"}
    new_places = np.zeros((model.n_months, len(model.catalogue)), dtype=int)
    for _ in range(model.n_months):
        ch = model.pop.children
        holding = {s: set(ch.cid[ch.alive & (ch.place[:, s] >= 0)].tolist()) for s in august}
        t = model.t
        model.step()
        ch = model.pop.children
        for s in august:
            new_places[t, s] = len(set(ch.cid[ch.alive & (ch.place[:, s] >= 0)].tolist()) - holding[s])
    in_august = np.arange(model.n_months) % 12 == 7
    other = ~in_august
    other[0] = False  # month 0 places the starting city
    for s in august:
        name = model.catalogue.ids[s]
        assert new_places[in_august, s].min() > 2 * new_places[other, s].mean(), (
            f"{name}: new places in August {new_places[in_august, s].tolist()}, "
            f"in other months {new_places[other, s].tolist()}")


def test_children_age_out_at_18():
    model = PreventionChainModel("baseline", seed=2, scale=0.05, years=2, burn_in_years=0)
    collected = []
    total_aged_out = 0
    for _ in range(model.n_months):
        t = model.t
        ch = model.pop.children
        age = t - ch.birth
        turning_18 = int((ch.alive & (age >= AGE_OUT_MONTHS)).sum())
        last_month = set(ch.cid[ch.alive & (age == AGE_OUT_MONTHS - 1)].tolist())
        model.step()
        ch = model.pop.children
        age = t - ch.birth
        assert not (ch.alive & (age >= AGE_OUT_MONTHS)).any(), f"an 18-year-old is still in the model after month {t}"
        assert model.flows["aged_out"] == turning_18
        still_here = last_month & set(ch.cid[ch.alive].tolist())
        assert len(last_month) - len(still_here) <= model.flows["moved_out"], "a 17-year-old left at 215 months"
        collected.append(turning_18)
        total_aged_out += model.flows["aged_out"]
    assert total_aged_out > 50, "too few children turned 18 for the test to mean anything"
    series = model.datacollector.get_model_vars_dataframe()["18 geworden"].to_numpy()
    assert np.allclose(series * model.scale, collected)


def test_population_counts_balance():
    model = PreventionChainModel("baseline", seed=3, scale=0.05, years=2, burn_in_years=1)
    totals = {"births": 0, "moved_in": 0, "moved_out": 0, "aged_out": 0}
    for _ in range(model.n_months):
        before = int(model.pop.children.alive.sum())
        model.step()
        after = int(model.pop.children.alive.sum())
        f = model.flows
        assert after == before + f["births"] + f["moved_in"] - f["moved_out"] - f["aged_out"], (model.t, before, after, f)
        for k in totals:
            totals[k] += f[k]
        # Every alive child lives in an alive household.
        ch, hh = model.pop.children, model.pop.households
        assert hh.alive[ch.hh[ch.alive]].all(), model.t
    assert all(v > 0 for v in totals.values()), totals
    series = model.datacollector.get_model_vars_dataframe()
    assert series["Kinder"].iloc[-1] * model.scale == pytest.approx(model.pop.children.alive.sum())


def test_trait_codes_reproduce_household_traits_susceptibility_and_norm():
    """The take-up engine looks susceptibility and need up by the trait bits of household_key:
    the same traits, and the same float32 values as computing them household by household."""
    model = PreventionChainModel("baseline", seed=1, scale=0.05, years=1, burn_in_years=1)
    for _ in range(14):
        model.step()
    pop, services = model.pop, model.services
    code = household_key(pop.households) % TRAIT_CODES
    traits = household_traits(pop)
    assert (traits_of_code(code) == traits).all()
    assert (services.sus_by_traits[code] == services.sus_w[0] + traits @ services.sus_w[1:]).all()
    assert (services.need_by_traits[code] == need_score(traits, model.params)).all()
    # The same for development's norm, which adds high education.
    hh = pop.households
    risk_traits = np.column_stack([traits, hh.high_education]).astype(np.float32)
    code = development.risk_code(household_key(hh), hh.high_education)
    assert (development.risk_traits_of_code(code) == risk_traits).all()
    assert (model.development.norm_by_code.T[code] == risk_traits @ development.risk_matrix(model.params)).all()


@pytest.mark.parametrize("scenario", ["baseline", "full_chain"])
def test_cached_decisions_equal_deciding_everything_every_month(scenario):
    """The engine re-makes a take-up decision or a child's monthly development only where an
    input changed. A run that throws all of this away every month must give the same numbers, to
    the last bit: a missed input change would show here."""
    cached = PreventionChainModel(scenario, seed=3, scale=0.03, years=2, burn_in_years=1)
    fresh = PreventionChainModel(scenario, seed=3, scale=0.03, years=2, burn_in_years=1)
    while fresh.running:
        ch = fresh.pop.children
        ch.takeup_pending[:] = True
        ch.rate_ready[:] = False
        fresh.step()
        cached.step()
    assert np.array_equal(cached.pop.children.dev, fresh.pop.children.dev)
    assert np.array_equal(cached.pop.children.use, fresh.pop.children.use)
    pd.testing.assert_frame_equal(cached.indicators(by_year=True), fresh.indicators(by_year=True), check_exact=True)


# --- the two shared rules, as units --------------------------------------------------------



@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n_groups=st.integers(min_value=1, max_value=5), n=st.integers(min_value=0, max_value=40))
def test_allocation_respects_priority_and_free_places(data, n_groups, n):
    groups = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    free = data.draw(hnp.arrays(np.int64, n_groups, elements=st.integers(0, 12)))
    key = data.draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5, 102.0])))
    tiebreak = data.draw(hnp.arrays(np.float64, n, elements=st.floats(min_value=0.0, max_value=1.0), unique=True))
    accepted = allocate(groups, free, key, tiebreak)
    assert accepted.shape == (n,) and accepted.dtype == bool
    for g in range(n_groups):
        mine = groups == g
        got = int(accepted[mine].sum())
        assert got <= free[g], "a group got more places than it has free"
        assert got == min(int(free[g]), int(mine.sum())), "a free place stayed empty while someone waited"
        if accepted[mine].any() and (~accepted[mine]).any():
            assert key[mine & accepted].min() >= key[mine & ~accepted].max(), "a lower priority beat a higher one"
        for k in np.unique(key[mine]):
            same = mine & (key == k)
            if (same & accepted).any() and (same & ~accepted).any():
                assert tiebreak[same & accepted].max() < tiebreak[same & ~accepted].min(), "at equal priority the tiebreak was ignored"


def _children_by_year(params, years: int) -> np.ndarray:
    model = PreventionChainModel("baseline", seed=3, scale=0.1, years=years, burn_in_years=0, params=params)
    counts = []
    for _ in range(model.n_months):
        model.step()
        if model.t % 12 == 0:
            counts.append(model.pop.children.alive.sum() / model.scale)
    return np.array(counts)


def test_children_moving_in_keep_the_city_s_age_structure(params):
    """In-movers by age (demography.in_mover_ages) hold the city's 100,500 children over 12 years;
    negative control: 30 % more in-movers make the city grow."""
    table_total = 100_500
    steady = _children_by_year(params, 12)
    assert np.abs(steady / table_total - 1).max() < 0.03, steady
    more = params.model_copy(update={"demography": params.demography.model_copy(update={"move_in_ratio": 1.3})})
    grown = _children_by_year(more, 12)
    assert grown[-1] > 1.08 * table_total, grown


def test_a_family_waiting_for_one_kind_of_u3_place_takes_a_vacancy_of_the_other(params, monkeypatch):
    """One application for U3 care: a family waiting for a U3 Kita place takes a vacant Tagespflege
    place (and back). With half as many Tagespflege places again, those places are used in March
    (the middle of the Kita year) far more than without the rule. Negative control: the same engine
    with that one rule switched off (same seed)."""
    from sim.engine.mechanisms.capacity import CapacityAllocation

    def tagespflege_in_march() -> float:
        model = PreventionChainModel("baseline", levers=Levers(places_factor={"kindertagespflege": {"all": 1.5}}),
                                     seed=4, scale=0.1, years=2, burn_in_years=0, params=params)
        tp = model.services.ids.index("kindertagespflege")
        used = []
        while model.running:
            model.step()
            if (model.t - 1) % 12 == 2:
                ch = model.pop.children
                used.append(np.count_nonzero(ch.place[ch.alive, tp] >= 0) / model.services.capacity[tp].sum())
        return float(np.mean(used))

    with_rule = tagespflege_in_march()
    monkeypatch.setattr(CapacityAllocation, "_waiting_for_an_alternative",
                        lambda self, s, candidates: np.zeros(0, dtype=np.int64))
    without_rule = tagespflege_in_march()
    assert with_rule > without_rule + 0.04, (with_rule, without_rule)


def _with_services(**updates) -> Catalogue:
    """The catalogue with some services changed: {service_id: {field: value}} (capacity fields too)."""
    catalogue = load_catalogue()
    services = dict(catalogue.services)
    for service_id, fields in updates.items():
        svc = services[service_id]
        capacity = {k: v for k, v in fields.items() if k in Capacity.model_fields}
        own = {k: v for k, v in fields.items() if k not in capacity}
        if capacity:
            own["capacity"] = svc.capacity.model_copy(update=capacity)
        services[service_id] = svc.model_copy(update=own)
    return replace(catalogue, services=services)


def _run_to_august(params, seed: int, catalogue=None, levers=None) -> tuple[PreventionChainModel, set]:
    """A 10 % city stepped to the end of July of its second year: the model and the ids of the
    children then in U3 care (a U3 Kita or Tagespflege place)."""
    model = PreventionChainModel("baseline", levers=levers, catalogue=catalogue, seed=seed, scale=0.1, years=1,
                                 burn_in_years=1, params=params)
    for _ in range(12 + 7):
        model.step()
    ch, ids = model.pop.children, model.services.ids
    u3_care = ch.alive & ((ch.place[:, ids.index("u3_kita")] >= 0) | (ch.place[:, ids.index("kindertagespflege")] >= 0))
    return model, set(ch.cid[u3_care].tolist())


def test_the_kita_year_counts_a_child_born_in_november_as_under_three(params):
    """KiBiz cut-off (services.yaml, u3_kita): in August a child of 33 months (born in November)
    asks for a U3 place, one of 34-35 months (born in September or October) for an Ü3 place. In the
    engine's August allocation, new Ü3 places go to children of 34 months and older only, while
    33-month-olds ask for U3 care. Negative control: the windows of before (Ü3 from 33 months) give
    33-month-olds Ü3 places."""

    def august(catalogue=None) -> tuple[int, int, int]:
        model, _ = _run_to_august(params, seed=6, catalogue=catalogue)
        ids = model.services.ids
        ue3, u3 = ids.index("ue3_kita"), ids.index("u3_kita")
        ch = model.pop.children
        held_ue3 = set(ch.cid[ch.alive & (ch.place[:, ue3] >= 0)].tolist())
        model.step()  # August: the allocation
        age = model.t - 1 - ch.birth
        new_ue3 = ch.alive & (ch.place[:, ue3] >= 0) & ~np.isin(ch.cid, list(held_ue3))
        asks_u3 = ch.alive & ((ch.place[:, u3] >= 0) | ch.waiting[:, u3])
        return (int(np.count_nonzero(new_ue3 & (age == 33))), int(np.count_nonzero(new_ue3 & (age >= 34) & (age <= 35))),
                int(np.count_nonzero(asks_u3 & (age == 33))))

    at_33, at_34_35, u3_at_33 = august()
    assert at_33 == 0 and at_34_35 > 30 and u3_at_33 > 10, (at_33, at_34_35, u3_at_33)
    before = _with_services(u3_kita={"ages_months": (8, 32)}, kindertagespflege={"ages_months": (8, 32)},
                            ue3_kita={"ages_months": (33, 83)})
    at_33_before, _, u3_at_33_before = august(before)
    assert at_33_before > 30 and u3_at_33_before == 0, (at_33_before, u3_at_33_before)


def test_a_child_holds_one_place_of_early_care_at_a_time(params, monkeypatch):
    """A child in a U3 Kita place keeps it for the Kita year and asks for no Ü3 place beside it; a
    child in Tagespflege that gets an Ü3 place leaves the Tagespflege place. Month by month over
    two years no child holds two such places, and Tagespflege children do move up during the year.
    Negative control: with both rules switched off (the engine of before), hundreds of children
    hold a U3 and an Ü3 place by July."""
    from sim.engine.mechanisms.capacity import CapacityAllocation

    def most_double_and_moves() -> tuple[int, int]:
        model = PreventionChainModel("baseline", seed=7, scale=0.1, years=2, burn_in_years=0, params=params)
        ids = model.services.ids
        u3, tp, ue3 = ids.index("u3_kita"), ids.index("kindertagespflege"), ids.index("ue3_kita")
        most, moved, in_tp = 0, 0, set()
        while model.running:
            model.step()
            ch = model.pop.children
            in_ue3 = ch.alive & (ch.place[:, ue3] >= 0)
            most = max(most, int(np.count_nonzero(in_ue3 & ((ch.place[:, u3] >= 0) | (ch.place[:, tp] >= 0)))))
            if (model.t - 1) % 12 != 7:
                moved += int(np.count_nonzero(in_ue3 & np.isin(ch.cid, list(in_tp)) & (ch.place[:, tp] < 0)))
            in_tp = set(ch.cid[ch.alive & (ch.place[:, tp] >= 0)].tolist())
        return most, moved

    most, moved = most_double_and_moves()
    assert most == 0 and moved > 20, (most, moved)
    monkeypatch.setattr(CapacityAllocation, "_moving_up_in_august", lambda self, s: [])
    monkeypatch.setattr(CapacityAllocation, "_leave_earlier_places", lambda self, s, placed: None)
    most_before, _ = most_double_and_moves()
    assert most_before > 200, most_before


def test_children_moving_up_from_u3_care_come_first_for_scarce_ue3_places(params):
    """continuity_from: in August the children whose U3 place has just ended (it ends before the Ü3
    allocation of the same month) come first for an Ü3 place. With Ü3 places cut to 70 %, nearly all
    of them get one, other applicants of the same ages far fewer. Negative control: the same city
    without continuity_from, where both groups compete by the priority rule alone."""

    def shares(catalogue=None) -> tuple[float, float]:
        model, in_u3_care = _run_to_august(params, seed=8, catalogue=catalogue,
                                           levers=Levers(places_factor={"ue3_kita": {"all": 0.7}}))
        model.step()
        ch = model.pop.children
        ue3 = model.services.ids.index("ue3_kita")
        age = model.t - 1 - ch.birth
        placed = ch.place[:, ue3] >= 0
        applied = ch.alive & (age >= 34) & (age <= 45) & (placed | ch.waiting[:, ue3])
        moving_up = np.isin(ch.cid, list(in_u3_care))
        return float(placed[applied & moving_up].mean()), float(placed[applied & ~moving_up].mean())

    up, other = shares()
    assert up > 0.85 and up > other + 0.15, (up, other)
    up_without, other_without = shares(_with_services(ue3_kita={"continuity_from": []}))
    assert up - other > (up_without - other_without) + 0.1, (up, other, up_without, other_without)


def test_families_registered_before_the_deadline_come_first_and_information_decides_who_registers(params):
    """The Kita-Navigator's main round takes, within each priority rank, the families registered
    before its deadline first; a family registers in time if it would take the place up with its
    information barrier counted twice. On the engine's own path: SGB II families who want a U3 Kita
    place register in time less often than families not in poverty, outreach in every quarter
    (which lowers the information barrier) makes more of them register in time, and the priority key
    puts an early registrant above a late one of the same rank and below the next rank. Negative
    control: under registration at any time the key ignores the registration."""
    with_deadline = [service_id for service_id, svc in load_catalogue().services.items()
                     if isinstance(svc.capacity, Capacity) and svc.capacity.registration == "deadline"]

    def run(registration: str = "deadline", levers: Levers | None = None) -> PreventionChainModel:
        catalogue = _with_services(**{service_id: {"registration": registration} for service_id in with_deadline})
        return PreventionChainModel("baseline", levers=levers, catalogue=catalogue,
                                    seed=5, scale=0.1, years=1, burn_in_years=1, params=params).run()

    def early_share(model: PreventionChainModel, status: int) -> float:
        ch, hh = model.pop.children, model.pop.households
        u3 = model.services.ids.index("u3_kita")
        age = model.t - 1 - ch.birth
        lo, hi = model.catalogue.services["u3_kita"].ages_months
        wants = ch.alive & (age >= lo) & (age <= hi) & ch.takes_up[:, u3] & (hh.status[ch.hh] == status)
        return float(ch.registers_early[wants, u3].mean())

    status_quo = run()
    sgb2, not_poor = early_share(status_quo, 2), early_share(status_quo, 0)
    assert not_poor > sgb2 + 0.1, (sgb2, not_poor)
    outreach = run(levers=Levers(outreach_by_type={k: 1.0 for k in range(1, 6)}))
    assert early_share(outreach, 2) > sgb2 + 0.03, (sgb2, early_share(outreach, 2))

    def keys(model: PreventionChainModel, early: bool) -> np.ndarray:
        system, ch, hh = model.services, model.pop.children, model.pop.households
        u3 = system.ids.index("u3_kita")
        rows = np.flatnonzero(ch.alive)
        saved = ch.registers_early.copy()
        ch.registers_early[:, :] = early
        key = system._priority(u3, rows, system.context(model.t, system.household_key))
        ch.registers_early[:, :] = saved
        return key, hh.employed[ch.hh[rows]]

    late_key, employed = keys(status_quo, False)
    early_key, _ = keys(status_quo, True)
    assert (early_key > late_key).all()
    assert early_key[~employed].max() < late_key[employed].min()  # the deadline orders within a rank only
    any_time = run("any_time")
    assert np.array_equal(keys(any_time, True)[0], keys(any_time, False)[0])


def test_parents_who_do_not_all_work_want_a_u3_place_less(params):
    """Demand for a U3 place follows the parents' work (TakeUp.work_demand, services with
    demand_follows: parents_work). On the engine's own take-up function: for a family in which not
    all parents work the logit is lower by exactly work_demand, for a working family it is the same,
    and a service whose demand does not follow work (the Ü3 place) is untouched (negative controls).
    On the run: fewer children of such families want a U3 place, by a margin."""
    from scipy.special import logit

    def run(work_demand: float) -> PreventionChainModel:
        changed = params.model_copy(update={"takeup": params.takeup.model_copy(update={"work_demand": work_demand})})
        return PreventionChainModel("baseline", seed=5, scale=0.1, years=1, burn_in_years=1, params=changed).run()

    def wanting(model: PreventionChainModel, employed: bool) -> float:
        ch, hh = model.pop.children, model.pop.households
        u3 = model.services.ids.index("u3_kita")
        age = model.t - 1 - ch.birth
        lo, hi = model.catalogue.services["u3_kita"].ages_months
        group = ch.alive & (age >= lo) & (age <= hi) & (hh.employed[ch.hh] == employed)
        return float(ch.takes_up[group, u3].mean())

    strong, none = run(2.0), run(0.0)
    assert wanting(strong, False) < wanting(none, False) - 0.1, (wanting(strong, False), wanting(none, False))

    system, ch, hh = strong.services, strong.pop.children, strong.pop.households
    rows = np.flatnonzero(ch.alive)
    employed = hh.employed[ch.hh[rows]]
    ctx = system.context(strong.t, system.household_key)
    for service_id, lowered_by in (("u3_kita", 2.0), ("ue3_kita", 0.0)):
        s = system.ids.index(service_id)
        with_demand = logit(system.takeup_probability(s, rows, ctx)[0].astype(np.float64))
        saved = system.work_demand[s]
        system.work_demand[s] = 0.0
        without = logit(system.takeup_probability(s, rows, ctx)[0].astype(np.float64))
        system.work_demand[s] = saved
        assert np.allclose(without[~employed] - with_demand[~employed], lowered_by, atol=1e-3), service_id
        assert np.allclose(without[employed], with_demand[employed], atol=1e-6), service_id


def test_lotsen_reach_stops_growing_where_families_do_not_ask(params):
    """60 Lotsen FTE reach the families 20 reach: the engine's capacity counters show the caseload
    unused and nobody turned away, and the families in the age window who do not ask. Negative
    control: with 1 FTE the caseload is full and families go without a contact."""
    from sim.report import limit_of

    def lotse(fte: float) -> pd.Series:
        model = PreventionChainModel("baseline", levers=Levers(lotse_fte=fte), seed=2, scale=0.1, years=2,
                                     burn_in_years=1, params=params)
        table = model.run().capacity_table()
        rows = table[table["service"] == "lotse"]
        out = rows[["capacity", "used", "unserved", "not_asking"]].mean()
        out["used_share"] = out["used"] / out["capacity"]
        return out

    twenty, sixty, one = lotse(20), lotse(60), lotse(1)
    assert sixty["capacity"] == pytest.approx(3 * twenty["capacity"], rel=1e-6)
    assert sixty["used"] == pytest.approx(twenty["used"], rel=0.02), (twenty["used"], sixty["used"])
    assert sixty["unserved"] == 0 and sixty["used_share"] < 0.5 and sixty["not_asking"] > sixty["used"] / 2
    assert limit_of(sixty).startswith("Nachfrage")
    assert one["used_share"] > 0.95 and one["unserved"] > 10, one
    assert limit_of(one).startswith("Kapazität: voll")


def test_the_donor_pool_on_disk_is_made_again_when_the_engine_code_changes(baseline, tmp_path, monkeypatch):
    """The donors' histories come from a status-quo run of the engine: a pool cached by other rules
    must not be reused. Its key changes with any file of sim/engine, and only then."""
    key = history._fingerprint(baseline)
    assert history._fingerprint(baseline) == key, "the key of unchanged inputs must be stable"
    engine = tmp_path / "engine"
    shutil.copytree(history.ENGINE_DIR, engine, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(history, "ENGINE_DIR", engine)
    history.engine_code.cache_clear()
    try:
        assert history._fingerprint(baseline) == key, "a copy of the same code is the same code"
        rule = engine / "mechanisms" / "capacity.py"
        rule.write_text(rule.read_text() + "\n# a changed rule\n")
        history.engine_code.cache_clear()
        assert history._fingerprint(baseline) != key, "a changed mechanism must give a new donor pool"
    finally:
        history.engine_code.cache_clear()
