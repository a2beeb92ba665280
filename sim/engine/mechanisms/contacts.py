"""The chain's contacts: first contacts with each service, Kita entry, and warm handovers from a
contact to the next services. One part of ServiceSystem (sim.engine.mechanisms.services)."""

from __future__ import annotations

import numpy as np


class ChainContacts:
    """What this month's use adds to each child's path through the chain."""

    def _hand_over(self, t: int, age: np.ndarray) -> None:
        """Warm handovers: every contact with a service that hands over gives each child its own
        chance of a handover to each next service in the chain, with the coordination level of
        that service's phase. A contact is the first month of use, and for ongoing services
        every twelfth month of use after it (a yearly review); a single-contact service gives one.
        The draw is a hash of (seed, source, target, child, month): common random numbers."""
        ch = self.model.pop.children
        for s in self.handover_sources:
            months = age - ch.first_age[:, s]
            contact = ch.use[:, s] & (months >= 0)
            contact &= (months == 0) if self.svc[s].mode == "once" else (months % 12 == 0)
            rows = np.flatnonzero(contact)
            if rows.size == 0:
                continue
            for j in self.handover_to[s]:
                candidates = rows[~ch.handover[:, j][rows]]
                if candidates.size == 0:
                    continue
                gained = candidates[self.model.pop.handover_draw(s, j, candidates, t) < self.coordination[j]]
                ch.handover[:, j][gained] = True
                ch.takeup_pending[:, j][gained] = True  # a handover changes only its own service's decision

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
