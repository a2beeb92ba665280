"""Capacity: scarce places go to applicants in order of a priority rule, group by group."""

from __future__ import annotations

import numpy as np


def allocate(groups: np.ndarray, free: np.ndarray, key: np.ndarray, tiebreak: np.ndarray) -> np.ndarray:
    """Which applicants get a place.

    groups[i] is applicant i's group (a Sozialraum, or 0 for a city-wide service), free[g] the
    places open in group g, key[i] the priority (higher first) and tiebreak[i] a random number
    that orders equal priorities. Never gives a group more than free[g] places.
    """
    if groups.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((tiebreak, -key, groups))
    g = groups[order]
    rank = np.arange(g.size) - np.searchsorted(g, g, side="left")
    accepted = np.empty(g.size, dtype=bool)
    accepted[order] = rank < free[g]
    return accepted
