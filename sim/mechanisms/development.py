"""Latent development: German, motor skills, healthy weight and school readiness.

Each child carries one latent value per domain (standard-normal at birth, higher is better).
Every month it moves with the household's risks and with the effects of the services the child
uses, so dose (months of use) and timing (Kita before 36 months counts more for German) follow
from the same rule. Random change comes once a year, in August.
"""

from __future__ import annotations

import numpy as np

from sim import rng
from sim.mechanisms.takeup import TRAIT_CODES, household_key, traits_of_code
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
    than selecting, and never read)."""
    pop, par = model.pop, model.params.development
    ch, hh = pop.children, pop.households
    # Drift is a household matter: looked up per household by its traits (model.drift_by_code),
    # then handed to the children.
    drift_by_domain = model.drift_by_code.take(risk_code(hh), axis=1)  # (domains × households)
    typ = model.city_arrays.sozialraum_typ.take(hh.sozialraum)
    drift_by_domain[SCHOOL] += par.neighbourhood_school_per_type * (typ - 1)
    h = ch.hh
    other_language = hh.other_language.take(h)
    german = _german_effect(model, t, ch.use, other_language)
    noise = None
    if t % 12 == 7:
        noise = rng.generator(model.seed, "development", t).standard_normal((ch.n, len(DEVELOPMENT_DOMAINS)), dtype=np.float32)
    # Domain by domain over contiguous columns, in the float32 arithmetic of
    # (drift + effect) / 12 (+ noise in August) that the results are calibrated on.
    for d in range(len(DEVELOPMENT_DOMAINS)):
        effect = german if d == GERMAN else _service_effect(ch.use, model.services.effect_matrix[:, d])
        change = drift_by_domain[d].take(h)
        change += effect
        change *= np.float32(1.0 / 12.0)
        if noise is not None:
            change += np.float32(par.noise_per_year) * noise[:, d]
        ch.dev[:, d] += change


def risk_code(hh) -> np.ndarray:
    """A number per household for its RISK_TRAITS: the take-up traits (the low bits of
    takeup.household_key) and, as the lowest bit, high education."""
    return (household_key(hh) % TRAIT_CODES) * 2 + hh.high_education


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


def _german_effect(model, t: int, use: np.ndarray, other_language: np.ndarray) -> np.ndarray:
    """German: services for every child, plus those only for children not speaking German at
    home (plusKITA), weighted up for other-language children and before 36 months."""
    par = model.params.development
    effects = model.services.effect_matrix
    german = _service_effect(use, effects[:, 4])
    german += other_language * _service_effect(use, effects[:, 5])
    # The four weights (other language or not × before 36 months or not), as float64 products.
    weights = np.array([1.0, EARLY_GERMAN_MULTIPLIER, par.german_effect_multiplier_other_language,
                        par.german_effect_multiplier_other_language * EARLY_GERMAN_MULTIPLIER])
    early = t - model.pop.children.birth < EARLY_MONTHS
    multiplier = weights.take(2 * other_language.view(np.int8) + early)
    return (german * multiplier).astype(np.float32)
