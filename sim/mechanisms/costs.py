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
        typ_hh = (model.city_arrays.sozialraum_typ[hh.sozialraum] - 1).astype(np.int8)
        # Departed rows count in a sixth bin that is dropped.
        typ_child = np.where(ch.alive, typ_hh[ch.hh], np.int8(5))
        users = np.zeros((len(self.svc), 5), dtype=np.float32)
        for s in self.counts_users:
            users[s] = np.bincount(typ_child[ch.use[:, s]], minlength=6)[:5]
        contacts = np.zeros((len(self.svc), 5), dtype=np.float32)
        rows, new = model.services.new_contacts
        typ_new = typ_child[rows]
        for s in self.counts_contacts:
            contacts[s] = np.bincount(typ_new[new[:, s]], minlength=6)[:5]
        return users, contacts
