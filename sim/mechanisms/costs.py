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
        self.outreach_unit = float(unit_costs.loc[OUTREACH_COST_ID, "value_eur"])
        # euro[year, service, typ]
        self.euro = np.zeros((model.n_years_total, len(self.ids), 5))
        self.admin = np.zeros((model.n_years_total, len(self.ids), 5))

    def step(self, t: int) -> None:
        model = self.model
        y = t // 12
        ch = model.pop.children
        typ_child = model.city_arrays.sozialraum_typ[model.pop.households.sozialraum[ch.hh]] - 1
        by_typ = np.zeros((ch.n, 5), dtype=np.float32)  # one-hot Sozialraumtyp of living children
        by_typ[np.flatnonzero(ch.alive), typ_child[ch.alive]] = 1.0
        users = ch.use.T.astype(np.float32) @ by_typ  # (services × types), sample units
        contacts = model.services.new_contacts.T.astype(np.float32) @ by_typ
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
