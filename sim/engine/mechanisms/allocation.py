"""Capacity: scarce places go to applicants in order of a priority rule, group by group."""

from __future__ import annotations

from typing import Callable

import numpy as np


def allocate(groups: np.ndarray, free: np.ndarray, key: np.ndarray,
             tiebreak: np.ndarray | Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Which applicants get a place.

    groups[i] is applicant i's group (a Sozialraum, or 0 for a city-wide service), free[g] the
    places open in group g, key[i] the priority (higher first) and tiebreak[i] a random number
    that orders equal priorities. tiebreak may also be a function of the applicants' positions,
    so that only the numbers needed are drawn. Never gives a group more than free[g] places.
    """
    n = groups.size
    accepted = np.zeros(n, dtype=bool)
    if n == 0:
        return accepted
    if free.size == 1:  # one group: the same decisions without counting applicants per group
        if n <= free[0]:
            accepted[:] = True
            return accepted
        if free[0] == 0:
            return accepted
        contested = np.arange(n)
    else:
        # Only groups with more applicants than places need an order; everyone else is decided
        # without sorting (the common case in a month between two Augusts).
        demand = np.bincount(groups, minlength=free.size)
        fits = demand <= free
        accepted[fits[groups]] = True
        contested = np.flatnonzero(~fits[groups] & (free[groups] > 0))
        if contested.size == 0:
            return accepted
    g = groups[contested]
    if (g == g[0]).all():
        # One queue (a city-wide caseload): everyone above the k-th highest priority gets one of
        # the k places, and of those at it the ones with the lowest tiebreaks fill the rest; no
        # sort needed, and tiebreaks only for the applicants at the cut.
        k = int(free[g[0]])
        kc = key[contested]
        cut = np.partition(kc, kc.size - k)[kc.size - k]
        accepted[contested[kc > cut]] = True
        tied = contested[kc == cut]
        rest = k - int(np.count_nonzero(kc > cut))
        tb = tiebreak(tied) if callable(tiebreak) else tiebreak[tied]
        accepted[tied[np.argpartition(tb, rest - 1)[:rest]]] = True
        return accepted
    tb = tiebreak(contested) if callable(tiebreak) else tiebreak[contested]
    order = np.lexsort((tb, -key[contested], g))
    g = g[order]
    rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
    accepted[contested[order]] = rank < free[g]
    return accepted
