"""The child's latent state: German, motor skills, healthy weight, school readiness, social
participation and material provision.

Each domain is a score that reverts month by month towards a norm set by the family's situation
(household traits, Sozialraum): x ← x + (1 − ρ^(1/12)) · (norm − x) + effect / 12, with ρ the
yearly persistence. Services used add their effect (SD per year of use); because of the pull
back to the norm an effect saturates with long use and fades after use ends, so dose (months
of use) and timing (Kita before 36 months counts more for German) follow from the same rule.
Random change comes once a year, in August, with SD √(1 − ρ²): a child's spread around its norm
stays one SD at every age, so the thresholds of the examinations keep their meaning from birth
to 18. At birth every child starts at 0 ± 1; the family's norm is reached over the years, so the
gaps between groups widen with age (as the SES gap in early language does).
"""

from __future__ import annotations

import numpy as np

from sim.engine import rng
from sim.engine.mechanisms.takeup import TRAIT_CODES, traits_of_code
from sim.inputs.params import DEVELOPMENT_DOMAINS, RISK_TRAITS, ModelParams

GERMAN = DEVELOPMENT_DOMAINS.index("german")
SCHOOL = DEVELOPMENT_DOMAINS.index("school")
N_DOMAINS = len(DEVELOPMENT_DOMAINS)
EARLY_MONTHS = 36
EARLY_GERMAN_MULTIPLIER = 1.5  # a month of German-speaking care before 36 months counts 1.5 times: assumption


def risk_matrix(params: ModelParams) -> np.ndarray:
    """(traits × domains) shift of the norm."""
    risk = params.development.risk
    return np.array([[risk.get(d, {}).get(t, 0.0) for d in DEVELOPMENT_DOMAINS] for t in RISK_TRAITS], dtype=np.float32)


def persistence(params: ModelParams) -> np.ndarray:
    """(domains,) yearly persistence ρ of a child's distance from its norm."""
    return np.array([params.development.persistence_per_year[d] for d in DEVELOPMENT_DOMAINS])


def monthly_pull(params: ModelParams) -> np.ndarray:
    """(domains,) share of the distance to the norm closed in a month: 1 − ρ^(1/12)."""
    return (1.0 - persistence(params) ** (1 / 12)).astype(np.float32)


def yearly_noise_sd(params: ModelParams) -> np.ndarray:
    """(domains,) SD of the August change that keeps the spread around the norm at one SD."""
    return np.sqrt(1.0 - persistence(params) ** 2).astype(np.float32)


class Development:
    """The monthly step of the children's scores (see the module docstring). Reads the services
    used and the families (ServiceSystem.effective, family_changed, household_key); writes each
    child's dev, dev_rate and rate_ready."""

    def __init__(self, model):
        self.model = model
        self.norm_by_code = norm_by_code(model.params)  # (domains × risk codes) the family's norm
        self.pull = monthly_pull(model.params)
        self.noise_sd = yearly_noise_sd(model.params)

    def step(self, t: int) -> None:
        """One month of development for every row (rows of departed children are updated too:
        cheaper than selecting, and never read).

        The constant part of a child's monthly change, pull × norm + effect / 12, is kept in
        `dev_rate` and re-made only for the rows whose inputs changed: the services used, the
        household's traits or Sozialraum, the 36-month mark of the German effect, or school entry
        (which shifts the school-readiness norm). So a month costs one multiply-add per domain."""
        model = self.model
        ch = model.pop.children
        stale = _stale_rows(model, t)
        if stale.size:
            _refresh_rates(model, t, stale)
        keep = 1.0 - self.pull
        noise = None
        if t % 12 == 7:  # random change once a year, in August
            noise = rng.generator(model.seed, "development", t).standard_normal((ch.n, N_DOMAINS), dtype=np.float32)
        for d in range(N_DOMAINS):  # domain by domain over contiguous columns
            column = ch.dev[:, d]
            column *= keep[d]
            column += ch.dev_rate[:, d]
            if noise is not None:
                column += self.noise_sd[d] * noise[:, d]


def _stale_rows(model, t: int) -> np.ndarray:
    """Rows whose dev_rate no longer fits: new rows, a changed family (this month's household
    keys, see ServiceSystem._mark_family_changes), a changed use of a service with an effect,
    or the 36th month of age (early German ends). School entry marks its rows itself."""
    ch = model.pop.children
    stale = ~ch.rate_ready
    stale[model.services.family_changed] = True
    stale |= (t - ch.birth) == EARLY_MONTHS
    for s in model.services.effective:
        stale |= ch.use[:, s] != ch.use_seen[:, s]
    return np.flatnonzero(stale)


def norm_of(model, rows: np.ndarray) -> np.ndarray:
    """(domains × rows) the norm these children revert to: their family's traits, the
    Sozialraum (school readiness) and their own lasting shift from German at school entry."""
    pop, par = model.pop, model.params.development
    ch, hh = pop.children, pop.households
    h = ch.hh[rows]
    key = model.services.household_key.take(h)
    norm = model.development.norm_by_code.take(risk_code(key, hh.high_education[h]), axis=1)
    typ = model.city_arrays.sozialraum_typ.take(hh.sozialraum[h])
    norm[SCHOOL] += par.neighbourhood_school_per_type * (typ - 1) + ch.school_shift[rows]
    return norm


def _refresh_rates(model, t: int, rows: np.ndarray) -> None:
    pop = model.pop
    ch, hh = pop.children, pop.households
    h = ch.hh[rows]
    norm = norm_of(model, rows)
    # Column by column, and only the services with an effect (the others are never read).
    use = np.zeros((rows.size, ch.use.shape[1]), dtype=bool, order="F")
    for s in model.services.effective:
        use[:, s] = ch.use[:, s].take(rows)
    early = t - ch.birth[rows] < EARLY_MONTHS
    german = _german_effect(model, use, hh.other_language[h], early)
    for d in range(N_DOMAINS):
        effect = german if d == GERMAN else _service_effect(use, model.services.effect_matrix[:, d])
        ch.dev_rate[:, d][rows] = model.development.pull[d] * norm[d] + effect * np.float32(1.0 / 12.0)
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


def norm_by_code(params: ModelParams) -> np.ndarray:
    """(domains × risk codes) norm of every combination of household traits, computed once per model."""
    codes = np.arange(2 * TRAIT_CODES)
    return np.ascontiguousarray((risk_traits_of_code(codes) @ risk_matrix(params)).T)


def _service_effect(use: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """Summed yearly effect of the services each child uses: added service by service in
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
    german = _service_effect(use, effects[:, N_DOMAINS])
    german += other_language * _service_effect(use, effects[:, N_DOMAINS + 1])
    # The four weights (other language or not × before 36 months or not), as float64 products.
    weights = np.array([1.0, EARLY_GERMAN_MULTIPLIER, par.german_effect_multiplier_other_language,
                        par.german_effect_multiplier_other_language * EARLY_GERMAN_MULTIPLIER])
    multiplier = weights.take(2 * other_language.view(np.int8) + early)
    return (german * multiplier).astype(np.float32)


def school_entry_shift(model, rows: np.ndarray) -> None:
    """German at school entry carries into school readiness, for good: a child starting school
    with German below 0 has its school-readiness norm (and value) lowered by german_to_school per SD."""
    ch = model.pop.children
    shift = np.float32(model.params.development.german_to_school) * np.minimum(ch.dev[rows, GERMAN], 0)
    ch.school_shift[rows] += shift
    ch.dev[rows, SCHOOL] += shift
    ch.rate_ready[rows] = False
