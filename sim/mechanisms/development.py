"""Latent development: German, motor skills, healthy weight and school readiness.

Each child carries one latent value per domain (standard-normal at birth, higher is better).
Every month it moves with the household's risks and with the effects of the services the child
uses, so dose (months of use) and timing (Kita before 36 months counts more for German) follow
from the same rule. Random change comes once a year, in August.
"""

from __future__ import annotations

import numpy as np

from sim import rng
from sim.mechanisms.takeup import TRAIT_CODES, traits_of_code
from sim.params import DEVELOPMENT_DOMAINS, RISK_TRAITS, ModelParams

GERMAN = DEVELOPMENT_DOMAINS.index("german")
SCHOOL = DEVELOPMENT_DOMAINS.index("school")
EARLY_MONTHS = 36
EARLY_GERMAN_MULTIPLIER = 1.5  # a month of German-speaking care before 36 months counts 1.5 times: assumption


def risk_matrix(params: ModelParams) -> np.ndarray:
    """(traits × domains) yearly drift."""
    risk = params.development.risk
    return np.array([[risk.get(d, {}).get(t, 0.0) for d in DEVELOPMENT_DOMAINS] for t in RISK_TRAITS], dtype=np.float32)


def step(model, t: int) -> None:
    """One month of development for every row (rows of departed children are updated too: cheaper
    than selecting, and never read).

    A child's monthly change (drift + service effects) / 12 is kept in `dev_rate` and re-made
    only for the rows whose inputs changed: the services used, the household's traits or
    Sozialraum, or the 36-month mark of the German effect. So a month costs one addition per
    domain, with exactly the float32 results of re-making every row."""
    pop, par = model.pop, model.params.development
    ch = pop.children
    stale = _stale_rows(model, t)
    if stale.size:
        _refresh_rates(model, t, stale)
    noise = None
    if t % 12 == 7:  # random change once a year, in August
        noise = rng.generator(model.seed, "development", t).standard_normal((ch.n, len(DEVELOPMENT_DOMAINS)), dtype=np.float32)
    for d in range(len(DEVELOPMENT_DOMAINS)):  # domain by domain over contiguous columns
        if noise is None:
            ch.dev[:, d] += ch.dev_rate[:, d]
        else:
            ch.dev[:, d] += ch.dev_rate[:, d] + np.float32(par.noise_per_year) * noise[:, d]


def _stale_rows(model, t: int) -> np.ndarray:
    """Rows whose dev_rate no longer fits: new rows, a changed family (this month's household
    keys, see ServiceSystem._mark_family_changes), a changed use of a service with an effect,
    or the 36th month of age (early German ends)."""
    ch = model.pop.children
    stale = ~ch.rate_ready
    stale[model.services.family_changed] = True
    stale |= (t - ch.birth) == EARLY_MONTHS
    for s in model.services.effective:
        stale |= ch.use[:, s] != ch.use_seen[:, s]
    return np.flatnonzero(stale)


def _refresh_rates(model, t: int, rows: np.ndarray) -> None:
    """dev_rate of these rows, in the float32 arithmetic of (drift + effect) / 12 that the
    results are calibrated on."""
    pop, par = model.pop, model.params.development
    ch, hh = pop.children, pop.households
    h = ch.hh[rows]
    key = model.services.household_key.take(h)
    # Drift is a household matter, looked up by its traits (model.drift_by_code).
    drift = model.drift_by_code.take(risk_code(key, hh.high_education[h]), axis=1)  # (domains × rows)
    typ = model.city_arrays.sozialraum_typ.take(hh.sozialraum[h])
    drift[SCHOOL] += par.neighbourhood_school_per_type * (typ - 1)
    # Column by column, and only the services with an effect (the others are never read).
    use = np.zeros((rows.size, ch.use.shape[1]), dtype=bool, order="F")
    for s in model.services.effective:
        use[:, s] = ch.use[:, s].take(rows)
    early = t - ch.birth[rows] < EARLY_MONTHS
    german = _german_effect(model, use, hh.other_language[h], early)
    for d in range(len(DEVELOPMENT_DOMAINS)):
        effect = german if d == GERMAN else _service_effect(use, model.services.effect_matrix[:, d])
        change = drift[d] + effect
        change *= np.float32(1.0 / 12.0)
        ch.dev_rate[:, d][rows] = change
    ch.rate_ready[rows] = True
    for s in model.services.effective:
        ch.use_seen[:, s][rows] = use[:, s]


def risk_code(key: np.ndarray, high_education: np.ndarray) -> np.ndarray:
    """A number per household for its RISK_TRAITS, from its take-up key (takeup.household_key,
    whose low bits are the take-up traits) and, as the lowest bit, high education."""
    return (key % TRAIT_CODES) * 2 + high_education


def risk_traits_of_code(code: np.ndarray) -> np.ndarray:
    """(codes × RISK_TRAITS) 0/1 matrix of the households with these risk_code numbers."""
    return np.column_stack([traits_of_code(code >> 1), code & 1]).astype(np.float32)


def drift_by_code(params: ModelParams) -> np.ndarray:
    """(domains × risk codes) yearly drift of every combination of household traits: the same
    float32 products as household by household, computed once per model."""
    codes = np.arange(2 * TRAIT_CODES)
    return np.ascontiguousarray((risk_traits_of_code(codes) @ risk_matrix(params)).T)


def _service_effect(use: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Summed monthly effect of the services each child uses: added service by service in
    catalogue order, which gives exactly the float32 sums of the matrix product use @ effects."""
    total = np.zeros(use.shape[0], dtype=np.float32)
    for s in np.flatnonzero(effects):
        total += use[:, s] * effects[s]  # (a masked add with where= is ten times slower)
    return total


def _german_effect(model, use: np.ndarray, other_language: np.ndarray, early: np.ndarray) -> np.ndarray:
    """German: services for every child, plus those only for children not speaking German at
    home (plusKITA), weighted up for other-language children and before 36 months (`early`)."""
    par = model.params.development
    effects = model.services.effect_matrix
    german = _service_effect(use, effects[:, 4])
    german += other_language * _service_effect(use, effects[:, 5])
    # The four weights (other language or not × before 36 months or not), as float64 products.
    weights = np.array([1.0, EARLY_GERMAN_MULTIPLIER, par.german_effect_multiplier_other_language,
                        par.german_effect_multiplier_other_language * EARLY_GERMAN_MULTIPLIER])
    multiplier = weights.take(2 * other_language.view(np.int8) + early)
    return (german * multiplier).astype(np.float32)
