"""Services as provider agents: each one goes through the children, one by one, every month.

Four kinds, as in the catalogue: an ongoing service without capacity (used while the child takes
it up), a single contact (a visit), places per Sozialraum handed out by priority with a waiting
list (Kita, OGS, plusKITA), and a city-wide caseload of FTE × cases (Lotsen, school social work,
youth job centre).
"""

from __future__ import annotations

import math
from collections import defaultdict

import mesa

from sim.engine.mechanisms.decisions import FAR_PLACE_DISTANCE
from sim.engine.mechanisms.services import SIMPLIFIED_APPLICATION
from sim.engine.mechanisms.takeup import APPLY, COVERED_COST_SHARE, INFO, LANG, TRUST
from sim.engine.population import AUGUST
from sim.inputs.params import BARRIERS, DEVELOPMENT_DOMAINS
from sim.inputs.services import Capacity

from reference.agents import LOW_INCOME, SGB2, STATUS_NAMES


class ServiceProvider(mesa.Agent):
    def __init__(self, model, s: int, service_id: str, svc):
        super().__init__(model)
        levers, params = model.levers, model.params
        self.s, self.service_id, self.svc = s, service_id, svc
        self.per_household = svc.unit == "household"
        rate = min(max(params.base_rate.get(service_id, svc.base_rate), 1e-4), 1 - 1e-4)
        self.base_logit = math.log(rate / (1 - rate))
        intensity = [svc.barriers.get(b, 0.0) for b in BARRIERS]
        access = levers.access.get(service_id, "standard")
        if access == "automatic":
            intensity[INFO] = intensity[APPLY] = intensity[TRUST] = 0.0
        elif access == "simplified":
            intensity[APPLY] *= SIMPLIFIED_APPLICATION
        intensity[LANG] *= 1.0 - levers.multilingual_information
        self.barriers = [(b, params.takeup.elasticity[name] * intensity[b])
                         for b, name in enumerate(BARRIERS) if intensity[b] > 0]
        waived = set(svc.fee_waived_for) | set(levers.fee_waiver.get(service_id, []))
        self.fee_waived = {STATUS_NAMES.index(status) for status in waived}
        self.covered_cost_share = COVERED_COST_SHARE
        self.need_targeting = svc.need_targeting
        self.work_demand = params.takeup.work_demand if svc.demand_follows == "parents_work" else 0.0
        self.coordination = levers.coordination_level(svc.phase)
        areas = model.sozialraeume
        # Outreach and a warm handover each remove a share of the information and trust barriers.
        self.left_by_outreach = [1 - params.takeup.outreach_strength * levers.outreach_by_type.get(sr.typ, 0.0) for sr in areas]
        self.left_by_handover = 1 - params.takeup.handover_strength
        self.supply_factor = [1.0 / (1.0 + sr.row[svc.local_supply]) if svc.local_supply else 1.0 for sr in areas]
        self.pressure = [0.0] * len(areas)  # share of last August's applicants left without a place
        self.effects = [svc.effects.get(d, 0.0) for d in DEVELOPMENT_DOMAINS]
        self.effects_only_for_other_language = svc.effects_only_for == "other_language"
        self.once = svc.mode == "once"
        cap = svc.capacity if isinstance(svc.capacity, Capacity) else None
        self.cap = cap
        self.kind = "free" if cap is None else ("caseload" if cap.fte else "places")
        self.slot_carry = 0.0
        self.ages = tuple(svc.ages_months)
        self.before_school = svc.ages_months[1] < 84  # services of the years before school end at school entry
        self.grades = tuple(svc.school_grades) if svc.school_grades else None
        self.allocated_in_august = bool(cap and cap.allocation == "august")
        self.midyear_min_age = cap.midyear_min_age_months if cap else None
        if self.kind == "places":
            import numpy as np

            typ = np.array([sr.typ for sr in areas])
            base = np.array([sr.row[cap.places] if cap.places else sr.row[cap.centres] * cap.places_per_centre
                             for sr in areas], dtype=float)
            self.places = [int(x) for x in np.round(base * levers.place_multipliers(service_id, typ, base) * model.scale)]

    def link(self) -> None:
        """Catalogue references as positions, once every provider exists."""
        ids = self.model.catalogue.ids
        svc = self.svc
        self.covered_by = ids.index(svc.cost_covered_by) if svc.cost_covered_by else None
        self.handover_to = [ids.index(target) for target in svc.handover_to]
        self.requires_any = [ids.index(r) for r in svc.requires_any]
        self.requires_need = DEVELOPMENT_DOMAINS.index(svc.requires_need) if svc.requires_need else None
        cap = self.cap
        self.continuity_from = [ids.index(c) for c in cap.continuity_from] if cap else []
        # A child holds a place in one of two alternatives only (U3 Kita or Kindertagespflege).
        self.alternatives = [p.s for p in self.model.providers
                             if p.cap and p.cap.alternative_to == self.service_id]
        if cap and cap.alternative_to:
            self.alternatives.append(ids.index(cap.alternative_to))

    # ---- who may use it ------------------------------------------------------------------------
    def eligible(self, child, t: int) -> bool:
        rule = self.svc.eligibility
        status = child.household.status
        if rule == "all":
            return True
        if rule == "first_born":
            return child.first_born
        if rule == "low_income":
            return status == LOW_INCOME
        if rule == "but_eligible":
            return status == SGB2 or (status == LOW_INCOME and child.use[self.model.benefit])
        if rule == "in_kita":
            return any(child.use[k] for k in self.model.kita)
        return child.in_school(t)

    def in_window(self, child, t: int, hold: bool = False) -> bool:
        """Right age, grade and eligibility; `hold` keeps a place until the next August."""
        lo, hi = self.ages
        if not hold and self.midyear_min_age and t % 12 != AUGUST:
            lo = max(lo, self.midyear_min_age)  # during the year, Ü3 takes children only from 3
        elif hold and self.allocated_in_august and t % 12 != AUGUST:
            hi += 11  # a place is kept until the next August
        age = t - child.birth
        if age < lo or age > hi:
            return False
        in_school = t >= child.school_start
        if self.before_school and in_school:
            return False
        if self.grades:
            if not in_school or not self.grades[0] <= child.grade(t) <= self.grades[1]:
                return False
        if self.svc.eligibility != "all" and not self.eligible(child, t):
            return False
        if self.requires_any and not any(child.use[r] for r in self.requires_any):
            return False
        if self.requires_need is not None and \
                child.dev[self.requires_need] >= self.model.params.development.need_threshold:
            return False
        return True

    def priority(self, child) -> float:
        hh = child.household
        if (self.cap.priority == "need") or self.model.levers.priority_rule == "need_based":
            key = hh.need
        else:  # employment first: working families, working single parents a little more
            key = 2.0 * hh.employed + (hh.employed and hh.single_parent)
            if self.cap.registration == "deadline":  # within a rank, who registered before the deadline
                providers = [p for p in [self] + [self.model.providers[a] for a in self.alternatives]
                             if p.cap.registration == "deadline"]
                key += 0.5 * any(child.takes_up(p, information_twice=True) for p in providers)
        if any(child.held_at_start[c] for c in self.continuity_from):  # moving up from U3 care
            key += 100.0
        return key

    def choose(self, applicants: list, free: int, lottery: dict) -> list:
        """The `free` applicants with the highest priority, ties broken by lottery."""
        if free <= 0:
            return []
        ranked = sorted(applicants, key=lambda c: (-self.priority(c), lottery[c]))
        return ranked[:free]

    # ---- the month -----------------------------------------------------------------------------
    def step(self) -> None:
        t = self.model.t
        if self.kind == "free":
            if self.svc.mode == "once":
                self.step_contacts(t, slots=None)
            else:
                for child in self.model.children:
                    child.use[self.s] = self.in_window(child, t) and child.takes_up(self)
        elif self.kind == "caseload":
            cases = self.model.levers_value(self.cap.fte) * self.model.scale * self.cap.caseload_per_fte_year
            if self.svc.mode == "once":
                self.step_contacts(t, slots=cases / 12)
            else:
                self.step_caseload(t, cases)
        else:
            self.step_places(t)

    def step_contacts(self, t: int, slots: float | None) -> None:
        """Single contacts (a visit, a navigator's counselling), limited by monthly slots if any."""
        s = self.s
        applicants = [c for c in self.model.children if not c.ever[s] and self.in_window(c, t) and c.takes_up(self)]
        if slots is not None:
            self.slot_carry += slots
            lottery = {c: self.model.random.random() for c in applicants}
            if len(applicants) > int(self.slot_carry):
                applicants = self.choose(applicants, int(self.slot_carry), lottery)
            self.slot_carry = (self.slot_carry - len(applicants)) % 1.0  # whole contacts not asked for lapse
        for child in applicants:
            child.until[s] = t + self.svc.contact_months
        for child in self.model.children:
            child.use[s] = child.until[s] > t

    def step_caseload(self, t: int, cases: float) -> None:
        s = self.s
        clients, applicants = [], []
        for child in self.model.children:
            if not self.in_window(child, t):
                child.use[s] = False
            elif child.use[s] and child.until[s] > t:
                clients.append(child)
            else:
                child.use[s] = False
                if child.takes_up(self):
                    applicants.append(child)
        free = max(int(cases) - len(clients), 0)
        lottery = {c: self.model.random.random() for c in applicants}
        for child in applicants if len(applicants) <= free else self.choose(applicants, free, lottery):
            child.until[s] = t + self.svc.contact_months
            child.use[s] = True

    def step_places(self, t: int) -> None:
        """Keep places, hand out free ones by priority in the own Sozialraum, then in the Stadtbezirk."""
        s, model = self.s, self.model
        occupied = [0] * len(self.places)
        applicants = []
        for child in model.children:
            child.waiting[s] = False
            if child.place[s] is not None and not self.in_window(child, t, hold=True):
                child.place[s] = None
            if child.place[s] is not None:
                occupied[child.place[s]] += 1
            elif (self.in_window(child, t) and all(child.place[a] is None for a in self.alternatives)
                  # a U3 Kita child keeps its place for the Kita year and moves up in August
                  and all(child.place[c] is None for c in self.continuity_from if c in self.model.kita)
                  and (child.takes_up(self) or any(child.waiting[a] for a in self.alternatives))):
                # (one application: a family waiting for the alternative takes a place here too)
                applicants.append(child)
        free = [max(cap - n, 0) for cap, n in zip(self.places, occupied)]
        lottery = {c: model.random.random() for c in applicants}
        by_area = defaultdict(list)
        for child in applicants:
            by_area[child.household.sozialraum.index].append(child)
        unplaced = []
        for area, queue in by_area.items():
            chosen = set(self.choose(queue, free[area], lottery))
            for child in queue:
                if child in chosen:
                    child.place[s] = area
                else:
                    unplaced.append(child)
            free[area] -= len(chosen)
        self.place_elsewhere_in_bezirk(unplaced, free, lottery)
        for child in applicants:  # one place of early care at a time: a child moving up leaves Tagespflege
            if child.place[s] is not None:
                for c in self.continuity_from:
                    child.place[c] = None
                    child.use[c] = False
        for child in unplaced:
            child.waiting[s] = child.place[s] is None
        if t % 12 == AUGUST:
            demand = defaultdict(int)
            unmet = defaultdict(int)
            for child in applicants:
                demand[child.household.sozialraum.index] += 1
                unmet[child.household.sozialraum.index] += child.place[s] is None
            self.pressure = [unmet[a] / demand[a] if demand[a] else 0.0 for a in range(len(self.places))]
        for child in model.children:
            child.use[s] = child.place[s] is not None

    def place_elsewhere_in_bezirk(self, unplaced: list, free: list, lottery: dict) -> None:
        """Free places in other Sozialräume of the Stadtbezirk, for those who accept the longer way."""
        if not unplaced or not any(free):
            return
        areas = self.model.sozialraeume
        by_bezirk = defaultdict(list)
        for child in unplaced:
            if child.takes_up(self, extra_distance=FAR_PLACE_DISTANCE):
                by_bezirk[child.household.sozialraum.bezirk].append(child)
        for bezirk, queue in by_bezirk.items():
            open_areas = [a for a in range(len(areas)) if areas[a].bezirk == bezirk and free[a] > 0]
            chosen = self.choose(queue, sum(free[a] for a in open_areas), lottery)
            for child in chosen:
                area = open_areas[0]
                child.place[self.s] = area
                free[area] -= 1
                if free[area] == 0:
                    open_areas.pop(0)
