"""Births, moves, poverty dynamics and ageing out: the city's population from month to month.

None of these depends on a scenario's levers, so two scenarios with the same seed share exactly
the same families, births and moves (common random numbers by construction).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.special import ndtr, ndtri, owens_t

from sim.engine import rng
from sim.engine.rng import unit_of
from sim.engine.population import (
    AGE_OUT_MONTHS,
    BANDS_MONTHS,
    HOUSEHOLD_SIZE_P,
    HOUSEHOLD_SIZES,
    MEAN_HOUSEHOLD_CHILDREN,
    STATUS_LOW_INCOME,
    STATUS_NOT_POOR,
    STATUS_SGB2,
    Population,
    sgb2_exit_hazard,
)


def monthly(rate_per_year: float) -> float:
    """Monthly probability from a yearly one (constant hazard)."""
    return 1.0 - (1.0 - rate_per_year) ** (1 / 12)


def age_out(pop: Population, t: int) -> np.ndarray:
    """Children turning 18 leave the model; returns their rows (for the NEET measurement)."""
    ch = pop.children
    leaving = np.flatnonzero(ch.alive & (t - ch.birth >= AGE_OUT_MONTHS))
    ch.alive[leaving] = False
    ch.place[leaving] = -1
    _close_empty_households(pop)
    return leaving


def _close_empty_households(pop: Population) -> None:
    ch, hh = pop.children, pop.households
    members = np.bincount(ch.hh.take(np.flatnonzero(ch.alive)), minlength=hh.n)
    hh.alive &= members > 0


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """P(X < h, Y < k) for standard normals with correlation rho, from Owen's T function (Owen 1956):
    the same numbers as scipy.stats.multivariate_normal's cdf (to 1e-16 on the city's Sozialräume)
    without importing scipy.stats, which the engine needs for nothing else (33 MiB of memory)."""
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    # A limit far below double precision counts as on the axis (the slopes below would under- or overflow).
    h, k = np.where(np.abs(h) < 1e-150, 0.0, h), np.where(np.abs(k) < 1e-150, 0.0, k)
    s = np.sqrt(1.0 - rho * rho)
    with np.errstate(divide="ignore", invalid="ignore"):  # on an axis the slope is ±infinity
        a_h = np.where(h != 0, (k - rho * h) / (h * s), np.copysign(np.inf, k - rho * h))
        a_k = np.where(k != 0, (h - rho * k) / (k * s), np.copysign(np.inf, h - rho * k))
    opposite = (np.sign(h) * np.sign(k) < 0) | (((h == 0) | (k == 0)) & (h + k < 0))  # (signs: h·k may underflow)
    cdf = 0.5 * ndtr(h) + 0.5 * ndtr(k) - owens_t(h, a_h) - owens_t(k, a_k) - np.where(opposite, 0.5, 0.0)
    return np.where((h == 0) & (k == 0), 0.25 + np.arcsin(rho) / (2 * np.pi), cdf)


def sgb2_share_by_family(city, params) -> np.ndarray:
    """(Sozialräume × [couple, single parent]) share of households in SGB II, as the city is built:
    poverty and single parenthood correlated through the household's latent poverty score
    (Population.add_households)."""
    rho = params.demography.trait_correlation
    a = ndtri(np.clip(city.sgb2_share, 1e-6, 1 - 1e-6))
    b = ndtri(np.clip(city.single_parent_share, 1e-6, 1 - 1e-6))
    both = bivariate_normal_cdf(a, b, rho)
    single = both / ndtr(b)
    couple = (ndtr(a) - both) / (1 - ndtr(b))
    return np.clip(np.column_stack([couple, single]), 0, 0.95)


def sgb2_entry_monthly(city, params) -> np.ndarray:
    """(Sozialräume × [couple, single parent]) monthly hazard of entering SGB II. Set so that each
    kind of family keeps, in each Sozialraum, the SGB II share it has when the city is built:
    entry = mean exit × share / (1 − share), with the exit hazard averaged over the employment
    of families in SGB II. So entry depends on the family as exit does."""
    share = sgb2_share_by_family(city, params)
    employed = params.demography.employed_share["sgb2"]
    exits = []
    for single in (False, True):
        e = [monthly(float(sgb2_exit_hazard(params, np.array(single), np.array(w)))) for w in (False, True)]
        exits.append((1 - employed) * e[0] + employed * e[1])
    return np.array(exits)[None, :] * share / (1 - share)


def poverty(pop: Population, t: int, entry_sgb2: np.ndarray) -> None:
    """Entry into and exit from SGB II and low income, by Sozialraum and family.

    Exit from SGB II depends on the family (sgb2_exit_hazard); entry hazards (`entry_sgb2`, from
    sgb2_entry_monthly) keep each Sozialraum's SGB II share of each kind of family in equilibrium.
    Low income has one exit hazard (assumption). The household by household loop is the compiled
    `poverty_moves`.
    """
    hh, city, d = pop.households, pop.city, pop.params.demography
    alive = np.flatnonzero(hh.alive)
    r = np.clip(city.sgb2_share, 0, 0.95)
    # Of the families outside SGB II, the Sozialraum's share with a low income.
    low_share = np.clip(city.low_income_share / np.maximum(1 - r, 1e-6), 0, 0.95)
    exit_low = monthly(d.low_income_exit_per_year)
    single, employed = np.array([[False, False], [True, True]]), np.array([[False, True], [False, True]])
    exit_sgb2 = 1.0 - (1.0 - sgb2_exit_hazard(pop.params, single, employed)) ** (1 / 12)  # [single, employed]
    keys = rng.month_keys(rng.stream_keys(pop.seed, ["poverty", "poverty:dest"]), t)
    status = hh.status[alive]
    new = poverty_moves(hh.hid[alive], hh.sozialraum[alive], status, hh.single_parent[alive], hh.employed[alive],
                        keys, exit_sgb2, entry_sgb2, low_share, exit_low * low_share / (1 - low_share), exit_low)
    changed = alive[new != status]
    hh.status[alive] = new
    hh.status_since[changed] = t
    pop.redraw_employment(changed, t)


@njit(cache=True)
def poverty_moves(hid, sozialraum, status, single, employed, keys, exit_sgb2, entry_sgb2, low_share, enter_low, exit_low):
    """Each household's poverty status next month. Two draws per household and month: u decides
    whether it leaves SGB II (exit_sgb2[single, employed]) or enters it (entry_sgb2[Sozialraum,
    single]); u2 where a household leaving SGB II lands (low income with the Sozialraum's
    low_share among the non-SGB II, else not poor) and, for the others, whether a low income
    ends (exit_low) or begins (enter_low[Sozialraum])."""
    new = status.copy()
    for i in range(hid.size):
        u = unit_of(hid[i], keys[0])
        u2 = unit_of(hid[i], keys[1])
        sr, sp = sozialraum[i], np.int64(single[i])
        if status[i] == STATUS_SGB2:
            if u < exit_sgb2[sp, np.int64(employed[i])]:
                new[i] = STATUS_LOW_INCOME if u2 < low_share[sr] else STATUS_NOT_POOR
        elif u < entry_sgb2[sr, sp]:
            new[i] = STATUS_SGB2
        elif status[i] == STATUS_LOW_INCOME:
            if u2 < exit_low:
                new[i] = STATUS_NOT_POOR
        elif u2 < enter_low[sr]:
            new[i] = STATUS_LOW_INCOME
    return new


def in_mover_ages(city, params) -> np.ndarray:
    """Children moving into the city a month (full city), by age in months 0..215.

    The city's table gives children per age band; as a population whose families leave at
    move_out_per_year, it stays as it is only if the children who move in make up what leaves
    and what each cohort loses between one band and the next: in = out-rate × N(a) + N'(a), with
    N(a) the children per month of age (linear between the bands' midpoints, level beyond them).
    In German cities the cohorts shrink with age (families move to the suburbs, Düsseldorf's
    table: about 6,000 a year under 3, 5,250 at 16-17), so more children leave than come
    (net about −750 a year). Assumption: the age structure of the table is the city's steady state.
    """
    per_month = city.children_by_band.sum(axis=0) / np.array([hi - lo + 1 for lo, hi in BANDS_MONTHS])
    mids = np.array([(lo + hi) / 2 for lo, hi in BANDS_MONTHS])
    ages = np.arange(BANDS_MONTHS[-1][1] + 1)
    level = np.interp(ages, mids, per_month)
    slope = np.gradient(level)
    return np.maximum(monthly(params.demography.move_out_per_year) * level + slope, 0.0)


def births(pop: Population, t: int, scale: float, weights: np.ndarray) -> int:
    """Births this month; first-borns found a new household, others join one in the Sozialraum."""
    d = pop.params.demography
    gen = rng.generator(pop.seed, "births", t)
    n = gen.poisson(d.births_per_year * scale / 12)
    if n == 0:
        return 0
    sr = gen.choice(weights.size, size=n, p=weights).astype(np.int16)
    first = gen.random(n) < d.first_born_share
    hh_rows = np.empty(n, dtype=np.int64)
    hh = pop.households
    alive = np.flatnonzero(hh.alive)
    order = alive[np.argsort(hh.sozialraum[alive], kind="stable")]
    bounds = np.searchsorted(hh.sozialraum[order], np.arange(weights.size + 1))
    start, count = bounds[sr], bounds[sr + 1] - bounds[sr]
    first |= count == 0
    joins = ~first
    hh_rows[joins] = order[start[joins] + (gen.random(joins.sum()) * count[joins]).astype(np.int64)]
    hh_rows[first] = pop.add_households(sr[first], t)
    pop.add_children(hh_rows, np.full(n, t, dtype=np.int32), first, t)
    return int(n)


def migration(pop: Population, t: int, scale: float, weights: np.ndarray, history,
              in_ages: np.ndarray) -> tuple[int, int]:
    """Households move out of the city, in from outside, and between Sozialräume.

    Returns (children moved out, children moved in). Children who move in come at the ages
    `in_ages` (from in_mover_ages: the city's age structure stays) and take a history that
    fits their age and family (sim.engine.mechanisms.history). Within-city movers keep their places
    (assumption); poor movers go where poverty is, others where it is not, so the city's
    spread of poverty persists.
    """
    d = pop.params.demography
    hh, ch = pop.households, pop.children
    alive = np.flatnonzero(hh.alive)
    u = rng.uniforms(pop.seed, "move", hh.hid[alive], t)
    p_out = monthly(d.move_out_per_year)
    leaving = alive[u < p_out]
    hh.alive[leaving] = False
    gone = np.flatnonzero(ch.alive & ~hh.alive[ch.hh])
    n_out = int(gone.size)
    ch.alive[gone] = False
    ch.place[gone] = -1

    within = alive[(u >= p_out) & (u < p_out + monthly(d.move_within_per_year))]
    if within.size:
        city = pop.city
        kids = city.children_by_band.sum(axis=1)
        poor_w = kids * city.sgb2_share
        rich_w = kids * (1 - city.sgb2_share)
        is_poor = hh.status[within] == STATUS_SGB2
        u_dest = rng.uniforms(pop.seed, "move:dest", hh.hid[within], t)
        dest = np.where(is_poor, np.searchsorted(np.cumsum(poor_w) / poor_w.sum(), u_dest),
                        np.searchsorted(np.cumsum(rich_w) / rich_w.sum(), u_dest))
        hh.sozialraum[within] = np.minimum(dest, kids.size - 1)

    gen = rng.generator(pop.seed, "move:in", t)
    n_hh_in = gen.poisson(in_ages.sum() * scale * d.move_in_ratio / MEAN_HOUSEHOLD_CHILDREN)
    n_in = 0
    if n_hh_in:
        sr = gen.choice(weights.size, size=n_hh_in, p=weights).astype(np.int16)
        rows = pop.add_households(sr, t)
        sizes = gen.choice(HOUSEHOLD_SIZES, size=n_hh_in, p=HOUSEHOLD_SIZE_P)
        member_hh = np.repeat(rows, sizes)
        ages = gen.choice(in_ages.size, size=member_hh.size, p=in_ages / in_ages.sum())
        order = np.lexsort((-ages, member_hh))
        first = np.ones(order.size, dtype=bool)
        first[1:] = member_hh[order][1:] != member_hh[order][:-1]
        first_born = np.empty_like(first)
        first_born[order] = first
        history.assign(pop.add_children(member_hh, (t - ages).astype(np.int32), first_born, t), t)
        n_in = int(member_hh.size)
    return n_out, n_in


class Demography:
    """Births, moves, poverty dynamics and ageing out, month by month. Reads the city's tables and
    the parameters; writes households (status, Sozialraum, alive) and children (alive, new rows,
    with a history from sim.engine.mechanisms.history for those who move in)."""

    def __init__(self, model):
        self.model = model
        city = model.city_arrays
        self.sgb2_entry = sgb2_entry_monthly(city, model.params)
        self.in_mover_ages = in_mover_ages(city, model.params)
        bands = city.children_by_band
        self.birth_weights = bands[:, 0] / bands[:, 0].sum()
        self.move_weights = bands.sum(axis=1) / bands.sum()

    def age_out(self, t: int) -> np.ndarray:
        """The children who turn 18 leave; their rows, for the measurement before they are dropped."""
        return age_out(self.model.pop, t)

    def step(self, t: int) -> dict[str, int]:
        """Poverty dynamics, moves and births of this month; the flows (children) it made."""
        model, pop = self.model, self.model.pop
        poverty(pop, t, self.sgb2_entry)
        moved_out, moved_in = migration(pop, t, model.scale, self.move_weights, model.history, self.in_mover_ages)
        births_ = births(pop, t, model.scale, self.birth_weights)
        return {"births": births_, "moved_in": moved_in, "moved_out": moved_out}

