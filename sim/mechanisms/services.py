"""Offers, take-up, capacity and the chain: what each child uses this month.

Services are stepped in catalogue order; each one is a handful of array operations over the
children in its age window. Four kinds of service differ only in how use is decided:
  - ongoing, no capacity: used while the propensity lies below the take-up probability;
  - once (a visit, a counselling contact): a single contact that lasts `contact_months`;
  - places per Sozialraum (Kita, OGS, plusKITA): demand joins a waiting list and places are
    allocated on the service's date (1 August) by the priority rule, first in the family's own
    Sozialraum, then elsewhere in the Stadtbezirk; places that fall vacant during the year go to
    the waiting list by the same rule; children keep their place;
  - a city-wide caseload (navigators, school social work, youth job centre): FTE × caseload.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logit

from sim import rng
from sim.errors import InputError
from sim.mechanisms.allocation import allocate
from sim.mechanisms.takeup import (  # the shared take-up model, written out per barrier for speed
    APPLY,
    CAP,
    COST,
    COVERED_COST_SHARE,
    DIST,
    INFO,
    LANG,
    TRUST,
    household_key,
    household_traits,
    need_score,
    probability_from_load,
    susceptibility_weights,
)
from sim.params import BARRIERS, DEVELOPMENT_DOMAINS
from sim.population import AUGUST
from sim.services import Capacity

KITA_SERVICES = ("u3_kita", "ue3_kita")
FAMILY_BENEFIT = "kinderzuschlag"
FAR_PLACE_DISTANCE = 1.0  # extra distance barrier of a place in another Sozialraum of the Stadtbezirk: assumption
SIMPLIFIED_APPLICATION = 0.4  # share of the application barrier left by a simplified procedure: assumption
STATUS_INDEX = {"not_poor": 0, "low_income": 1, "sgb2": 2}


class ServiceSystem:
    def __init__(self, model):
        self.model = model
        cat, lev, par = model.catalogue, model.levers, model.params
        self.ids = cat.ids
        self.svc = list(cat.services.values())
        for needed in (*KITA_SERVICES, FAMILY_BENEFIT):
            if needed not in self.ids:
                raise InputError(cat.source, needed, "the engine needs this service in the catalogue", allowed=list(KITA_SERVICES) + [FAMILY_BENEFIT])
        for service_id in set(lev.access) | set(lev.fee_waiver) | set(lev.places_factor) | set(lev.place_shift):
            if service_id not in self.ids:
                raise InputError("levers", service_id, "unknown service", allowed=self.ids)
        S = len(self.ids)
        self.kita = [self.ids.index(k) for k in KITA_SERVICES]
        self.benefit = self.ids.index(FAMILY_BENEFIT)
        self.base_rate = np.array([par.base_rate.get(i, s.base_rate) for i, s in zip(self.ids, self.svc)])
        self.base_logit = logit(np.clip(self.base_rate, 1e-4, 1 - 1e-4)).astype(np.float32)
        self.intensity = cat.barrier_matrix().astype(np.float32)
        for s, service_id in enumerate(self.ids):
            access = lev.access.get(service_id, "standard")
            if access == "automatic":
                self.intensity[s, [INFO, APPLY, TRUST]] = 0.0
            elif access == "simplified":
                self.intensity[s, APPLY] *= SIMPLIFIED_APPLICATION
        self.intensity[:, LANG] *= 1.0 - lev.multilingual_information
        self.waived = np.zeros((S, 3), dtype=bool)
        for s, (service_id, svc) in enumerate(zip(self.ids, self.svc)):
            for status in set(svc.fee_waived_for) | set(lev.fee_waiver.get(service_id, [])):
                self.waived[s, STATUS_INDEX[status]] = True
        self.elasticity = np.array([par.takeup.elasticity[b] for b in BARRIERS], dtype=np.float32)
        self.sus_w = susceptibility_weights(par)
        self.handover_matrix = cat.handover_matrix().astype(np.uint8)
        self.coordination = np.array([lev.coordination_level(svc.phase) for svc in self.svc], dtype=np.float32)
        city = model.city_arrays
        self.n_sr = city.sgb2_share.size
        self.bezirk = city.stadtbezirk.astype(np.int64) - 1
        self.n_bezirke = int(self.bezirk.max()) + 1
        typ = city.sozialraum_typ
        self.outreach_sr = np.array([lev.outreach_by_type.get(int(k), 0.0) for k in typ], dtype=np.float32)
        table = model.city.table
        self.supply_factor = np.ones((S, self.n_sr), dtype=np.float32)
        self.capacity = np.zeros((S, self.n_sr))
        for s, (service_id, svc) in enumerate(zip(self.ids, self.svc)):
            if svc.local_supply:
                self.supply_factor[s] = 1.0 / (1.0 + table[svc.local_supply].to_numpy(float))
            cap = svc.capacity
            if isinstance(cap, Capacity) and cap.fte is None:
                base = table[cap.places].to_numpy(float) if cap.places else table[cap.centres].to_numpy(float) * cap.places_per_centre
                self.capacity[s] = np.round(base * lev.place_multipliers(service_id, typ, base) * model.scale)
        self.pressure = np.zeros((S, self.n_sr), dtype=np.float32)
        self.pressure_changed = np.zeros(S, dtype=bool)
        self.cover = np.array([self.ids.index(svc.cost_covered_by) if svc.cost_covered_by else -1 for svc in self.svc])
        self.slot_carry = np.zeros(S)
        self.effects = np.array([[svc.effects.get(d, 0.0) for d in DEVELOPMENT_DOMAINS] for svc in self.svc], dtype=np.float32)
        only_other = np.array([svc.effects_only_for == "other_language" for svc in self.svc])
        german = self.effects[:, DEVELOPMENT_DOMAINS.index("german")]
        # Columns: the four domains, then German for every child, then German only where German is
        # not spoken at home (plusKITA); development.step combines them.
        self.effect_matrix = np.column_stack(
            [self.effects, np.where(only_other, 0.0, german), np.where(only_other, german, 0.0)]).astype(np.float32)
        self.new_contacts = np.zeros((0, S), dtype=bool)

    # ---- helpers -----------------------------------------------------------------------------
    def fte(self, s: int) -> float:
        cap = self.svc[s].capacity
        return float(getattr(self.model.levers, cap.fte)) if isinstance(cap, Capacity) and cap.fte else 0.0

    def _eligible(self, s: int, ctx: dict) -> np.ndarray:
        svc = self.svc[s]
        ch = self.model.pop.children
        rule = svc.eligibility
        if rule == "all":
            return ctx["alive"]
        if rule == "first_born":
            return ch.first_born
        status = ctx["status"]
        if rule == "low_income":
            return status == 1
        if rule == "but_eligible":
            return (status == 2) | ((status == 1) & ch.use[:, self.benefit])
        if rule == "in_kita":
            return ch.use[:, self.kita].any(axis=1)
        return ctx["in_school"]  # in_school

    def _window(self, s: int, ctx: dict, hold: bool) -> np.ndarray:
        """Children of the right age (and grade) for service s; `hold` keeps places until August."""
        svc = self.svc[s]
        lo, hi = svc.ages_months
        keeps_until_august = hold and isinstance(svc.capacity, Capacity) and svc.capacity.allocation == "august" and not ctx["august"]
        age = ctx["age"]
        if not hold and not ctx["august"] and isinstance(svc.capacity, Capacity) and svc.capacity.midyear_min_age_months:
            lo = max(lo, svc.capacity.midyear_min_age_months)
        ok = ctx["alive"] & (age >= lo) & (age <= (hi + 11 if keeps_until_august else hi))
        if hi < 84:
            ok &= ~ctx["in_school"]
        if svc.school_grades:
            g0, g1 = svc.school_grades
            ok &= ctx["in_school"] & (ctx["grade"] >= g0) & (ctx["grade"] <= g1)
        ok &= self._eligible(s, ctx)
        if svc.requires_any:
            ok &= self.model.pop.children.use[:, [self.ids.index(r) for r in svc.requires_any]].any(axis=1)
        if svc.requires_need:
            d = DEVELOPMENT_DOMAINS.index(svc.requires_need)
            ok &= self.model.pop.children.dev[:, d] < self.model.params.development.deprivation_school_threshold
        return ok

    def _probability(self, s: int, idx: np.ndarray, ctx: dict, extra_distance: float = 0.0) -> np.ndarray:
        """Take-up probability of service s for the children idx: the barrier load of
        sim.mechanisms.takeup summed barrier by barrier (only the barriers the service has)."""
        ch = self.model.pop.children
        svc = self.svc[s]
        h = ch.hh[idx]
        sr = ctx["sr_hh"][h]
        tp = self.model.params.takeup
        sus = ctx["susceptibility"]
        load = np.zeros(idx.size, dtype=np.float32)
        lowered = None
        for b in np.flatnonzero(self.intensity[s]):
            term = self.elasticity[b] * self.intensity[s, b] * sus[h, b]
            if b in (INFO, TRUST):
                if lowered is None:
                    lowered = (1 - tp.outreach_strength * self.outreach_sr[sr]) * (
                        1 - tp.handover_strength * ch.handover[idx, s])
                term = term * lowered
            elif b == DIST:
                term = term * self.supply_factor[s, sr]
            elif b == CAP:
                term = term * self.pressure[s, sr]
            elif b == COST:
                term = term * ~self.waived[s, ctx["status_hh"][h]]
                if svc.cost_covered_by:
                    term = term * np.where(ch.use[idx, self.ids.index(svc.cost_covered_by)], COVERED_COST_SHARE, 1.0)
            load += term
        if extra_distance:
            load += self.elasticity[DIST] * extra_distance * sus[h, DIST]
        need = svc.need_targeting * ctx["need_hh"][h] if svc.need_targeting else 0.0
        return probability_from_load(self.base_logit[s], load, need)

    def _wants(self, s: int, candidates: np.ndarray, ctx: dict) -> np.ndarray:
        """The candidates who take service s up (rows, ascending)."""
        ch = self.model.pop.children
        self._refresh_service(s, ctx)
        return np.flatnonzero(candidates & ch.takes_up[:, s])

    # ---- the take-up cache -------------------------------------------------------------------
    # A child's take-up probability depends only on its family's traits and Sozialraum, its warm
    # handovers, whether the service covering its cost is used (sports club: BuT), and the waiting
    # pressure of last August. These change for few children in a month, so each decision
    # (propensity < p) is kept in `takes_up` and re-made only where an input changed. This gives
    # exactly the decisions of re-deciding every child every month, at a fraction of the work.
    def _decide(self, s: int, rows: np.ndarray, ctx: dict) -> None:
        ch = self.model.pop.children
        if rows.size:
            ch.takes_up[rows, s] = ch.propensity[rows, s] < self._probability(s, rows, ctx)
        if self.cover[s] >= 0:
            ch.cover_seen[rows, s] = ch.use[rows, self.cover[s]]

    def _refresh_takeup(self, ctx: dict) -> None:
        """Re-decide every service for new children, children whose family changed (traits,
        poverty status, employment, Sozialraum) and children with a new warm handover."""
        ch, hh = self.model.pop.children, self.model.pop.households
        key = household_key(hh)
        changed = key != hh.takeup_key
        hh.takeup_key[changed] = key[changed]
        rows = np.flatnonzero(ch.alive & (ch.takeup_stale | changed[ch.hh]))
        for s in range(len(self.svc)):
            self._decide(s, rows, ctx)
        ch.takeup_stale[:] = False

    def _refresh_service(self, s: int, ctx: dict) -> None:
        """Re-decide service s where its own inputs changed: pressure (everyone, once a year) or
        the use of the service that covers its cost (only the children where that changed)."""
        ch = self.model.pop.children
        if self.pressure_changed[s]:
            self.pressure_changed[s] = False
            self._decide(s, np.flatnonzero(ch.alive), ctx)
        elif self.cover[s] >= 0:
            moved = ch.use[:, self.cover[s]] != ch.cover_seen[:, s]
            self._decide(s, np.flatnonzero(moved & ch.alive), ctx)

    def _priority(self, s: int, idx: np.ndarray, ctx: dict) -> np.ndarray:
        ch = self.model.pop.children
        cap = self.svc[s].capacity
        h = ch.hh[idx]
        if cap.priority == "need" or self.model.levers.priority_rule == "need_based":
            key = ctx["need_hh"][h].astype(np.float64)
        else:
            hh = self.model.pop.households
            employed = hh.employed[h]
            key = 2.0 * employed + (employed & hh.single_parent[h])
        if cap.continuity_from:
            key = key + 100.0 * ch.use[idx][:, [self.ids.index(c) for c in cap.continuity_from]].any(axis=1)
        return key

    # ---- the monthly step --------------------------------------------------------------------
    def step(self, t: int) -> None:
        pop = self.model.pop
        ch, hh = pop.children, pop.households
        traits = household_traits(pop)
        status_hh = hh.status.astype(np.int64)
        age = t - ch.birth
        in_school = t >= ch.school_start
        ctx = {
            "alive": ch.alive,
            "age": age,
            "in_school": in_school,
            "grade": np.where(in_school, (t - ch.school_start) // 12 + 1, 0),
            "august": t % 12 == AUGUST,
            "status_hh": status_hh,
            "status": status_hh[ch.hh],
            "sr_hh": hh.sozialraum.astype(np.int64),
            "susceptibility": self.sus_w[0] + traits @ self.sus_w[1:],
            "need_hh": need_score(traits, self.model.params),
        }
        self._refresh_takeup(ctx)
        for s, svc in enumerate(self.svc):
            cap = svc.capacity
            if not isinstance(cap, Capacity):
                if svc.mode == "once":
                    self._step_once(s, t, ctx, slots=None)
                else:
                    window = self._window(s, ctx, hold=False)
                    use = np.zeros(ch.n, dtype=bool)
                    use[self._wants(s, window, ctx)] = True
                    ch.use[:, s] = use
            elif cap.fte is not None:
                slots = self.fte(s) * self.model.scale * cap.caseload_per_fte_year
                if svc.mode == "once":
                    self._step_once(s, t, ctx, slots=slots / 12)
                else:
                    self._step_caseload(s, t, ctx, slots)
            else:
                self._step_places(s, t, ctx)
        self._record_contacts(t, age)

    def _step_once(self, s: int, t: int, ctx: dict, slots: float | None) -> None:
        ch = self.model.pop.children
        window = self._window(s, ctx, hold=False)
        wants = self._wants(s, window & ~ch.ever[:, s], ctx)
        if slots is not None:
            self.slot_carry[s] += slots
            free = np.array([int(self.slot_carry[s])])
            wants = wants[self._allocate(s, wants, np.zeros(wants.size, dtype=np.int64), free, ctx, t)]
            self.slot_carry[s] -= wants.size
        ch.until[wants, s] = t + self.svc[s].contact_months
        ch.use[:, s] = ctx["alive"] & (ch.until[:, s] > t)

    def _step_caseload(self, s: int, t: int, ctx: dict, capacity: float) -> None:
        ch = self.model.pop.children
        window = self._window(s, ctx, hold=False)
        clients = window & ch.use[:, s] & (ch.until[:, s] > t)
        free = np.array([max(int(capacity) - int(clients.sum()), 0)])
        wants = self._wants(s, window & ~clients, ctx)
        wants = wants[self._allocate(s, wants, np.zeros(wants.size, dtype=np.int64), free, ctx, t)]
        ch.until[wants, s] = t + self.svc[s].contact_months
        clients[wants] = True
        ch.use[:, s] = clients

    def _step_places(self, s: int, t: int, ctx: dict) -> None:
        ch = self.model.pop.children
        svc = self.svc[s]
        placed = ch.place[:, s] >= 0
        release = placed & ~self._window(s, ctx, hold=True)
        ch.place[release, s] = -1
        placed &= ~release
        candidates = self._window(s, ctx, hold=False) & ~placed
        for other, o_svc in enumerate(self.svc):  # a child holds a place in one of two alternatives only
            if isinstance(o_svc.capacity, Capacity) and o_svc.capacity.alternative_to == self.ids[s]:
                candidates &= ch.place[:, other] < 0
        if svc.capacity.alternative_to:
            candidates &= ch.place[:, self.ids.index(svc.capacity.alternative_to)] < 0
        wants = self._wants(s, candidates, ctx)
        groups = ctx["sr_hh"][ch.hh[wants]]
        occupied = np.bincount(ch.place[placed, s], minlength=self.n_sr)
        free = np.maximum(self.capacity[s] - occupied, 0).astype(np.int64)
        if free.any():
            accepted = self._allocate(s, wants, groups, free, ctx, t)
        else:  # no vacancy anywhere: everyone who wants a place waits (and nothing needs sorting)
            accepted = np.zeros(wants.size, dtype=bool)
        ch.place[wants[accepted], s] = groups[accepted]
        free -= np.bincount(groups[accepted], minlength=self.n_sr)
        accepted |= self._place_elsewhere_in_bezirk(s, wants, ~accepted, free, ctx, t)
        ch.waiting[:, s] = False
        ch.waiting[wants[~accepted], s] = True
        if ctx["august"]:
            demand = np.bincount(groups, minlength=self.n_sr)
            unmet = np.bincount(groups[~accepted], minlength=self.n_sr)
            self.pressure[s] = unmet / np.maximum(demand, 1)
            self.pressure_changed[s] = bool(self.intensity[s, CAP])
        ch.use[:, s] = ch.place[:, s] >= 0

    def _place_elsewhere_in_bezirk(self, s, wants, unplaced, free, ctx, t) -> np.ndarray:
        """Second round: free places in other Sozialräume of the same Stadtbezirk, for the applicants
        who still take the service with the longer way (distance barrier raised by FAR_PLACE_DISTANCE).
        Returns which of `wants` got such a place."""
        ch = self.model.pop.children
        got = np.zeros(wants.size, dtype=bool)
        rest = np.flatnonzero(unplaced)
        if rest.size == 0 or not free.any():
            return got
        p_far = self._probability(s, wants[rest], ctx, extra_distance=FAR_PLACE_DISTANCE)
        rest = rest[ch.propensity[wants[rest], s] < p_far]
        bezirk = self.bezirk[ctx["sr_hh"][ch.hh[wants[rest]]]]
        free_bezirk = np.bincount(self.bezirk, weights=free, minlength=self.n_bezirke).astype(np.int64)
        ok = self._allocate(s, wants[rest], bezirk, free_bezirk, ctx, t)
        rest, bezirk = rest[ok], bezirk[ok]
        order = np.argsort(bezirk, kind="stable")
        rest, bezirk = rest[order], bezirk[order]
        # Hand out concrete Sozialräume: the free places of each Stadtbezirk, one after another.
        by_bezirk = np.argsort(self.bezirk, kind="stable")
        slots = np.repeat(by_bezirk, free[by_bezirk])
        first_slot = np.searchsorted(self.bezirk[slots], bezirk)
        rank = np.arange(bezirk.size) - np.searchsorted(bezirk, bezirk)
        ch.place[wants[rest], s] = slots[first_slot + rank]
        got[rest] = True
        return got

    def _allocate(self, s, wants, groups, free, ctx, t) -> np.ndarray:
        ch = self.model.pop.children
        key = self._priority(s, wants, ctx)

        def tiebreak(rows: np.ndarray) -> np.ndarray:
            return rng.uniforms(self.model.seed, f"priority:{s}", ch.cid[wants[rows]], t)

        return allocate(groups, free, key, tiebreak)

    def _record_contacts(self, t: int, age: np.ndarray) -> None:
        """First contacts, dose, Kita entry and warm handovers to the next services in the chain."""
        ch = self.model.pop.children
        new = ch.use & ~ch.ever
        self.new_contacts = new
        rows = np.flatnonzero(new.any(axis=1))
        if rows.size:
            ch.first_age[rows] = np.where(new[rows], age[rows, None], ch.first_age[rows])
            ch.ever[rows] |= new[rows]
            reached = (ch.ever[rows].astype(np.uint8) @ self.handover_matrix) > 0
            gained = reached & (ch.handover_draw[rows] < self.coordination) & ~ch.handover[rows]
            ch.handover[rows] |= gained
            ch.takeup_stale[rows[gained.any(axis=1)]] = True
        ch.dose += ch.use
        entering = (ch.kita_entry_age < 0) & ch.use[:, self.kita].any(axis=1)
        ch.kita_entry_age[entering] = age[entering]
