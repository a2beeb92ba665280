"""Capacity: places per Sozialraum and city-wide caseloads, handed out by the priority rule.

Places (Kita, OGS, plusKITA): demand joins a waiting list and places are allocated on the
service's date (1 August) by the priority rule, first in the family's own Sozialraum, then
elsewhere in the Stadtbezirk; vacancies during the year go to the waiting list by the same rule;
children keep their place. Caseloads (navigators, school social work, youth job centre): FTE ×
cases. Every month each service's capacity, its use, who asked in vain and who did not ask are
counted (capacity_months, CAPACITY_USE). One part of ServiceSystem (sim.engine.mechanisms.services).
"""

from __future__ import annotations

import numpy as np

from sim.engine import rng
from sim.engine.mechanisms.allocation import allocate
from sim.engine.mechanisms.takeup import CAP

# What a capacity-limited service did each month (children in the simulated sample, summed over the
# months of a year): the columns of ServiceSystem.capacity_months.
CAPACITY_USE = ("capacity", "used", "unserved", "not_asking")


class CapacityAllocation:
    """The monthly step of the services with a limit: single contacts with slots, caseloads, places."""

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
        if self.continuity[s]:
            # Children moving up from U3 care come first: those who held such a place when the month
            # began (in August it has just ended, before this service's turn).
            held = ctx["held_at_start"]
            moving_up = held[self.continuity[s][0]][idx]
            for earlier in self.continuity[s][1:]:
                moving_up = moving_up | held[earlier][idx]
            key = key + 100.0 * moving_up
        return key

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
        for earlier in self._moving_up_in_august(s):
            candidates &= ch.place[:, earlier] < 0
        wants = self._wants(s, candidates, ctx)
        also = self._waiting_for_an_alternative(s, candidates)
        if also.size:
            wants = np.union1d(wants, also)
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
        self._leave_earlier_places(s, wants[accepted])
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

    def _moving_up_in_august(self, s: int) -> list[int]:
        """The services s continues from whose children ask for no place in s before August: a child
        in a U3 Kita place keeps it for the Kita year (KiBiz funds a place per Kita year) and moves up
        within its Kita in August, when the U3 place ends."""
        return [earlier for earlier in self.continuity[s] if earlier in self.kita]

    def _leave_earlier_places(self, s: int, placed: np.ndarray) -> None:
        """A child holds one place of early care at a time: a child in Kindertagespflege that gets a
        Kita place here (the Ü3 place) leaves the Tagespflege place, which is then free for the waiting
        list. (A U3 Kita child asks for none before August; see _step_places.)"""
        ch = self.model.pop.children
        for earlier in self.continuity[s]:
            ch.place[:, earlier][placed] = -1
            ch.use[:, earlier][placed] = False

    def _waiting_for_an_alternative(self, s: int, candidates: np.ndarray) -> np.ndarray:
        """One application for U3 care: a family waiting for the alternative (Kindertagespflege for
        a U3 Kita place, and back) takes a vacancy here; it looks for care for its child, not for one
        kind of place (families register in both of Düsseldorf's systems, the Kita-Navigator with up
        to 15 Kitas and the Kindertagespflege-Navigator, to lower their risk: RP 14.01.2022, RP 03.2018;
        that every waiting family takes the other kind of place is an assumption). Rows, ascending."""
        if not self.alternatives[s]:
            return np.zeros(0, dtype=np.int64)
        waiting = np.zeros_like(candidates)
        for other in self.alternatives[s]:
            waiting |= candidates & self.model.pop.children.waiting[:, other]
        return np.flatnonzero(waiting)

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
