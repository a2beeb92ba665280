"""Make the synthetic Düsseldorf: one row per Sozialraum, matching the published city totals.

No per-Sozialraum table of Düsseldorf is published in a form we can ship, so the default
city is drawn. The structure is real (the 10 Stadtbezirke and their 50 Stadtteile); the
Sozialräume inside them and all their numbers are synthetic. Method, top to bottom:

1. Children per Stadtteil = residents x share of under-18s (both rounded assumptions,
   listed below), scaled to about 100,500 children.
2. 170 Sozialräume are shared out over the Stadtteile in proportion to their children
   (largest remainder, at least one each). Within a Stadtteil the children are split by
   lognormal weights, so Sozialräume have uneven sizes (mostly 100 to 1,400 children).
3. Need: each Stadtteil has a prior SGB II share (an informed assumption from the
   published spread: near 0 in the north, high in Hassels, Flingern-Süd, Garath, Rath,
   Wersten, ...). Each Sozialraum adds noise on the logit scale. The worst Sozialraum of
   Hassels is pinned to 0.62 (Hassels-Nord 64%) and of Flingern-Süd to 0.54
   (Kiefernstraße); the others are shifted on the logit scale until the child-weighted
   city mean is exactly 17.5%, and capped below the Hassels value.
4. Age bands: the city totals per band are fixed; high-need Sozialräume get a slightly
   younger age mix. Each band is shared out to whole children that sum exactly.
5. Other language at home, single parents and low income (Kinderzuschlag/Wohngeld, not
   SGB II) follow the SGB II share with noise, each calibrated to its city mean.
6. Sozialraumtyp 1-5 comes from a composite need index (SGB II, single parents, other
   language) cut into classes of about 25/25/20/17/13% of Sozialräume, so that type 5
   holds 22 Sozialräume (the 2024 Quartiersatlas names 28 high-need quarters, 12 very high).
7. Places and facilities are shared out so that the city totals match the published
   ones exactly: U3 Kita and Tagespflege with a lower coverage in high-need Sozialräume,
   Ü3 Kita and OGS with per-Sozialraum coverage inside a plausible band, Familienzentren
   and plusKITA concentrated where need is high.

One seed (numpy default_rng) drives every draw, so two runs write byte-identical files
(with the same numpy version; numpy does not promise identical streams across versions).

Run:  python experiments/make_synthetic_city.py [--seed N] [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(REPO_ROOT))

from sim.inputs.city import AGE_BANDS, REQUIRED_COLUMNS, SHARE_COLUMNS, load_city  # noqa: E402

SEED = 20240917
N_SOZIALRAEUME = 170
OUT_DIR = REPO_ROOT / "sim" / "data"
CSV_NAME = "duesseldorf_synthetic.csv"
META_NAME = "duesseldorf_synthetic.meta.yaml"

# Stadtbezirk -> Stadtteil -> (residents, share under 18, prior SGB II share of children).
# Assumptions: residents rounded from city statistics of recent years; the two shares are
# informed guesses consistent with the published spread, not published figures.
STADTTEILE: dict[int, dict[str, tuple[int, float, float]]] = {
    1: {
        "Altstadt": (2_300, 0.07, 0.15),
        "Carlstadt": (2_300, 0.09, 0.06),
        "Stadtmitte": (15_000, 0.11, 0.22),
        "Pempelfort": (32_000, 0.13, 0.10),
        "Derendorf": (22_000, 0.14, 0.13),
        "Golzheim": (14_000, 0.14, 0.05),
    },
    2: {
        "Flingern-Süd": (10_000, 0.16, 0.40),
        "Flingern-Nord": (26_000, 0.14, 0.17),
        "Düsseltal": (27_000, 0.15, 0.07),
    },
    3: {
        "Friedrichstadt": (20_000, 0.13, 0.20),
        "Unterbilk": (17_000, 0.13, 0.09),
        "Hafen": (400, 0.05, 0.10),
        "Hamm": (5_000, 0.16, 0.15),
        "Volmerswerth": (4_500, 0.17, 0.08),
        "Bilk": (38_000, 0.12, 0.18),
        "Oberbilk": (29_000, 0.16, 0.36),
        "Flehe": (7_500, 0.16, 0.12),
    },
    4: {
        "Oberkassel": (18_000, 0.17, 0.03),
        "Heerdt": (13_000, 0.17, 0.28),
        "Lörick": (10_000, 0.17, 0.07),
        "Niederkassel": (6_000, 0.18, 0.03),
    },
    5: {
        "Stockum": (5_000, 0.16, 0.06),
        "Lohausen": (9_000, 0.17, 0.04),
        "Kaiserswerth": (8_000, 0.17, 0.02),
        "Wittlaer": (7_000, 0.18, 0.02),
        "Angermund": (5_500, 0.19, 0.02),
        "Kalkum": (2_000, 0.18, 0.02),
    },
    6: {
        "Lichtenbroich": (5_000, 0.17, 0.10),
        "Unterrath": (22_000, 0.16, 0.16),
        "Rath": (19_000, 0.17, 0.35),
        "Mörsenbroich": (18_000, 0.15, 0.20),
    },
    7: {
        "Gerresheim": (28_000, 0.16, 0.22),
        "Grafenberg": (6_500, 0.15, 0.08),
        "Ludenberg": (8_000, 0.16, 0.06),
        "Hubbelrath": (1_500, 0.17, 0.03),
        "Knittkuhl": (2_500, 0.18, 0.08),
    },
    8: {
        "Eller": (30_000, 0.16, 0.26),
        "Lierenfeld": (9_000, 0.18, 0.35),
        "Vennhausen": (10_500, 0.16, 0.13),
        "Unterbach": (8_000, 0.17, 0.07),
    },
    9: {
        "Wersten": (27_000, 0.16, 0.30),
        "Himmelgeist": (2_000, 0.17, 0.02),
        "Holthausen": (12_000, 0.17, 0.32),
        "Reisholz": (4_500, 0.18, 0.30),
        "Benrath": (20_000, 0.15, 0.10),
        "Urdenbach": (10_000, 0.17, 0.06),
        "Itter": (2_500, 0.17, 0.05),
        "Hassels": (10_500, 0.20, 0.45),
    },
    10: {
        "Garath": (19_000, 0.19, 0.38),
        "Hellerhof": (6_000, 0.19, 0.09),
    },
}

# Published city totals (children per band; places), see PUBLISHED below for sources.
CHILDREN_BY_BAND = {
    "children_0_2": 18_000,
    "children_3_5": 17_500,
    "children_6_9": 22_500,
    "children_10_15": 32_000,
    "children_16_17": 10_500,
}
SGB2_MEAN = 0.175
OTHER_LANGUAGE_MEAN = 0.34
SINGLE_PARENT_MEAN = 0.20
LOW_INCOME_MEAN = 0.06
ANCHORS = {"Hassels": 0.62, "Flingern-Süd": 0.54}  # worst Sozialraum of these Stadtteile
SGB2_CAP_OTHERS = 0.52  # no other Sozialraum above Flingern-Süd
PLACES_U3_KITA = 5_900
PLACES_TAGESPFLEGE = 3_800
# Ü3 places serve children from 3 to school entry (school entry at 5y10m-6y9m, NRW cut-off 30 September),
# and a place taken in August is held all year: by July up to 3.8 year-cohorts attend. Covering 97-99%
# of them (Kita planning 2016-2019) takes about 1.25 places per child aged 3-5 (derived assumption).
UE3_COVERAGE = 1.25
OGS_COVERAGE = 0.655
FAMILIENZENTREN = 89
PLUSKITA_KITAS = 90
TYPE_SHARES = (0.25, 0.25, 0.20, 0.17, 0.13)

# Assumed spreads and strengths of the need gradients.
SIZE_SD = 0.3  # lognormal sd of Sozialraum sizes within a Stadtteil
SGB2_NOISE_SD = 0.45  # logit scale, within a Stadtteil
YOUNG_TILT = {"children_0_2": 0.10, "children_3_5": 0.06, "children_6_9": 0.02,
              "children_10_15": -0.03, "children_16_17": -0.05}  # per SD of need
# logit(share) = a + slope * logit(SGB II share) + noise: (slope, noise sd, clip bounds)
OTHER_LANGUAGE_MODEL = (0.85, 0.30, (0.06, 0.78))
SINGLE_PARENT_MODEL = (0.35, 0.18, (0.07, 0.42))
U3_COVERAGE_GRADIENT = 0.22  # log coverage per SD of need
NO_TAGESPFLEGE_SHARE = 0.12
UE3_COVERAGE_BAND, UE3_COVERAGE_LIMITS = (1.16, 1.34), (1.13, 1.37)  # drawn, then kept inside
OGS_RATIO_BAND, OGS_RATIO_LIMITS = (0.52, 0.78), (0.50, 0.80)
FAMILIENZENTRUM_WEIGHT = {1: 0.5, 2: 0.75, 3: 1.0, 4: 1.6, 5: 2.4}
PLUSKITA_WEIGHT = {1: 0.05, 2: 0.25, 3: 0.8, 4: 1.8, 5: 3.2}

PUBLISHED = [
    {"name": "Stadtbezirke", "value": 10, "source": "Stadt Düsseldorf (10 Stadtbezirke, 50 Stadtteile)"},
    {"name": "Sozialräume", "value": N_SOZIALRAEUME,
     "source": "Sozialräumliche Gliederung 2017 (179) and Quartiersatlas Düsseldorf 2024 (171)"},
    {"name": "children under 18", "value": sum(CHILDREN_BY_BAND.values()),
     "source": "Stadt Düsseldorf register (about 102,000 under 18); split into age bands by assumption"},
    {"name": "children 0-2", "value": CHILDREN_BY_BAND["children_0_2"],
     "source": "Stadt Düsseldorf Kita plan 2024/25 (about 18,000 children under 3)"},
    {"name": "child-weighted SGB II share", "value": SGB2_MEAN,
     "source": "Bundesagentur für Arbeit via Arbeitslosenreport NRW 1/2022 (Nov 2021)"},
    {"name": "lowest Sozialraum SGB II share", "value": "about 0.00-0.05",
     "source": "Sozialräumliche Gliederung 2017 via Rheinische Post 05/2018 (north near 0)"},
    {"name": "highest Sozialraum SGB II share", "value": ANCHORS["Hassels"],
     "source": "Quartiersatlas 2024 (Hassels-Nord 0.642); Flingern-Süd/Kiefernstraße 0.541 (2017)"},
    {"name": "other language at home, child-weighted", "value": OTHER_LANGUAGE_MEAN,
     "source": "Stadt Düsseldorf, Kita children 2016 (34%)"},
    {"name": "Sozialräume of the highest need type", "value": "22 (type 5)",
     "source": "Quartiersatlas 2024: 28 high-need quarters, 12 of them very high"},
    {"name": "U3 places in Kitas", "value": PLACES_U3_KITA, "source": "Stadt Düsseldorf Kita plan 2024/25"},
    {"name": "Kindertagespflege places", "value": PLACES_TAGESPFLEGE,
     "source": "Stadt Düsseldorf Kita plan 2024/25 (9,700 U3 places incl. ~3,800 Tagespflege)"},
    {"name": "Ü3 Kita places per child aged 3-5", "value": UE3_COVERAGE,
     "source": "Düsseldorf Kita planning: 97.2% (2016/17), 99.1% planned (2018/19) coverage of children "
               "from 3 to school entry; converted to places per child aged 3-5 by the NRW cut-off "
               "(places held all Kita year by up to 3.8 year-cohorts): a derived value, not a published one"},
    {"name": "OGS places per child aged 6-9", "value": OGS_COVERAGE,
     "source": "Rheinische Post 05/2017: 14,200 of 20,500 pupils in OGS, about 600 waiting"},
    {"name": "Familienzentren", "value": FAMILIENZENTREN, "source": "Stadt Düsseldorf (2018)"},
]

ASSUMPTIONS = [
    {"name": "stadtteil_residents_and_child_share",
     "text": "Residents per Stadtteil rounded from recent city statistics; share of under-18s per "
             "Stadtteil guessed (0.05 Hafen to 0.20 Hassels). Only the relative sizes matter: "
             "children are scaled to the city total.",
     "values": {st: {"residents": r, "share_under_18": c}
                for parts in STADTTEILE.values() for st, (r, c, _) in parts.items()}},
    {"name": "stadtteil_need_prior",
     "text": "Prior SGB II share of children per Stadtteil, an informed guess from the published "
             "spread; shifted together on the logit scale to hit the city mean.",
     "values": {st: p for parts in STADTTEILE.values() for st, (_, _, p) in parts.items()}},
    {"name": "within_stadtteil_need_noise",
     "text": f"Sozialraum SGB II share = Stadtteil prior plus normal noise, sd {SGB2_NOISE_SD} on the "
             "logit scale; the worst Sozialraum of Hassels is pinned to 0.62 and of Flingern-Süd to "
             f"0.54; all others are capped at {SGB2_CAP_OTHERS}."},
    {"name": "sozialraum_sizes",
     "text": "Sozialräume per Stadtteil in proportion to its children (at least one); sizes inside a "
             f"Stadtteil vary by lognormal weights (sd {SIZE_SD})."},
    {"name": "younger_children_where_need_is_high",
     "text": f"Age mix tilted per SD of need by {YOUNG_TILT} (log scale); band totals fixed. "
             "The city totals per band are rounded values (about 100,500 under 18)."},
    {"name": "other_language_follows_need",
     "text": "logit(other language) = a + {0} logit(SGB II) + noise (sd {1}), a set for the city "
             "mean 0.34, clipped to {2}.".format(*OTHER_LANGUAGE_MODEL)},
    {"name": "single_parents_follow_need",
     "text": "logit(single parent) = a + {0} logit(SGB II) + noise (sd {1}), a set for the city "
             "mean 0.20, clipped to {2}.".format(*SINGLE_PARENT_MODEL)},
    {"name": "low_income_not_sgb2",
     "text": "Children with Kinderzuschlag or Wohngeld but not SGB II: proportional to "
             "sqrt(SGB II share) + 0.15 with lognormal noise (sd 0.2), scaled to the city mean 0.06."},
    {"name": "sozialraum_typ_classes",
     "text": "Need index = 0.5 z(logit SGB II) + 0.25 z(logit single parent) + 0.25 z(logit other "
             f"language); types 1-5 are rank classes of {TYPE_SHARES} of Sozialräume."},
    {"name": "u3_coverage_lower_where_need_is_high",
     "text": f"U3 places follow children 0-2 times exp(-{U3_COVERAGE_GRADIENT} x need z + noise sd 0.2); "
             f"Tagespflege share per Sozialraum Beta(4,6), {NO_TAGESPFLEGE_SHARE:.0%} of Sozialräume "
             "without Tagespflege."},
    {"name": "ue3_and_ogs_coverage_bands",
     "text": f"Ü3 places per child 3-5 drawn in {UE3_COVERAGE_BAND}, OGS places per child 6-9 in "
             f"{OGS_RATIO_BAND}, then scaled to the city totals and kept within {UE3_COVERAGE_LIMITS} "
             f"and {OGS_RATIO_LIMITS}; families may use places next door."},
    {"name": "facilities_follow_need",
     "text": f"Familienzentren drawn (systematic sampling, fixed total) with weights children 0-5 x "
             f"{FAMILIENZENTRUM_WEIGHT} per type x lognormal noise (sd 0.3); plusKITA Kitas (city total "
             f"{PLUSKITA_KITAS}, itself an assumption) likewise with {PLUSKITA_WEIGHT}."},
]


def generate(seed: int = SEED) -> pd.DataFrame:
    """Draw the synthetic city. Same seed, same table."""
    rng = np.random.default_rng(seed)
    rows = _sozialraeume(rng)
    n = len(rows)

    latent = _logit(rows["prior"].to_numpy()) + rng.normal(0.0, SGB2_NOISE_SD, n)
    anchor = _anchor_mask(rows, latent)
    need_z = _z(latent)

    children = _children_by_band(rows["weight"].to_numpy(), need_z)
    total = children.sum(axis=1)

    sgb2 = _calibrate_sgb2(latent, anchor, rows["stadtteil"].to_numpy(), total)
    other_language = _follow_need(rng, sgb2, total, *OTHER_LANGUAGE_MODEL, OTHER_LANGUAGE_MEAN)
    single_parent = _follow_need(rng, sgb2, total, *SINGLE_PARENT_MODEL, SINGLE_PARENT_MEAN)
    low_income = _low_income(rng, sgb2, total)
    typ = _sozialraum_typ(sgb2, single_parent, other_language)

    table = pd.DataFrame({
        "sozialraum_id": rows["sozialraum_id"],
        "label": rows["label"],
        "stadtbezirk": rows["stadtbezirk"],
        "stadtteil": rows["stadtteil"],
        "sozialraum_typ": typ,
    })
    for j, band in enumerate(AGE_BANDS):
        table[band] = children[:, j]
    table["sgb2_share"] = sgb2
    table["low_income_share"] = low_income
    table["other_language_share"] = other_language
    table["single_parent_share"] = single_parent
    for column, values in _places(rng, table, need_z).items():
        table[column] = values
    for column in SHARE_COLUMNS:
        table[column] = table[column].round(4)
    return table[list(REQUIRED_COLUMNS)]


# --- structure -----------------------------------------------------------------


def _sozialraeume(rng: np.random.Generator) -> pd.DataFrame:
    """One row per Sozialraum: ids, labels, Stadtteil prior and relative child weight."""
    stadtteile = [(bezirk, name, r * c, prior)
                  for bezirk, parts in STADTTEILE.items() for name, (r, c, prior) in parts.items()]
    children = np.array([s[2] for s in stadtteile], dtype=float)
    counts = _apportion_at_least_one(children, N_SOZIALRAEUME)
    rows = []
    for (bezirk, name, kids, prior), k in zip(stadtteile, counts):
        weights = rng.lognormal(0.0, SIZE_SD, k)
        for i, w in enumerate(weights / weights.sum()):
            rows.append({"stadtbezirk": bezirk, "stadtteil": name, "number": i + 1,
                         "prior": prior, "weight": kids * w})
    rows = pd.DataFrame(rows)
    running = rows.groupby("stadtbezirk").cumcount() + 1
    rows["sozialraum_id"] = [f"{b:02d}{r:02d}" for b, r in zip(rows["stadtbezirk"], running)]
    rows["label"] = [f"{s} {k} (synthetisch)" for s, k in zip(rows["stadtteil"], rows["number"])]
    return rows


def _children_by_band(weight: np.ndarray, need_z: np.ndarray) -> np.ndarray:
    """Whole children per Sozialraum and band; each band sums exactly to its city total."""
    city = sum(CHILDREN_BY_BAND.values())
    mix = np.column_stack([
        band_total / city * np.exp(YOUNG_TILT[band] * need_z) for band, band_total in CHILDREN_BY_BAND.items()
    ])
    mix /= mix.sum(axis=1, keepdims=True)
    expected = weight[:, None] * mix
    return np.column_stack([
        _apportion(expected[:, j], total) for j, total in enumerate(CHILDREN_BY_BAND.values())
    ])


# --- need ------------------------------------------------------------------------


def _anchor_mask(rows: pd.DataFrame, latent: np.ndarray) -> np.ndarray:
    anchor = np.zeros(len(rows), dtype=bool)
    for stadtteil in ANCHORS:
        idx = np.flatnonzero(rows["stadtteil"].to_numpy() == stadtteil)
        anchor[idx[np.argmax(latent[idx])]] = True
    return anchor


def _calibrate_sgb2(latent, anchor, stadtteil, children) -> np.ndarray:
    """Pin the anchors, then shift the rest on the logit scale to hit the city mean exactly."""
    fixed = np.zeros(len(latent))
    for i in np.flatnonzero(anchor):
        fixed[i] = ANCHORS[stadtteil[i]]

    def shares(shift: float) -> np.ndarray:
        free = np.clip(_expit(latent + shift), 0.0, SGB2_CAP_OTHERS)
        return np.where(anchor, fixed, free)

    shift = _solve(lambda s: np.dot(shares(s), children) / children.sum() - SGB2_MEAN)
    return shares(shift)


def _follow_need(rng, sgb2, children, slope, noise_sd, bounds, mean) -> np.ndarray:
    base = slope * _logit(np.clip(sgb2, 0.005, 0.995)) + rng.normal(0.0, noise_sd, len(sgb2))
    shift = _solve(lambda a: np.dot(np.clip(_expit(base + a), *bounds), children) / children.sum() - mean)
    return np.clip(_expit(base + shift), *bounds)


def _low_income(rng, sgb2, children) -> np.ndarray:
    raw = (np.sqrt(sgb2) + 0.15) * rng.lognormal(0.0, 0.2, len(sgb2))
    share = raw * LOW_INCOME_MEAN / (np.dot(raw, children) / children.sum())
    return np.minimum(share, 1.0 - sgb2)


def _sozialraum_typ(sgb2, single_parent, other_language) -> np.ndarray:
    index = (0.5 * _z(_logit(np.clip(sgb2, 0.005, 0.995)))
             + 0.25 * _z(_logit(single_parent)) + 0.25 * _z(_logit(other_language)))
    sizes = _apportion(np.array(TYPE_SHARES), len(index))
    order = np.argsort(index, kind="stable")
    typ = np.empty(len(index), dtype=np.int64)
    typ[order] = np.repeat(np.arange(1, 6), sizes)
    return typ


# --- places ------------------------------------------------------------------------


def _places(rng, table: pd.DataFrame, need_z: np.ndarray) -> dict[str, np.ndarray]:
    n = len(table)
    c02 = table["children_0_2"].to_numpy(dtype=float)
    c35 = table["children_3_5"].to_numpy(dtype=float)
    c69 = table["children_6_9"].to_numpy(dtype=float)
    typ = table["sozialraum_typ"].to_numpy()

    u3 = c02 * np.exp(-U3_COVERAGE_GRADIENT * need_z + rng.normal(0.0, 0.2, n))
    tagespflege_share = rng.beta(4, 6, n) * (rng.random(n) >= NO_TAGESPFLEGE_SHARE)
    ue3 = c35 * rng.uniform(*UE3_COVERAGE_BAND, n)
    ogs = c69 * (OGS_RATIO_BAND[0] + (OGS_RATIO_BAND[1] - OGS_RATIO_BAND[0]) * rng.beta(3, 3, n))
    young = c02 + c35
    fz = young * np.vectorize(FAMILIENZENTRUM_WEIGHT.get)(typ) * rng.lognormal(0.0, 0.3, n)
    plus = young * np.vectorize(PLUSKITA_WEIGHT.get)(typ) * rng.lognormal(0.0, 0.3, n)
    return {
        "places_u3_kita": _apportion(u3 * (1 - tagespflege_share), PLACES_U3_KITA),
        "places_tagespflege": _apportion(u3 * tagespflege_share, PLACES_TAGESPFLEGE),
        "places_ue3_kita": _apportion_within(ue3, round(UE3_COVERAGE * c35.sum()), c35, UE3_COVERAGE_LIMITS),
        "places_ogs": _apportion_within(ogs, round(OGS_COVERAGE * c69.sum()), c69, OGS_RATIO_LIMITS),
        # Facilities are few (89, 90): a random draw keeps some in low-need Sozialräume too.
        "familienzentren": _systematic(rng, fz, FAMILIENZENTREN),
        "pluskita_kitas": _systematic(rng, plus, PLUSKITA_KITAS),
    }


# --- small numerics ---------------------------------------------------------------


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to weights that sum exactly to total (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    quota = weights / weights.sum() * total
    result = np.floor(quota).astype(np.int64)
    short = total - result.sum()
    result[np.argsort(-(quota - result), kind="stable")[:short]] += 1
    return result


def _apportion_at_least_one(weights: np.ndarray, total: int) -> np.ndarray:
    """Largest remainder, but every unit gets at least one (small units take one seat each)."""
    weights = np.asarray(weights, dtype=float)
    small = np.zeros(len(weights), dtype=bool)
    while True:
        result = np.ones(len(weights), dtype=np.int64)
        result[~small] = _apportion(weights[~small], total - small.sum())
        if (result >= 1).all():
            return result
        small |= result < 1


def _apportion_within(weights, total: int, children, limits) -> np.ndarray:
    """Largest remainder, then keep places per child within limits; big units absorb the rest."""
    result = _apportion(weights, total)
    low = np.ceil(limits[0] * children - 1e-9).astype(np.int64)
    high = np.floor(limits[1] * children + 1e-9).astype(np.int64)
    result = np.clip(result, low, high)
    by_size = np.argsort(-children, kind="stable")
    while (gap := total - result.sum()) != 0:
        step = 1 if gap > 0 else -1
        slack = (high - result) if step > 0 else (result - low)
        candidates = by_size[slack[by_size] > 0][: abs(gap)]
        if candidates.size == 0:
            raise ValueError("the limits leave no room for the total")
        result[candidates] += step
    return result


def _systematic(rng: np.random.Generator, weights, total: int) -> np.ndarray:
    """Random whole numbers, each the floor or ceiling of its quota, summing exactly to total."""
    cumulative = np.cumsum(weights / np.sum(weights) * total)
    cumulative[-1] = total
    hits = np.floor(cumulative - rng.random()).astype(np.int64)
    return np.diff(hits, prepend=-1)


def _solve(f, low: float = -20.0, high: float = 20.0) -> float:
    """Root of an increasing function by bisection (deterministic, no tolerance surprises)."""
    for _ in range(200):
        mid = (low + high) / 2
        if f(mid) < 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _logit(p):
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-x))


def _z(x):
    return (x - x.mean()) / x.std()


# --- output ------------------------------------------------------------------------


def write(table: pd.DataFrame, out_dir: Path | str = OUT_DIR, seed: int = SEED) -> tuple[Path, Path]:
    """Write the CSV and its meta sidecar; returns both paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, meta_path = out_dir / CSV_NAME, out_dir / META_NAME
    table.to_csv(csv_path, index=False, float_format="%.4f", lineterminator="\n", encoding="utf-8")
    meta = {
        "title": "Synthetisches Düsseldorf",
        "synthetic": True,
        "generated_by": "experiments/make_synthetic_city.py",
        "seed": int(seed),
        "description": "The real 10 Stadtbezirke and 50 Stadtteile of Düsseldorf; the Sozialräume and "
                       "all their numbers are drawn to match the published city totals below. Not real "
                       "data about any real quarter.",
        "published_totals": PUBLISHED,
        "assumptions": ASSUMPTIONS,
    }
    with meta_path.open("w", encoding="utf-8", newline="\n") as handle:
        yaml.safe_dump(meta, handle, allow_unicode=True, sort_keys=False, width=100)
    return csv_path, meta_path


