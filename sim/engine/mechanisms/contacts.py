"""The chain's contacts: first contacts with each service, Kita entry, and warm handovers from a
contact to the next services. One part of ServiceSystem (sim.engine.mechanisms.services)."""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.engine import rng
from sim.engine.rng import unit_of


def handover_stream(source: int, target: int) -> str:
    """The stream of the draw that decides whether a contact with service `source` hands a child
    over to service `target`: rng.uniforms(seed, stream, cid, t), or unit_of(cid, key) in the kernel."""
    return f"handover:{source}:{target}"


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


@njit(cache=True)
def first_contacts(use, ever, first_age, age, kita, kita_entry_age):
    """This month's first contacts, child by child: a service used and never used before gets the
    child's age as its first contact (first_age) and counts as used (ever); a first contact with
    one of the Kita services (kita) is the Kita entry, if the child has none yet. Returns the rows
    with a first contact and, for them, which services (rows × services): what the costs count."""
    n, services = use.shape
    any_new = np.zeros(n, dtype=np.bool_)
    for s in range(services):
        for i in range(n):
            if use[i, s] and not ever[i, s]:
                any_new[i] = True
    rows = np.flatnonzero(any_new)
    new = np.zeros((rows.size, services), dtype=np.bool_)
    for s in range(services):
        for r in range(rows.size):
            i = rows[r]
            if use[i, s] and not ever[i, s]:
                new[r, s] = True
                first_age[i, s] = age[i]
                ever[i, s] = True
    for r in range(rows.size):
        i = rows[r]
        for s in kita:
            if new[r, s] and kita_entry_age[i] < 0:
                kita_entry_age[i] = age[i]
    return rows, new


class ChainContacts:
    """What this month's use adds to each child's path through the chain."""

    def _hand_over(self, t: int, age: np.ndarray) -> None:
        """Warm handovers: every contact with a service that hands over gives each child its own
        chance of a handover to each next service in the chain, with the coordination level of
        that service's phase. A contact is the first month of use, and for ongoing services
        every twelfth month of use after it (a yearly review); a single-contact service gives one.
        The draw is a hash of (seed, source, target, child, month): common random numbers
        (handover_stream). The loop over children is the compiled `hand_over`."""
        ch = self.model.pop.children
        hand_over(ch.use, ch.first_age, age, ch.cid, self.handover_sources, self.handover_once,
                  self.handover_start, self.handover_targets, rng.month_keys(self.handover_keys, t),
                  self.coordination, ch.handover, ch.takeup_pending)

    def _record_contacts(self, t: int, age: np.ndarray) -> None:
        """First contacts and Kita entry (the compiled `first_contacts`), then warm handovers to
        the next services in the chain."""
        ch = self.model.pop.children
        self.new_contacts = first_contacts(ch.use, ch.ever, ch.first_age, age, self.kita_columns, ch.kita_entry_age)
        if self.handover_sources.size:
            self._hand_over(t, age)
