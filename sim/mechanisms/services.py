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
    TRAIT_CODES,
    TRUST,
    household_key,
    need_score,
    probability_from_load,
    susceptibility_weights,
    traits_of_code,
)
from sim.params import BARRIERS, DEVELOPMENT_DOMAINS
from sim.population import AUGUST
from sim.services import Capacity

KITA_SERVICES = ("u3_kita", "ue3_kita")
FAMILY_BENEFIT = "kinderzuschlag"
FAR_PLACE_DISTANCE = 1.0  # extra distance barrier of a place in another Sozialraum of the Stadtbezirk: assumption
SIMPLIFIED_APPLICATION = 0.4  # share of the application barrier left by a simplified procedure: assumption
STATUS_INDEX = {"not_poor": 0, "low_income": 1, "sgb2": 2}
# What a capacity-limited service did each month (children in the simulated sample, summed over the
# months of a year): the columns of ServiceSystem.capacity_months.
CAPACITY_USE = ("capacity", "used", "unserved", "not_asking")


class ServiceSystem:
    def __init__(self, model):
        self.model = model
        cat, par = model.catalogue, model.params
        self.ids = cat.ids
        self.svc = list(cat.services.values())
        for needed in (*KITA_SERVICES, FAMILY_BENEFIT):
            if needed not in self.ids:
                raise InputError(cat.source, needed, "the engine needs this service in the catalogue", allowed=list(KITA_SERVICES) + [FAMILY_BENEFIT])
        S = len(self.ids)
        self.kita = [self.ids.index(k) for k in KITA_SERVICES]
        self.benefit = self.ids.index(FAMILY_BENEFIT)
        self.base_rate = np.array([par.base_rate.get(i, s.base_rate) for i, s in zip(self.ids, self.svc)])
        self.base_logit = logit(np.clip(self.base_rate, 1e-4, 1 - 1e-4)).astype(np.float32)
        self.catalogue_intensity = cat.barrier_matrix().astype(np.float32)
        self.elasticity = np.array([par.takeup.elasticity[b] for b in BARRIERS], dtype=np.float32)
        self.sus_w = susceptibility_weights(par)
        # Susceptibility and need depend on the household's traits alone: computed once for each
        # combination (the same products, row by row) and looked up by the trait bits of its key.
        traits = traits_of_code(np.arange(TRAIT_CODES))
        self.sus_by_traits = self.sus_w[0] + traits @ self.sus_w[1:]
        self.need_by_traits = need_score(traits, par)
        # float32, so that the product below goes through BLAS (the counts are exact integers);
        # an integer matrix product is ten times slower.
        self.handover_matrix = cat.handover_matrix().astype(np.float32)
        city = model.city_arrays
        self.n_sr = city.sgb2_share.size
        self.bezirk = city.stadtbezirk.astype(np.int64) - 1
        self.n_bezirke = int(self.bezirk.max()) + 1
        table = model.city.table
        self.supply_factor = np.ones((S, self.n_sr), dtype=np.float32)
        # Places per Sozialraum of the status quo (city scale), for the services with local places.
        self.base_places = np.zeros((S, self.n_sr))
        for s, svc in enumerate(self.svc):
            if svc.local_supply:
                self.supply_factor[s] = 1.0 / (1.0 + table[svc.local_supply].to_numpy(float))
            cap = svc.capacity
            if isinstance(cap, Capacity) and cap.fte is None:
                self.base_places[s] = table[cap.places].to_numpy(float) if cap.places else \
                    table[cap.centres].to_numpy(float) * cap.places_per_centre
        # The services whose places exclude a place in s: those that are its alternative, then the
        # one it is the alternative to.
        self.alternatives = [[o for o, other in enumerate(self.svc) if isinstance(other.capacity, Capacity)
                              and other.capacity.alternative_to == service_id]
                             + ([self.ids.index(svc.capacity.alternative_to)]
                                if isinstance(svc.capacity, Capacity) and svc.capacity.alternative_to else [])
                             for service_id, svc in zip(self.ids, self.svc)]
        self.local_places = np.array([isinstance(svc.capacity, Capacity) and svc.capacity.fte is None for svc in self.svc])
        self.registration_deadline = np.array([isinstance(svc.capacity, Capacity) and svc.capacity.registration == "deadline"
                                               for svc in self.svc])
        self.pressure = np.zeros((S, self.n_sr), dtype=np.float32)
        self.pressure_changed = np.zeros(S, dtype=bool)
        self.cover = np.array([self.ids.index(svc.cost_covered_by) if svc.cost_covered_by else -1 for svc in self.svc])
        self.slot_carry = np.zeros(S)
        scale = par.development.effect_scale
        self.effects = np.array([[svc.effects.get(d, 0.0) * scale[d] for d in DEVELOPMENT_DOMAINS] for svc in self.svc],
                                dtype=np.float32)
        only_other = np.array([svc.effects_only_for == "other_language" for svc in self.svc])
        german = self.effects[:, DEVELOPMENT_DOMAINS.index("german")]
        # Columns: the four domains, then German for every child, then German only where German is
        # not spoken at home (plusKITA); development.step combines them.
        self.effect_matrix = np.column_stack(
            [self.effects, np.where(only_other, 0.0, german), np.where(only_other, german, 0.0)]).astype(np.float32)
        self.effective = np.flatnonzero(self.effect_matrix.any(axis=1))  # the services with any effect
        # This month's first contacts: the rows that made one, and (rows × services) which.
        self.new_contacts = (np.zeros(0, dtype=np.int64), np.zeros((0, S), dtype=bool))
        # Applicants for places in the last August allocation, per service and Sozialraum (what a
        # need-based allocation has to assess; sim.mechanisms.costs prices it).
        self.august_applicants = np.zeros((S, self.n_sr))
        # Why a lever's reach stops growing: per year and service the capacity (cases at a time,
        # monthly contacts or places), what of it was used, who asked and got nothing, and who
        # was in the service's age and group but did not ask (CAPACITY_USE).
        self.capacity_months = np.zeros((model.n_years_total, S, len(CAPACITY_USE)))
        self.set_levers(model.levers)

    def set_levers(self, lev) -> None:
        """Everything the levers decide: barrier intensities, fee waivers, warm-handover levels,
        outreach coverage and places. Called at the start and whenever a lever's scheduled level
        changes (sim.levers.LeverSchedule); every take-up decision is then made again."""
        for service_id in set(lev.access) | set(lev.fee_waiver) | set(lev.places_factor) | set(lev.place_shift):
            if service_id not in self.ids:
                raise InputError("levers", service_id, "unknown service", allowed=self.ids)
        S = len(self.ids)
        self.intensity = self.catalogue_intensity.copy()
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
        # Per service, its barriers and their weights elasticity × intensity (float32 products).
        self.barrier_weights = [[(int(b), self.elasticity[b] * self.intensity[s, b]) for b in np.flatnonzero(self.intensity[s])]
                                for s in range(S)]
        self.coordination = np.array([lev.coordination_level(svc.phase) for svc in self.svc], dtype=np.float32)
        # Per service, the next services a contact there can hand a family over to (coordination > 0).
        self.handover_to = [np.flatnonzero(self.handover_matrix[s] * (self.coordination > 0)) for s in range(S)]
        self.handover_sources = np.array([s for s in range(S) if self.handover_to[s].size], dtype=np.int64)
        typ = self.model.city_arrays.sozialraum_typ
        self.outreach_sr = np.array([lev.outreach_by_type.get(int(k), 0.0) for k in typ], dtype=np.float32)
        # Places provided (city scale, whether filled or not) and, of them, the places that
        # places_factor adds beyond the status quo (a shift moves places, it builds none).
        self.places = np.zeros((S, self.n_sr))
        self.added_places = np.zeros((S, self.n_sr))
        for s, service_id in enumerate(self.ids):
            if not self.local_places[s]:
                continue
            base = self.base_places[s]
            self.places[s] = base * lev.place_multipliers(service_id, typ, base)
            self.added_places[s] = np.maximum(base * lev.place_multipliers(service_id, typ, base, shift=False) - base, 0.0)
        self.capacity = np.round(self.places * self.model.scale)
        self.model.pop.children.takeup_pending[:] = True

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
        if rule == "low_income":
            return ctx["low_income"]
        if rule == "but_eligible":
            return ctx["sgb2"] | (ctx["low_income"] & ch.use[:, self.benefit])
        if rule == "in_kita":
            return self._uses_any(self.kita)
        return ctx["in_school"]  # in_school

    def _uses_any(self, services: list[int]) -> np.ndarray:
        """Children using any of the services (column by column: cheaper than .any(axis=1))."""
        use = self.model.pop.children.use
        out = use[:, services[0]].copy()
        for s in services[1:]:
            out |= use[:, s]
        return out

    def _window(self, s: int, ctx: dict, hold: bool, group: np.ndarray | None = None) -> np.ndarray:
        """Children of the right age (and grade) for service s; `hold` keeps places until August.
        `group` may pass in a _group mask already made this month."""
        return self._ages(s, ctx, hold) & (self._group(s, ctx) if group is None else group)

    def _ages(self, s: int, ctx: dict, hold: bool) -> np.ndarray:
        svc = self.svc[s]
        lo, hi = svc.ages_months
        if hold and isinstance(svc.capacity, Capacity) and svc.capacity.allocation == "august" and not ctx["august"]:
            hi += 11
        if not hold and not ctx["august"] and isinstance(svc.capacity, Capacity) and svc.capacity.midyear_min_age_months:
            lo = max(lo, svc.capacity.midyear_min_age_months)
        # lo <= age <= hi in one comparison: below lo wraps round to a large unsigned number.
        return (ctx["age8"] - np.uint8(lo)) <= np.uint8(hi - lo)

    def _group(self, s: int, ctx: dict) -> np.ndarray:
        """Present children whom service s is for, whatever their age: school, grade, eligibility."""
        svc = self.svc[s]
        ch = self.model.pop.children
        ok = ctx["alive"] & self._eligible(s, ctx)
        if svc.ages_months[1] < 84:
            ok &= ctx["before_school"]
        if svc.school_grades:
            g0, g1 = svc.school_grades
            # grade g0..g1 = month 12 (g0 - 1) .. 12 g1 - 1 since school entry
            ok &= ctx["in_school"] & ((ctx["school_months"] - np.int32(12 * (g0 - 1))).view(np.uint32) <= 12 * (g1 - g0 + 1) - 1)
        if svc.requires_any:
            ok &= self._uses_any([self.ids.index(r) for r in svc.requires_any])
        if svc.requires_need:
            d = DEVELOPMENT_DOMAINS.index(svc.requires_need)
            ok &= ch.dev[:, d] < self.model.params.development.need_threshold
        return ok

    def takeup_probability(self, s: int, idx: np.ndarray, ctx: dict, far: bool = False,
                           early: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Take-up probability of service s for the children idx: the barrier load of
        sim.mechanisms.takeup summed barrier by barrier (only the barriers the service has).
        With `far`, also the probability for a place elsewhere in the Stadtbezirk, with `early` the
        probability of registering before the main allocation round (each None if not asked)."""
        ch = self.model.pop.children
        svc = self.svc[s]
        h = ch.hh[idx]
        sr = ctx["sr_hh"][h]
        traits = ctx["traits_hh"][h]
        tp = self.model.params.takeup
        sus = self.sus_by_traits[traits]
        load = np.zeros(idx.size, dtype=np.float32)
        lowered = None
        information = None
        for b, weight in self.barrier_weights[s]:
            term = weight * sus[:, b]
            if b in (INFO, TRUST):
                if lowered is None:
                    lowered = (1 - tp.outreach_strength * self.outreach_sr[sr]) * (
                        1 - tp.handover_strength * ch.handover[:, s][idx])
                term = term * lowered
                if b == INFO:
                    information = term
            elif b == DIST:
                term = term * self.supply_factor[s, sr]
            elif b == CAP:
                term = term * self.pressure[s, sr]
            elif b == COST:
                term = term * ~self.waived[s, ctx["status_hh"][h]]
                if svc.cost_covered_by:
                    term = term * np.where(ch.use[:, self.cover[s]][idx], COVERED_COST_SHARE, 1.0)
            load += term
        need = svc.need_targeting * self.need_by_traits[traits] if svc.need_targeting else 0.0
        p = probability_from_load(self.base_logit[s], load, need)
        p_early = None
        if early:
            # Registering before the deadline takes knowing the system early: a family registers
            # early if it would take the place up even with its information barrier counted twice
            # (the factor two is an assumption). Outreach and a warm handover lower that term too.
            extra = information if information is not None else 0.0
            p_early = probability_from_load(self.base_logit[s], load + extra, need)
        if not far:
            return p, None, p_early
        load += self.elasticity[DIST] * FAR_PLACE_DISTANCE * sus[:, DIST]
        return p, probability_from_load(self.base_logit[s], load, need), p_early

    def _wants(self, s: int, candidates: np.ndarray, ctx: dict) -> np.ndarray:
        """The candidates who take service s up (rows, ascending)."""
        return np.flatnonzero(self._takes_up(s, candidates, ctx))

    # ---- the take-up cache -------------------------------------------------------------------
    # A child's take-up probability depends only on its family's traits and Sozialraum, its warm
    # handovers, whether the service covering its cost is used (sports club: BuT), and the waiting
    # pressure of last August. These change for few children in a month, so each decision
    # (propensity < p) is kept in `takes_up` (for places also with the longer way to another
    # Sozialraum, in `takes_up_far`). A change of an input only marks the decision
    # pending; it is re-made when the child is next a candidate for the service. This gives
    # exactly the decisions of re-deciding every child every month, at a fraction of the work.
    def _takes_up(self, s: int, candidates: np.ndarray, ctx: dict) -> np.ndarray:
        """Mask of the candidates who take service s up."""
        ch = self.model.pop.children
        self._mark_service_inputs(s)
        pending = ch.takeup_pending[:, s]
        rows = np.flatnonzero(candidates & pending)
        if rows.size:
            propensity = self.model.pop.propensity(s, rows)
            # For places also whether a place further away would be taken.
            p, p_far, p_early = self.takeup_probability(s, rows, ctx, far=self.local_places[s],
                                                        early=self.registration_deadline[s])
            ch.takes_up[:, s][rows] = propensity < p
            if p_far is not None:
                ch.takes_up_far[:, s][rows] = propensity < p_far
            if p_early is not None:
                ch.registers_early[:, s][rows] = propensity < p_early
            if self.cover[s] >= 0:
                ch.cover_seen[:, s][rows] = ch.use[:, self.cover[s]][rows]
            pending[rows] = False
        return candidates & ch.takes_up[:, s]

    def _mark_family_changes(self) -> np.ndarray:
        """Mark every decision pending for children whose family changed (traits, poverty
        status, employment, Sozialraum). New children start pending. Returns household_key,
        which is also kept for this month, with the rows of `family_changed` (development reads both)."""
        ch, hh = self.model.pop.children, self.model.pop.households
        key = household_key(hh)
        changed = key != hh.takeup_key
        self.family_changed = np.zeros(0, dtype=np.int64)
        if changed.any():
            hh.takeup_key[changed] = key[changed]
            # By row index: assigning through a boolean mask over all rows is far slower.
            self.family_changed = np.flatnonzero(changed[ch.hh])
            ch.takeup_pending[self.family_changed] = True
        self.household_key = key
        return key

    def _mark_service_inputs(self, s: int) -> None:
        """Mark service s pending where its own inputs changed: pressure (everyone, once a
        year) or the use of the service that covers its cost."""
        ch = self.model.pop.children
        if self.pressure_changed[s]:
            self.pressure_changed[s] = False
            ch.takeup_pending[:, s] = True
        elif self.cover[s] >= 0:
            ch.takeup_pending[:, s] |= ch.use[:, self.cover[s]] != ch.cover_seen[:, s]

    def _priority(self, s: int, idx: np.ndarray, ctx: dict) -> np.ndarray:
        ch = self.model.pop.children
        cap = self.svc[s].capacity
        h = ch.hh[idx]
        if cap.priority == "need" or self.model.levers.priority_rule == "need_based":
            key = self.need_by_traits[ctx["traits_hh"][h]].astype(np.float64)
        else:
            hh = self.model.pop.households
            employed = hh.employed[h]
            key = 2.0 * employed + (employed & hh.single_parent[h])
            if cap.registration == "deadline":
                # Within each rank the main round takes the families registered before its deadline
                # first (Kita-Navigator: entries before 1 February count for August, see services.yaml);
                # a family registered early for an alternative with the same deadline counts too (one
                # application; Kindertagespflege has no deadline, so its flags stay False).
                early = ch.registers_early[:, s][idx]
                for other in self.alternatives[s]:
                    early = early | ch.registers_early[:, other][idx]
                key = key + 0.5 * early
        if cap.continuity_from:
            key = key + 100.0 * self._uses_any([self.ids.index(c) for c in cap.continuity_from])[idx]
        return key

    # ---- the monthly step --------------------------------------------------------------------
    def context(self, t: int, key: np.ndarray) -> dict:
        """What every service's decision this month reads: ages, school, poverty, the family's
        Sozialraum and trait code (`key` from take-up's household_key)."""
        pop = self.model.pop
        ch, hh = pop.children, pop.households
        status_hh = hh.status.astype(np.int64)
        status = hh.status[ch.hh]
        age = t - ch.birth
        in_school = t >= ch.school_start
        return {
            "alive": ch.alive,
            "age": age,
            "age8": np.minimum(age, 255).astype(np.uint8),  # 255: older than every age window
            "in_school": in_school,
            "before_school": ~in_school,
            "school_months": t - ch.school_start,  # negative before school entry
            "august": t % 12 == AUGUST,
            "status_hh": status_hh,
            "sgb2": status == 2,
            "low_income": status == 1,
            "sr_hh": hh.sozialraum.astype(np.int64),
            "traits_hh": key % TRAIT_CODES,  # row of sus_by_traits and need_by_traits
        }

    def step(self, t: int) -> None:
        ctx = self.context(t, self._mark_family_changes())
        ch = self.model.pop.children
        for s, svc in enumerate(self.svc):
            cap = svc.capacity
            if not isinstance(cap, Capacity):
                if svc.mode == "once":
                    self._step_once(s, t, ctx, slots=None)
                else:
                    window = self._window(s, ctx, hold=False)
                    ch.use[:, s] = self._takes_up(s, window, ctx)
            elif cap.fte is not None:
                slots = self.fte(s) * self.model.scale * cap.caseload_per_fte_year
                if svc.mode == "once":
                    self._step_once(s, t, ctx, slots=slots / 12)
                else:
                    self._step_caseload(s, t, ctx, slots)
            else:
                self._step_places(s, t, ctx)
        self._record_contacts(t, ctx["age"])

    def _count_capacity(self, s: int, t: int, capacity: float, used: int, unserved: int, not_asking: int) -> None:
        self.capacity_months[t // 12, s] += (capacity, used, unserved, not_asking)

    def _step_once(self, s: int, t: int, ctx: dict, slots: float | None) -> None:
        ch = self.model.pop.children
        window = self._window(s, ctx, hold=False)
        open_ = window & ~ch.ever[:, s]
        wants = self._wants(s, open_, ctx)
        if slots is not None:
            self.slot_carry[s] += slots
            free = np.array([int(self.slot_carry[s])])
            asking = wants.size
            wants = wants[self._allocate(s, wants, np.zeros(wants.size, dtype=np.int64), free, ctx, t)]
            # The fraction of a contact is carried into the next month; whole contacts not asked
            # for lapse (a counsellor's unused hours are not banked for later months).
            self.slot_carry[s] = (self.slot_carry[s] - wants.size) % 1.0
            self._count_capacity(s, t, slots, wants.size, asking - wants.size,
                                 int(np.count_nonzero(open_)) - asking)
        until = ch.until[:, s]  # (a view: column slices of the tables write through)
        until[wants] = t + self.svc[s].contact_months
        ch.use[:, s] = ctx["alive"] & (until > t)

    def _step_caseload(self, s: int, t: int, ctx: dict, capacity: float) -> None:
        ch = self.model.pop.children
        window = self._window(s, ctx, hold=False)
        until = ch.until[:, s]
        clients = window & ch.use[:, s] & (until > t)
        free = np.array([max(int(capacity) - int(np.count_nonzero(clients)), 0)])
        wants = self._wants(s, window & ~clients, ctx)
        asking = wants.size
        wants = wants[self._allocate(s, wants, np.zeros(wants.size, dtype=np.int64), free, ctx, t)]
        until[wants] = t + self.svc[s].contact_months
        clients[wants] = True
        ch.use[:, s] = clients
        served = int(np.count_nonzero(clients))
        self._count_capacity(s, t, int(capacity), served, asking - wants.size,
                             int(np.count_nonzero(window)) - served - (asking - wants.size))

    def _step_places(self, s: int, t: int, ctx: dict) -> None:
        ch = self.model.pop.children
        svc = self.svc[s]
        place = ch.place[:, s]  # a view: writes go into the table
        placed = place >= 0
        group = self._group(s, ctx)
        release = placed & ~self._window(s, ctx, hold=True, group=group)
        placed &= ~release
        place[np.flatnonzero(release)] = -1  # (by row index: a boolean-mask write is slower)
        candidates = self._window(s, ctx, hold=False, group=group) & ~placed
        for other in self.alternatives[s]:  # a child holds a place in one of two alternatives only
            candidates &= ch.place[:, other] < 0
        wants = self._wants(s, candidates, ctx)
        for other in self.alternatives[s]:
            # A family waiting for the alternative (Kindertagespflege for a U3 Kita place, and back)
            # takes a vacancy here: it looks for care for its child, not for one kind of place
            # (families register in both of Düsseldorf's systems, the Kita-Navigator with up to 15 Kitas and
            # the Kindertagespflege-Navigator, to lower their risk: RP 14.01.2022, RP 03.2018; that every
            # waiting family takes the other kind of place is an assumption).
            wants = np.union1d(wants, np.flatnonzero(candidates & ch.waiting[:, other]))
        groups = ctx["sr_hh"][ch.hh[wants]]
        occupied = np.bincount(place.take(np.flatnonzero(placed)), minlength=self.n_sr)
        free = np.maximum(self.capacity[s] - occupied, 0).astype(np.int64)
        if free.any():
            accepted = self._allocate(s, wants, groups, free, ctx, t)
        else:  # no vacancy anywhere: everyone who wants a place waits (and nothing needs sorting)
            accepted = np.zeros(wants.size, dtype=bool)
        place[wants[accepted]] = groups[accepted]
        free -= np.bincount(groups[accepted], minlength=self.n_sr)
        accepted |= self._place_elsewhere_in_bezirk(s, wants, ~accepted, free, ctx, t)
        waiting = ch.waiting[:, s]
        waiting[:] = False
        waiting[wants[~accepted]] = True
        self._count_capacity(s, t, self.capacity[s].sum(), int(np.count_nonzero(place >= 0)), int(np.count_nonzero(~accepted)),
                             int(np.count_nonzero(candidates)) - wants.size)
        if ctx["august"]:
            demand = np.bincount(groups, minlength=self.n_sr)
            self.august_applicants[s] = demand / self.model.scale
            unmet = np.bincount(groups[~accepted], minlength=self.n_sr)
            self.pressure[s] = unmet / np.maximum(demand, 1)
            self.pressure_changed[s] = bool(self.intensity[s, CAP])
        ch.use[:, s] = place >= 0

    def _place_elsewhere_in_bezirk(self, s, wants, unplaced, free, ctx, t) -> np.ndarray:
        """Second round: free places in other Sozialräume of the same Stadtbezirk, for the applicants
        who still take the service with the longer way (distance barrier raised by FAR_PLACE_DISTANCE).
        Returns which of `wants` got such a place."""
        ch = self.model.pop.children
        got = np.zeros(wants.size, dtype=bool)
        if not free.any():
            return got
        free_bezirk = np.bincount(self.bezirk, weights=free, minlength=self.n_bezirke).astype(np.int64)
        rest = np.flatnonzero(unplaced & ch.takes_up_far[:, s][wants])
        if rest.size == 0:
            return got
        bezirk = self.bezirk[ctx["sr_hh"][ch.hh[wants[rest]]]]
        ok = self._allocate(s, wants[rest], bezirk, free_bezirk, ctx, t)
        rest, bezirk = rest[ok], bezirk[ok]
        order = np.argsort(bezirk, kind="stable")
        rest, bezirk = rest[order], bezirk[order]
        # Hand out concrete Sozialräume: the free places of each Stadtbezirk, one after another.
        by_bezirk = np.argsort(self.bezirk, kind="stable")
        slots = np.repeat(by_bezirk, free[by_bezirk])
        first_slot = np.searchsorted(self.bezirk[slots], bezirk)
        rank = np.arange(bezirk.size) - np.searchsorted(bezirk, bezirk)
        ch.place[:, s][wants[rest]] = slots[first_slot + rank]
        got[rest] = True
        return got

    def _allocate(self, s, wants, groups, free, ctx, t) -> np.ndarray:
        ch = self.model.pop.children
        key = self._priority(s, wants, ctx)

        def tiebreak(rows: np.ndarray) -> np.ndarray:
            return rng.uniforms(self.model.seed, f"priority:{s}", ch.cid[wants[rows]], t)

        return allocate(groups, free, key, tiebreak)

    def _hand_over(self, t: int, age: np.ndarray) -> None:
        """Warm handovers: every contact with a service that hands over gives each child its own
        chance of a handover to each next service in the chain, with the coordination level of
        that service's phase. A contact is the first month of use, and for ongoing services
        every twelfth month of use after it (a yearly review); a single-contact service gives one.
        The draw is a hash of (seed, source, target, child, month): common random numbers."""
        ch = self.model.pop.children
        for s in self.handover_sources:
            months = age - ch.first_age[:, s]
            contact = ch.use[:, s] & (months >= 0)
            contact &= (months == 0) if self.svc[s].mode == "once" else (months % 12 == 0)
            rows = np.flatnonzero(contact)
            if rows.size == 0:
                continue
            for j in self.handover_to[s]:
                candidates = rows[~ch.handover[:, j][rows]]
                if candidates.size == 0:
                    continue
                gained = candidates[self.model.pop.handover_draw(s, j, candidates, t) < self.coordination[j]]
                ch.handover[:, j][gained] = True
                ch.takeup_pending[:, j][gained] = True  # a handover changes only its own service's decision

    def _record_contacts(self, t: int, age: np.ndarray) -> None:
        """First contacts, Kita entry and warm handovers to the next services in the chain.
        Only the rows with a first contact this month change."""
        ch = self.model.pop.children
        use, ever = ch.use, ch.ever
        # Service by service over contiguous columns: a (rows × services) temporary over every
        # row costs ten times as much. For booleans, use > ever is use & ~ever.
        any_new = np.zeros(ch.n, dtype=bool)
        for s in range(use.shape[1]):
            any_new |= use[:, s] > ever[:, s]
        rows = np.flatnonzero(any_new)
        new = use[rows] & ~ever[rows]
        self.new_contacts = (rows, new)
        for s in np.flatnonzero(new.any(axis=0)):  # write only the new contacts, service by service
            first = rows[new[:, s]]
            ch.first_age[:, s][first] = age[first]
            ever[:, s][first] = True
        if self.handover_sources.size:
            self._hand_over(t, age)
        if rows.size == 0:
            return
        # Kita entry is the first contact with the first Kita service (use of a Kita without an
        # entry age can only be such a first contact: both are set here, together).
        entering = rows[new[:, self.kita].any(axis=1)]
        entering = entering[ch.kita_entry_age[entering] < 0]
        ch.kita_entry_age[entering] = age[entering]
