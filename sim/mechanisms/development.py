"""Latent development: German, motor skills, healthy weight and school readiness.

Each child carries one latent value per domain (standard-normal at birth, higher is better).
Every month it moves with the household's risks and with the effects of the services the child
uses, so dose (months of use) and timing (Kita before 36 months counts more for German) follow
from the same rule. Random change comes once a year, in August.
"""

from __future__ import annotations

import numpy as np

from sim import rng
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
    # Drift is a household matter: compute it once per household, then hand it to the children.
    traits_hh = np.stack(
        [hh.status == 2, hh.status == 1, hh.single_parent, hh.low_education,
         hh.other_language, ~hh.employed, hh.high_education],
        axis=1,
    ).astype(np.float32)
    drift_hh = traits_hh @ model.risk
    typ = model.city_arrays.sozialraum_typ[hh.sozialraum]
    drift_hh[:, SCHOOL] += par.neighbourhood_school_per_type * (typ - 1)
    h = ch.hh
    # One product gives the four domains plus German effects for all / only for other-language children.
    effect = ch.use.astype(np.float32) @ model.services.effect_matrix
    other_language = traits_hh[h, 4]
    german = effect[:, 4] + other_language * effect[:, 5]
    multiplier = np.where(other_language > 0, par.german_effect_multiplier_other_language, 1.0)
    multiplier *= np.where(t - ch.birth < EARLY_MONTHS, EARLY_GERMAN_MULTIPLIER, 1.0)
    effect[:, GERMAN] = german * multiplier
    change = (drift_hh[h] + effect[:, :4]) * (1.0 / 12.0)
    if t % 12 == 7:
        change += par.noise_per_year * rng.generator(model.seed, "development", t).standard_normal(
            (ch.n, len(DEVELOPMENT_DOMAINS)), dtype=np.float32)
    ch.dev[:] += change
