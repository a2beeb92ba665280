"""Households and children as Mesa agents: thin, read-only views onto rows of the arrays.

The engine never loops over these. They exist so that a user or the UI can pick one family and
read it like an object. A view is made on request (`model.child(id)`, `model.sample_children(n)`)
and registered with the model then; it looks its row up by id, so it stays valid while the
arrays are compacted, and reports `present = False` once the child has aged out or moved away.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.engine.population import STATUS_NAMES
from sim.inputs.params import DEVELOPMENT_DOMAINS
from sim.inputs.services import PHASE_LABELS

STATUS_LABELS_DE = {"sgb2": "SGB II", "low_income": "geringes Einkommen", "not_poor": "nicht arm"}


def _row(ids: np.ndarray, n: int, wanted: int) -> int | None:
    i = int(np.searchsorted(ids[:n], np.uint64(wanted)))
    return i if i < n and ids[i] == wanted else None


class Household(mesa.Agent):
    def __init__(self, model, household_id: int):
        super().__init__(model)
        self.household_id = int(household_id)

    @property
    def _row(self) -> int | None:
        hh = self.model.pop.households
        return _row(hh.cols["hid"], hh.n, self.household_id)

    def _get(self, column: str):
        row = self._row
        return None if row is None else self.model.pop.households.cols[column][row].item()

    @property
    def present(self) -> bool:
        return bool(self._get("alive"))

    @property
    def poverty_status(self) -> str:
        return STATUS_NAMES[self._get("status")]

    @property
    def sozialraum_id(self) -> str:
        return str(self.model.city.table["sozialraum_id"].iloc[self._get("sozialraum")])

    single_parent = property(lambda self: bool(self._get("single_parent")))
    other_language = property(lambda self: bool(self._get("other_language")))
    low_education = property(lambda self: bool(self._get("low_education")))
    high_education = property(lambda self: bool(self._get("high_education")))
    employed = property(lambda self: bool(self._get("employed")))

    @property
    def children(self) -> list["Child"]:
        row = self._row
        ch = self.model.pop.children
        if row is None:
            return []
        mine = np.flatnonzero(ch.alive & (ch.hh == row))
        return [self.model.child(int(c)) for c in ch.cid[mine]]

    def describe(self) -> dict:
        return {
            "Haushalt": self.household_id,
            "Sozialraum": self.sozialraum_id,
            "Armutslage": STATUS_LABELS_DE[self.poverty_status],
            "alleinerziehend": self.single_parent,
            "Familiensprache nicht Deutsch": self.other_language,
            "Eltern erwerbstätig": self.employed,
        }


class Child(mesa.Agent):
    def __init__(self, model, child_id: int):
        super().__init__(model)
        self.child_id = int(child_id)

    @property
    def _row(self) -> int | None:
        ch = self.model.pop.children
        return _row(ch.cols["cid"], ch.n, self.child_id)

    @property
    def present(self) -> bool:
        row = self._row
        return row is not None and bool(self.model.pop.children.alive[row])

    @property
    def age_months(self) -> int:
        return int(self.model.t - self.model.pop.children.birth[self._row])

    @property
    def phase(self) -> str:
        ch, row, t = self.model.pop.children, self._row, self.model.t
        age = t - int(ch.birth[row])
        start = int(ch.school_start[row])
        if age < 3:
            return "birth"
        if t < start:
            return "early_childhood" if age < 36 else "kita"
        if age >= 192:
            return "transition"
        return "primary" if (t - start) // 12 < 4 else "secondary"

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def household(self) -> Household:
        ch = self.model.pop.children
        return self.model.household(int(self.model.pop.households.hid[ch.hh[self._row]]))

    @property
    def services_used(self) -> list[str]:
        row = self._row
        return [s for k, s in enumerate(self.model.catalogue.ids) if self.model.pop.children.use[row, k]]

    @property
    def path(self) -> list[tuple[int, str]]:
        """The child's path through the chain: (age in months at first contact, service), in order."""
        ch, row = self.model.pop.children, self._row
        ids = self.model.catalogue.ids
        contacts = [(int(ch.first_age[row, k]), ids[k]) for k in np.flatnonzero(ch.ever[row])]
        return sorted(contacts)

    @property
    def development(self) -> dict[str, float]:
        return dict(zip(DEVELOPMENT_DOMAINS, self.model.pop.children.dev[self._row].round(3).tolist()))

    @property
    def kita_entry_age_months(self) -> int | None:
        value = int(self.model.pop.children.kita_entry_age[self._row])
        return None if value < 0 else value

    def describe(self) -> dict:
        names = {i: s.name for i, s in self.model.catalogue.services.items()}
        return {
            "Kind": self.child_id,
            "Alter (Monate)": self.age_months,
            "Lebensphase": self.phase_label,
            "Kitaeintritt (Monate)": self.kita_entry_age_months,
            "nutzt jetzt": [names[s] for s in self.services_used],
            "Weg durch die Kette": [f"{age} {'Monat' if age == 1 else 'Monate'}: {names[s]}" for age, s in self.path],
            **{f"Entwicklung {k}": v for k, v in self.development.items()},
        }
