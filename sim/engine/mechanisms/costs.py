"""Costs per cost line, year, Sozialraumtyp and payer, at city scale.

A cost line is a service of the catalogue or the price of a lever that has no service of its
own (LEVER_LINES). Every euro comes from a unit cost of `sim/data/unit_costs.csv` times a
quantity on the right basis, and is split by that unit cost's payer shares (city, Land, Bund,
health insurance, others; sim.inputs.services.PAYERS):

    per child-year of use        BuT benefits, Kinderzuschlag, U-checkups, youth centres
    per place provided and year  Kita, Kindertagespflege, OGS: filled or not
    per contact                  a welcome visit; a family midwife's care case of 12 months
    per centre-year              Familienzentren, plusKITA
    per FTE-year                 Lotsen, school social work, youth job centre, outreach

Lever prices: outreach per FTE; warm-handover coordination per child and transition at the
phase's level; interpreters per first contact of a family that does not speak German at home
and multilingual material per year, at the multilingual-information level; the need assessment
of every applicant for a place under need-based allocation; parental fees a waiver forgoes;
new places (places_factor) as an annuity of their building cost. A place shift moves places and
their running cost and builds none. Application-based benefits carry their administration
(C11), which a simplified or automatic procedure lowers. Samples are scaled up to the city.
"""

from __future__ import annotations

import numpy as np

from sim.engine.mechanisms.services import STATUS_INDEX
from sim.inputs.errors import InputError
from sim.inputs.services import PAYERS, SHARE_COLUMNS, Capacity, load_unit_costs

OUTREACH_COST = "C09"  # an outreach / prevention-manager FTE costs like a navigator FTE: assumption
COORDINATION_COST = "C23"  # per child and transition at full coordination
INTERPRETER_COST = "C24"  # per first contact of a family that does not speak German at home
MULTILINGUAL_MATERIAL_COST = "C25"  # per year at full level
NEED_ASSESSMENT_COST = "C26"  # per applicant for a place
OVERHEAD_FACTOR = {"standard": 1.0, "simplified": 0.6, "automatic": 0.2}  # share of C11 left: assumption
# New places are paid over the building's life (WertR: Kindergärten 50-70 years) as an annuity at a
# rate of 2 % (assumption; the BMF calculation rate was 0.9 % nominal in 2023).
ANNUITY_RATE = 0.02
BUILDING_LIFE_YEARS = 50
# The month a child makes the transition into a phase (for the coordination of warm handovers):
# an age in months, or months since school entry.
PHASE_ENTRY = {"birth": ("age", 0), "early_childhood": ("age", 3), "kita": ("age", 36),
               "primary": ("school", 0), "secondary": ("school", 48), "transition": ("age", 192)}
LEVER_LINES = {
    "outreach": "Präventionsmanagement / aufsuchende Arbeit",
    "coordination": "Koordination warmer Übergänge",
    "multilingual": "Sprachmittlung und mehrsprachige Information",
    "need_assessment": "Bedarfsprüfung bei der Platzvergabe",
    "fee_waiver": "Beitragsbefreiung (entgangene Elternbeiträge)",
    "new_places": "Neue Plätze (Investition als Annuität)",
}


def annuity_factor(rate: float = ANNUITY_RATE, years: int = BUILDING_LIFE_YEARS) -> float:
    """Yearly payment per euro of investment over `years` at `rate`."""
    return rate / (1 - (1 + rate) ** -years)


