"""Offers, take-up, capacity and the chain: what each child uses this month.

ServiceSystem holds the catalogue as arrays and the levers' settings, and steps the services in
catalogue order. Its parts, one concern each:
  - windows.py (AgeWindows): who a service is for this month;
  - decisions.py (TakeUpDecisions): each child's take-up decision, from the shared model in takeup.py;
  - capacity.py (CapacityAllocation): places per Sozialraum and city-wide caseloads, by priority;
  - contacts.py (ChainContacts): first contacts, Kita entry and warm handovers.
Four kinds of service differ only in how use is decided:
  - ongoing, no capacity: used while the propensity lies below the take-up probability;
  - once (a visit, a counselling contact): a single contact that lasts `contact_months`;
  - places per Sozialraum (Kita, OGS, plusKITA) and a city-wide caseload: capacity.py.
What the other mechanisms read of it: new_contacts (costs), family_changed and household_key
(development), places, added_places and august_applicants (costs), capacity_months (the model's
capacity table).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logit

from sim.engine import rng
from sim.engine.mechanisms.capacity import CAPACITY_USE, CapacityAllocation
from sim.engine.mechanisms.contacts import ChainContacts, handover_stream
from sim.engine.mechanisms.decisions import TakeUpDecisions
from sim.engine.mechanisms.takeup import (
    APPLY,
    INFO,
    LANG,
    TRAIT_CODES,
    TRUST,
    need_score,
    not_working,
    susceptibility_weights,
    traits_of_code,
)
from sim.engine.mechanisms.windows import AgeWindows
from sim.engine.population import AUGUST
from sim.inputs.errors import InputError
from sim.inputs.params import BARRIERS, DEVELOPMENT_DOMAINS
from sim.inputs.services import Capacity

KITA_SERVICES = ("u3_kita", "ue3_kita")
FAMILY_BENEFIT = "kinderzuschlag"
SIMPLIFIED_APPLICATION = 0.4  # share of the application barrier left by a simplified procedure: assumption
STATUS_INDEX = {"not_poor": 0, "low_income": 1, "sgb2": 2}


class ServiceSystem(AgeWindows, TakeUpDecisions, CapacityAllocation, ChainContacts):
    """The services of the catalogue, stepped once a month (`step(t)`).

    Reads the population (ages, families, development, last month's use) and the levers (through
    set_levers); writes each child's use, places, waiting lists, first contacts and handovers, and
    its take-up decisions. Its parts are mixed in from one module each (see the module docstring);
    they share the arrays made here."""

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
        self.kita_columns = np.array(self.kita, dtype=np.int64)
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
        # Demand that follows parents' work: a lower logit for households not all of whose parents work.
        self.work_demand = np.array([par.takeup.work_demand if s.demand_follows == "parents_work" else 0.0 for s in self.svc],
                                    dtype=np.float32)
        self.not_working_by_traits = not_working(traits)
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
        # Per service, the services whose children move up to it (continuity_from: U3 care to the Ü3 place).
        self.continuity = [[self.ids.index(c) for c in svc.capacity.continuity_from] if isinstance(svc.capacity, Capacity)
                           else [] for svc in self.svc]
        self.continuity_columns = sorted({c for columns in self.continuity for c in columns})
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
        # not spoken at home (plusKITA); Development.step combines them.
        self.effect_matrix = np.column_stack(
            [self.effects, np.where(only_other, 0.0, german), np.where(only_other, german, 0.0)]).astype(np.float32)
        self.effective = np.flatnonzero(self.effect_matrix.any(axis=1))  # the services with any effect
        # This month's first contacts: the rows that made one, and (rows × services) which.
        self.new_contacts = (np.zeros(0, dtype=np.int64), np.zeros((0, S), dtype=bool))
        # Applicants for places in the last August allocation, per service and Sozialraum (what a
        # need-based allocation has to assess; sim.engine.mechanisms.costs prices it).
        self.august_applicants = np.zeros((S, self.n_sr))
        # Why a lever's reach stops growing: per year and service the capacity (cases at a time,
        # monthly contacts or places), what of it was used, who asked and got nothing, and who
        # was in the service's age and group but did not ask (CAPACITY_USE).
        self.capacity_months = np.zeros((model.n_years_total, S, len(CAPACITY_USE)))
        self.set_levers(model.levers)

    def set_levers(self, lev) -> None:
        """Everything the levers decide: barrier intensities, fee waivers, warm-handover levels,
        outreach coverage and places. Called at the start and whenever a lever's scheduled level
        changes (sim.inputs.levers.LeverSchedule); every take-up decision is then made again."""
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
        # The same as flat arrays for the compiled loop (contacts.hand_over): each source's targets
        # are handover_targets[handover_start[k]:handover_start[k + 1]].
        self.handover_once = np.array([self.svc[s].mode == "once" for s in self.handover_sources], dtype=bool)
        self.handover_targets = np.concatenate([self.handover_to[s] for s in self.handover_sources] or [[]]).astype(np.int64)
        self.handover_start = np.concatenate([[0], np.cumsum([self.handover_to[s].size for s in self.handover_sources])]
                                             ).astype(np.int64)
        self.handover_keys = rng.stream_keys(self.model.seed, [handover_stream(s, j) for s in self.handover_sources
                                                               for j in self.handover_to[s]])
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
            # Places held when the month began, of the services others continue from (capacity._priority).
            "held_at_start": {c: ch.place[:, c] >= 0 for c in self.continuity_columns},
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
