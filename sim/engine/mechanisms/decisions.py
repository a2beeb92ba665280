"""Each child's take-up decision per service: the shared take-up model of sim.engine.mechanisms.takeup
applied barrier by barrier, and kept until one of its inputs changes. One part of ServiceSystem
(sim.engine.mechanisms.services)."""

from __future__ import annotations

import numpy as np

from sim.engine.mechanisms.takeup import (  # the shared take-up model, written out per barrier for speed
    CAP,
    COST,
    COVERED_COST_SHARE,
    DIST,
    INFO,
    TRUST,
    household_key,
    probability_from_load,
)

FAR_PLACE_DISTANCE = 1.0  # extra distance barrier of a place in another Sozialraum of the Stadtbezirk: assumption


class TakeUpDecisions:
    """takeup_probability for any children; the cached decisions for the candidates of a month."""

    def takeup_probability(self, s: int, idx: np.ndarray, ctx: dict, far: bool = False,
                           early: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Take-up probability of service s for the children idx: the barrier load of
        sim.engine.mechanisms.takeup summed barrier by barrier (only the barriers the service has).
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
        if self.work_demand[s]:
            need = need - self.work_demand[s] * self.not_working_by_traits[traits]
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
