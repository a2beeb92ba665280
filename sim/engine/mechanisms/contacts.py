"""The chain's contacts: first contacts with each service, Kita entry, and warm handovers from a
contact to the next services. One part of ServiceSystem (sim.engine.mechanisms.services)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine.rng import unit_of


@njit(cache=True)
def hand_over(use, first_age, age, cid, sources, once, target_start, targets, keys, coordination, handover, pending):
    """Warm handovers of one month, child by child (see ChainContacts._hand_over).

    For each source service s = sources[k] and each child using it: a contact is the first month
    of use (months == 0), and for an ongoing service (once[k] False) also every twelfth month of
    use after it. Each contact gives a child not yet handed over to a target j
    (targets[target_start[k]:target_start[k + 1]]) the chance coordination[j], drawn as
    unit_of(child id, keys[m]) for the pair's key of this month; a handover also re-opens the
    child's take-up decision for j (pending)."""
    for k in range(sources.size):
        s = sources[k]
        for i in range(use.shape[0]):
            if not use[i, s]:
                continue
            months = age[i] - first_age[i, s]
            if months < 0 or (months != 0 if once[k] else months % 12 != 0):
                continue
            for m in range(target_start[k], target_start[k + 1]):
                j = targets[m]
                # (the draw as a float32, as the coordination level is one)
                if not handover[i, j] and np.float32(unit_of(cid[i], keys[m])) < coordination[j]:
                    handover[i, j] = True
                    pending[i, j] = True


class ChainContacts:
    """What this month's use adds to each child's path through the chain."""

    def _hand_over(self, t: int, age: np.ndarray) -> None:
        """Warm handovers: every contact with a service that hands over gives each child its own
        chance of a handover to each next service in the chain, with the coordination level of
        that service's phase. A contact is the first month of use, and for ongoing services
        every twelfth month of use after it (a yearly review); a single-contact service gives one.
        The draw is a hash of (seed, source, target, child, month): common random numbers
        (Population.handover_key). The loop over children is the compiled `hand_over`."""
        ch, pop = self.model.pop.children, self.model.pop
        keys = np.array([pop.handover_key(s, j, t) for s in self.handover_sources for j in self.handover_to[s]],
                        dtype=np.uint64)
        hand_over(ch.use, ch.first_age, age, ch.cid, self.handover_sources, self.handover_once,
                  self.handover_start, self.handover_targets, keys, self.coordination, ch.handover,
                  ch.takeup_pending)

    def _record_contacts(self, t: int, age: np.ndarray) -> None:
        """First contacts, Kita entry and warm handovers to the next services in the chain.
        Only the rows with a first contact this month change."""
        ch = self.model.pop.children
        use, ever = ch.use, ch.ever
        # Service by service over contiguous columns: a (rows × services) temporary over every
        # row costs ten times as much. For booleans, use > ever is use & ~ever.
        any_new = np.zeros(ch.n, dtype=bool)
        for s in range(use.shape[1]):
            any_new |= use[:, s] > ever[:, s]
        rows = np.flatnonzero(any_new)
        new = use[rows] & ~ever[rows]
        self.new_contacts = (rows, new)
        for s in np.flatnonzero(new.any(axis=0)):  # write only the new contacts, service by service
            first = rows[new[:, s]]
            ch.first_age[:, s][first] = age[first]
            ever[:, s][first] = True
        if self.handover_sources.size:
            self._hand_over(t, age)
        if rows.size == 0:
            return
        # Kita entry is the first contact with the first Kita service (use of a Kita without an
        # entry age can only be such a first contact: both are set here, together).
        entering = rows[new[:, self.kita].any(axis=1)]
        entering = entering[ch.kita_entry_age[entering] < 0]
        ch.kita_entry_age[entering] = age[entering]
