"""Costs per service, year and Sozialraumtyp, at city scale, from the unit costs in the catalogue.

Bases: per child-year of use, per contact, per centre-year (Familienzentren, plusKITA), per
FTE-year (navigators, school social work, youth job centre). Application-based benefits carry
their administrative overhead (C11), which a simplified or automatic procedure lowers. Outreach
by prevention managers is costed as FTE per Sozialraum. Samples are scaled up to the city.
"""

from __future__ import annotations

import numpy as np

from sim.services import load_unit_costs

OUTREACH_COST_ID = "C09"  # an outreach / prevention-manager FTE costs like a navigator FTE: assumption
OVERHEAD_FACTOR = {"standard": 1.0, "simplified": 0.6, "automatic": 0.2}  # share of C11 left: assumption


class Costs:
    def __init__(self, model):
        self.model = model
        unit_costs = load_unit_costs()
        self.ids = model.catalogue.ids + ["outreach"]
        self.svc = list(model.catalogue.services.values())
        typ = model.city_arrays.sozialraum_typ
        self.typ = typ
        self.typ0 = (typ - 1).astype(np.uint8)  # Sozialraumtyp 1..5 as 0..4
        self.unit = np.zeros(len(self.svc))
        self.overhead = np.zeros(len(self.svc))
        self.centres_by_typ = np.zeros((len(self.svc), 5))
        for s, (service_id, svc) in enumerate(zip(model.catalogue.ids, self.svc)):
            c = svc.cost
            self.unit[s] = c.unit_value_eur if c.unit_value_eur is not None else (
                float(unit_costs.loc[c.unit_cost, "value_eur"]) if c.unit_cost else 0.0)
            if c.admin_overhead:
                access = model.levers.access.get(service_id, "standard")
                self.overhead[s] = float(unit_costs.loc[c.admin_overhead, "value_eur"]) * OVERHEAD_FACTOR[access]
            if c.basis == "per_centre_year":
                centres = model.city.table[c.centres].to_numpy(float)
                mult = model.levers.place_multipliers(service_id, typ, centres)
                self.centres_by_typ[s] = np.bincount(typ - 1, weights=centres * mult, minlength=5)
        bases = [svc.cost.basis for svc in self.svc]
        self.counts_users = [s for s, b in enumerate(bases) if b in ("per_child_year", "per_fte_year")]
        self.counts_contacts = [s for s, b in enumerate(bases) if b == "per_contact"]
        self.outreach_unit = float(unit_costs.loc[OUTREACH_COST_ID, "value_eur"])
        # euro[year, service, typ]
        self.euro = np.zeros((model.n_years_total, len(self.ids), 5))
        self.admin = np.zeros((model.n_years_total, len(self.ids), 5))

    def step(self, t: int) -> None:
        model = self.model
        y = t // 12
        users, contacts = self._counts_by_typ()
        up = 1.0 / model.scale
        for s, svc in enumerate(self.svc):
            basis = svc.cost.basis
            if basis == "none":
                continue
            if basis == "per_child_year":
                base = users[s] * up * self.unit[s] / 12
            elif basis == "per_contact":
                base = contacts[s] * up * self.unit[s]
            elif basis == "per_centre_year":
                base = self.centres_by_typ[s] * self.unit[s] / 12
            else:  # per_fte_year, spread over Sozialraumtypen by where the clients live
                total = users[s].sum()
                spread = users[s] / total if total else np.full(5, 0.2)
                base = model.services.fte(s) * self.unit[s] / 12 * spread
            self.euro[y, s] += base * (1 + self.overhead[s])
            self.admin[y, s] += base * self.overhead[s]
        levels = np.array([model.levers.outreach_by_type.get(k, 0.0) for k in range(1, 6)])
        n_sr = np.bincount(self.typ - 1, minlength=5)
        self.euro[y, -1] += levels * n_sr * model.levers.outreach_fte_per_sozialraum * self.outreach_unit / 12

    def _counts_by_typ(self) -> tuple[np.ndarray, np.ndarray]:
        """(services × Sozialraumtypen) living children using each service, and new contacts,
        in sample units; only for the services whose cost basis needs them. Counts are exact
        integers, kept as float32 as the cost arithmetic expects."""
        model = self.model
        ch, hh = model.pop.children, model.pop.households
        typ_child = self.typ0.take(hh.sozialraum).take(ch.hh)
        # Departed rows count in a sixth bin (5) that is dropped.
        np.maximum(typ_child, (~ch.alive).view(np.uint8) * np.uint8(5), out=typ_child)
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
