"""Barriers and take-up: one probability model shared by every service.

    p = logistic( logit(base_rate) - sum_b elasticity_b * intensity_{s,b} * susceptibility_{h,b}
                  + need_targeting_s * need_h - work_demand * follows_work_s * not_working_h )

intensity is the service's barrier (catalogue) after the levers and the child's chain contacts
have lowered it; susceptibility is the household's, from its traits. Every term that lowers a
barrier can only raise p. A child uses a service while its fixed propensity (a uniform number
drawn once, see Population) lies below p, so take-up is stable month to month and a lever
changes exactly the children at the margin.

The last term is demand, not a barrier: parents who do not all work want a U3 place less
(TakeUp.work_demand), and no lever lowers it; the capacity barrier's priority of working
parents (susceptibility "capacity") is the supply side of the same fact.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from sim.inputs.params import BARRIERS, TRAITS, ModelParams

INFO, APPLY, TRUST, LANG, DIST, COST, CAP = range(len(BARRIERS))
COVERED_COST_SHARE = 0.2  # share of the cost barrier left when BuT pays the club fee: assumption


def household_traits(pop) -> np.ndarray:
    """(households × traits) 0/1 matrix in TRAITS order."""
    hh = pop.households
    return np.stack(
        [hh.status == 2, hh.status == 1, hh.single_parent, hh.low_education, hh.other_language, ~hh.employed],
        axis=1,
    ).astype(np.float32)


def household_key(hh) -> np.ndarray:
    """One number per household that changes whenever anything the take-up model reads about
    the household changes: Sozialraum, poverty status and the traits of household_traits.
    Its low six bits (key % TRAIT_CODES) are the traits alone, see traits_of_code."""
    return (((hh.sozialraum.astype(np.int32) * 4 + hh.status) * 2 + hh.single_parent) * 2 + hh.low_education) * 4 \
        + hh.other_language * 2 + hh.employed


TRAIT_CODES = 64  # poverty status (two bits) and four 0/1 traits


def traits_of_code(code: np.ndarray) -> np.ndarray:
    """household_traits of households whose household_key has these low six bits."""
    status = code >> 4
    return np.stack(
        [status == 2, status == 1, (code >> 3) & 1, (code >> 2) & 1, (code >> 1) & 1, (code & 1) == 0],
        axis=1,
    ).astype(np.float32)


def susceptibility_weights(params: ModelParams) -> np.ndarray:
    """(1 + traits) × barriers: intercept row, then one row per trait."""
    w = np.zeros((1 + len(TRAITS), len(BARRIERS)), dtype=np.float32)
    for b, barrier in enumerate(BARRIERS):
        weights = params.takeup.susceptibility.get(barrier, {})
        w[0, b] = weights.get("base", 0.0)
        for k, trait in enumerate(TRAITS):
            w[1 + k, b] = weights.get(trait, 0.0)
    return w


def need_score(traits: np.ndarray, params: ModelParams) -> np.ndarray:
    weights = np.array([params.takeup.need_targeting_risk.get(t, 0.0) for t in TRAITS], dtype=np.float32)
    return traits @ weights


def not_working(traits: np.ndarray) -> np.ndarray:
    """1 for households in which not all parents work, from household_traits rows."""
    return traits[:, TRAITS.index("not_employed")]


def probability_from_load(base_logit, load, need_term=0.0):
    """The shared take-up model, given the summed barrier load of each child."""
    return expit(base_logit - load + need_term)