class Costs:
    def __init__(self, model):
        self.model = model
        table = load_unit_costs()
        # Per unit cost: its value and its payer shares, read once (a table lookup each month is slow).
        self._value = table["value_eur"].to_dict()
        self._shares = {cost_id: row.to_numpy(float) for cost_id, row in table[list(SHARE_COLUMNS)].iterrows()}
        self.ids = model.catalogue.ids + list(LEVER_LINES)
        self.line = {name: k for k, name in enumerate(self.ids)}
        self.svc = list(model.catalogue.services.values())
        typ = model.city_arrays.sozialraum_typ
        self.typ = typ
        self.typ0 = (typ - 1).astype(np.uint8)  # Sozialraumtyp 1..5 as 0..4
        self.n_sr_by_typ = np.bincount(self.typ0, minlength=5)
        # Per service: the value of each unit cost and its payer shares, summed into one vector
        # (euro per unit, split by payer).
        self.unit = np.zeros((len(self.svc), len(PAYERS)))
        for s, svc in enumerate(self.svc):
            for cost_id in svc.cost.unit_cost:
                self.unit[s] += self.per_unit(cost_id)
        self.benefit_value = self.unit.sum(axis=1)
        bases = [svc.cost.basis for svc in self.svc]
        self.counts_users = [s for s, b in enumerate(bases) if b in ("per_child_year", "per_fte_year")]
        self.counts_contacts = [s for s, b in enumerate(bases) if b == "per_contact"]
        # euro[year, line, typ, payer]; admin[year, line, typ]: the administration within it (all payers)
        self.euro = np.zeros((model.n_years_total, len(self.ids), 5, len(PAYERS)))
        self.admin = np.zeros((model.n_years_total, len(self.ids), 5))
        self.set_levers(model.levers)

    def value(self, cost_id: str) -> float:
        return float(self._value[cost_id])

    def shares(self, cost_id: str) -> np.ndarray:
        return self._shares[cost_id]

    def per_unit(self, cost_id: str) -> np.ndarray:
        """Euro per unit of this cost, split by payer."""
        return self._value[cost_id] * self._shares[cost_id]

    def set_levers(self, lev) -> None:
        """The lever-dependent parts: administration left by the procedure, centres, fee waivers."""
        model = self.model
        self.overhead = np.zeros(len(self.svc))
        self.overhead_shares = np.zeros((len(self.svc), len(PAYERS)))  # payer shares of each service's administration
        self.centres_by_typ = np.zeros((len(self.svc), 5))
        self.newly_waived = {}
        for s, (service_id, svc) in enumerate(zip(model.catalogue.ids, self.svc)):
            c = svc.cost
            if c.admin_overhead:
                self.overhead[s] = self.value(c.admin_overhead) * OVERHEAD_FACTOR[lev.access.get(service_id, "standard")]
                self.overhead_shares[s] = self.shares(c.admin_overhead)
            if c.basis == "per_centre_year":
                centres = model.city.table[c.centres].to_numpy(float)
                mult = lev.place_multipliers(service_id, self.typ, centres)
                self.centres_by_typ[s] = np.bincount(self.typ0, weights=centres * mult, minlength=5)
        for service_id, waived in lev.fee_waiver.items():
            svc = model.catalogue.services[service_id]
            new = sorted(STATUS_INDEX[w] for w in set(waived) - set(svc.fee_waived_for))
            if not new:
                continue
            if svc.cost.fee is None:
                with_fee = [i for i, x in model.catalogue.services.items() if x.cost.fee]
                raise InputError("levers", f"fee_waiver.{service_id}", "this service has no parental fee to waive",
                                 allowed=with_fee)
            mask = np.zeros(3, dtype=bool)
            mask[new] = True
            self.newly_waived[model.catalogue.index(service_id)] = mask

    def _add(self, y: int, line: int, quantity_by_typ: np.ndarray, euro_per_unit: np.ndarray) -> None:
        """quantity (per Sozialraumtyp) × euro per unit split by payer."""
        self.euro[y, line] += quantity_by_typ[:, None] * euro_per_unit[None, :]

    def step(self, t: int) -> None:
        model = self.model
        y = t // 12
        lev = model.levers
        typ_child = self._typ_of_children()
        users, contacts = self._counts_by_typ(typ_child)
        up = 1.0 / model.scale
        services = model.services
        for s, svc in enumerate(self.svc):
            basis = svc.cost.basis
            if basis == "none":
                continue
            if basis == "per_child_year":
                quantity = users[s] * up / 12
            elif basis == "per_place_year":
                quantity = np.bincount(self.typ0, weights=services.places[s], minlength=5) / 12
            elif basis == "per_contact":
                quantity = contacts[s] * up
            elif basis == "per_centre_year":
                quantity = self.centres_by_typ[s] / 12
            else:  # per_fte_year, spread over Sozialraumtypen by where the clients live
                total = users[s].sum()
                spread = users[s] / total if total else np.full(5, 0.2)
                quantity = services.fte(s) / 12 * spread
            self._add(y, s, quantity, self.unit[s])
            if self.overhead[s]:
                admin = quantity * self.benefit_value[s] * self.overhead[s]
                self._add(y, s, admin, self.overhead_shares[s])
                self.admin[y, s] += admin
            if svc.cost.investment:
                added = np.bincount(self.typ0, weights=services.added_places[s], minlength=5)
                self._add(y, self.line["new_places"], added * annuity_factor() / 12,
                          self.per_unit(svc.cost.investment))
        self._lever_lines(t, y, lev, typ_child, up)

    def _lever_lines(self, t: int, y: int, lev, typ_child: np.ndarray, up: float) -> None:
        model = self.model
        ch, hh = model.pop.children, model.pop.households
        # Outreach: FTE per Sozialraum at full coverage.
        levels = np.array([lev.outreach_by_type.get(k, 0.0) for k in range(1, 6)])
        fte = levels * self.n_sr_by_typ * lev.outreach_fte_per_sozialraum
        self._add(y, self.line["outreach"], fte / 12, self.per_unit(OUTREACH_COST))
        # Coordination of warm handovers: every child making a transition, at the phase's level.
        age = t - ch.birth
        school_months = t - ch.school_start
        transitions = np.zeros(5)
        for phase, (clock, month) in PHASE_ENTRY.items():
            level = lev.coordination_level(phase)
            if level <= 0:
                continue
            entering = ch.alive & ((age == month) if clock == "age" else (school_months == month))
            transitions += level * np.bincount(typ_child[entering], minlength=6)[:5]
        self._add(y, self.line["coordination"], transitions * up,
                  self.per_unit(COORDINATION_COST))
        # Interpreters and multilingual material.
        if lev.multilingual_information > 0:
            rows, new = model.services.new_contacts
            families = rows[new.any(axis=1)] if rows.size else rows
            other = families[hh.other_language[ch.hh[families]]]
            by_typ = np.bincount(typ_child[other], minlength=6)[:5] * up
            self._add(y, self.line["multilingual"], lev.multilingual_information * by_typ,
                      self.per_unit(INTERPRETER_COST))
            spread = self.n_sr_by_typ / self.n_sr_by_typ.sum()
            self._add(y, self.line["multilingual"], lev.multilingual_information * spread / 12,
                      self.per_unit(MULTILINGUAL_MATERIAL_COST))
        # Need assessment of every applicant in the August allocation of places given by the rule.
        if lev.priority_rule == "need_based" and t % 12 == 7:
            services = model.services
            applicants = np.zeros(5)
            for s, svc in enumerate(self.svc):
                if isinstance(svc.capacity, Capacity) and svc.capacity.places and svc.capacity.priority == "rule":
                    applicants += np.bincount(self.typ0, weights=services.august_applicants[s], minlength=5)
            self._add(y, self.line["need_assessment"], applicants,
                      self.per_unit(NEED_ASSESSMENT_COST))
        # Parental fees a waiver forgoes: users of the service whose status the catalogue does not waive.
        for s, mask in self.newly_waived.items():
            rows = np.flatnonzero(ch.use[:, s] & ch.alive)
            paying_before = mask[hh.status[ch.hh[rows]]]
            by_typ = np.bincount(typ_child[rows[paying_before]], minlength=6)[:5] * up / 12
            fee = self.svc[s].cost.fee
            self._add(y, self.line["fee_waiver"], by_typ, self.per_unit(fee))

    def _typ_of_children(self) -> np.ndarray:
        """Sozialraumtyp 0..4 of each child's family; departed rows in a sixth bin (5) that is dropped."""
        ch, hh = self.model.pop.children, self.model.pop.households
        typ_child = self.typ0.take(hh.sozialraum).take(ch.hh)
        np.maximum(typ_child, (~ch.alive).view(np.uint8) * np.uint8(5), out=typ_child)
        return typ_child

    def _counts_by_typ(self, typ_child: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(services × Sozialraumtypen) living children using each service, and new contacts,
        in sample units; only for the services whose cost basis needs them. Counts are exact
        integers, kept as float32 as the cost arithmetic expects."""
        model = self.model
        ch = model.pop.children
        users = np.zeros((len(self.svc), 5), dtype=np.float32)
        for first in range(0, len(self.counts_users), USERS_PER_HISTOGRAM):
            services = self.counts_users[first : first + USERS_PER_HISTOGRAM]
            users[services] = _users_by_typ(typ_child, ch.use, services)[:, :5]
        contacts = np.zeros((len(self.svc), 5), dtype=np.float32)
        rows, new = model.services.new_contacts
        typ_new = typ_child[rows]
        for s in self.counts_contacts:
            contacts[s] = np.bincount(typ_new[new[:, s]], minlength=6)[:5]
        return users, contacts


USERS_PER_HISTOGRAM = 8


def _users_by_typ(typ: np.ndarray, use: np.ndarray, services: list[int]) -> np.ndarray:
    """(services × 6) users of each of up to eight services per Typ, from one histogram: a
    child's code is its Typ and, bit by bit, which of the services it uses; a service's count is
    the sum over the codes with its bit set. One pass instead of a masked selection per service."""
    k = len(services)
    code = typ.astype(np.uint16) << np.uint16(k)
    for bit, s in enumerate(services):
        code += use[:, s].view(np.uint8) * np.uint16(1 << bit)
    hist = np.bincount(code, minlength=6 << k).reshape(6, 1 << k)
    has_bit = (np.arange(1 << k)[:, None] >> np.arange(k)) & 1
    return (hist @ has_bit).T