def summary_text(table: pd.DataFrame) -> str:
    children = table[list(AGE_BANDS)].sum(axis=1)
    weighted = {c: float((table[c] * children).sum() / children.sum()) for c in SHARE_COLUMNS}
    lines = [f"Sozialräume: {len(table)}   Stadtteile: {table['stadtteil'].nunique()}   "
             f"children under 18: {int(children.sum()):,}"]
    lines.append("  " + "   ".join(f"{b}: {int(table[b].sum()):,}" for b in AGE_BANDS))
    lines.append("  children per Sozialraum: "
                 f"min {children.min()}, median {int(children.median())}, max {children.max()}")
    lines.append("child-weighted shares: " + "   ".join(f"{c} {v:.4f}" for c, v in weighted.items()))
    worst, best = table["sgb2_share"].idxmax(), table["sgb2_share"].idxmin()
    lines.append(f"SGB II share: min {table['sgb2_share'].min():.4f} ({table.at[best, 'label']}), "
                 f"max {table['sgb2_share'].max():.4f} ({table.at[worst, 'label']})")
    for c in ("other_language_share", "single_parent_share", "low_income_share"):
        lines.append(f"  {c}: {table[c].min():.4f} to {table[c].max():.4f}")
    total = table.select_dtypes("integer").sum()
    u3 = total["places_u3_kita"] + total["places_tagespflege"]
    lines.append(f"places: U3 Kita {total['places_u3_kita']:,} + Tagespflege {total['places_tagespflege']:,} "
                 f"= {u3:,} ({u3 / total['children_0_2']:.3f} of 0-2); "
                 f"Ü3 Kita {total['places_ue3_kita']:,} ({total['places_ue3_kita'] / total['children_3_5']:.3f} "
                 f"of 3-5); OGS {total['places_ogs']:,} ({total['places_ogs'] / total['children_6_9']:.3f} of 6-9)")
    lines.append(f"Familienzentren {table['familienzentren'].sum()}   plusKITA Kitas {table['pluskita_kitas'].sum()}")
    by_typ = table.groupby("sozialraum_typ").apply(
        lambda g: (len(g), (g["sgb2_share"] * g[list(AGE_BANDS)].sum(axis=1)).sum()
                   / g[list(AGE_BANDS)].sum(axis=1).sum()), include_groups=False)
    lines.append("per Sozialraumtyp (count, SGB II share): "
                 + "   ".join(f"{t}: {n} ({s:.3f})" for t, (n, s) in by_typ.items()))
    by_bezirk = table.groupby("stadtbezirk").size()
    lines.append("Sozialräume per Stadtbezirk: " + "   ".join(f"{b}: {n}" for b, n in by_bezirk.items()))
    return "\n".join(lines)


def main(out_dir: Path | str = OUT_DIR, seed: int = SEED, quiet: bool = False) -> tuple[Path, Path]:
    table = generate(seed)
    paths = write(table, out_dir, seed)
    load_city(paths[0])  # the written file must pass the same checks as any planner's table
    if not quiet:
        print(f"wrote {paths[0]} and {paths[1].name}")
        print(summary_text(table))
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    main(args.out_dir, args.seed)
