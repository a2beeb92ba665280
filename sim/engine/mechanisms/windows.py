"""Who a service is for this month: its age window (a place is kept until 1 August), its school
grades, its eligibility and the services it requires. One part of ServiceSystem
(sim.engine.mechanisms.services), which holds the catalogue's arrays these methods read."""

from __future__ import annotations

import numpy as np

from sim.inputs.params import DEVELOPMENT_DOMAINS
from sim.inputs.services import Capacity


class AgeWindows:
    """Masks over the children for service s, from this month's context (ServiceSystem.context)."""

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
