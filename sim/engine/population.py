"""The population as a structure of arrays: households and children, built from the Sozialraum table.

An individual is a row index, not an object. Every random draw that belongs to one household or
child is a hash of its id (see sim.engine.rng), so the same seed always builds the same city.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from sim.engine import rng
from sim.engine.table import ArrayTable
from sim.inputs.params import DEVELOPMENT_DOMAINS, ModelParams

STATUS_NOT_POOR, STATUS_LOW_INCOME, STATUS_SGB2 = 0, 1, 2
STATUS_NAMES = ("not_poor", "low_income", "sgb2")
AGE_OUT_MONTHS = 216
BANDS_MONTHS = ((0, 35), (36, 71), (72, 119), (120, 191), (192, 215))
BAND_COLUMNS = ("children_0_2", "children_3_5", "children_6_9", "children_10_15", "children_16_17")
# Households by number of children under 18 (assumption, close to the Mikrozensus for German cities).
HOUSEHOLD_SIZE_SHARES = {1: 0.50, 2: 0.36, 3: 0.11, 4: 0.03}
HOUSEHOLD_SIZES = np.array(list(HOUSEHOLD_SIZE_SHARES))
HOUSEHOLD_SIZE_P = np.array(list(HOUSEHOLD_SIZE_SHARES.values()))
MEAN_HOUSEHOLD_CHILDREN = float(HOUSEHOLD_SIZES @ HOUSEHOLD_SIZE_P)
AUGUST = 7  # month index within the year (January = 0)


def school_start_month(birth: np.ndarray) -> np.ndarray:
    """Absolute month of school entry: 1 August of the year a child turns 6 by 30 September (NRW)."""
    year, month = np.divmod(birth, 12)
    return 12 * (year + np.where(month <= 8, 6, 7)) + AUGUST


@dataclass
class CityArrays:
    """The parts of the Sozialraum table the engine needs, as arrays (index = Sozialraum row)."""

    sgb2_share: np.ndarray
    low_income_share: np.ndarray
    other_language_share: np.ndarray
    single_parent_share: np.ndarray
    stadtbezirk: np.ndarray
    sozialraum_typ: np.ndarray
    children_by_band: np.ndarray

    @classmethod
    def from_table(cls, table) -> "CityArrays":
        return cls(
            sgb2_share=table["sgb2_share"].to_numpy(float),
            low_income_share=table["low_income_share"].to_numpy(float),
            other_language_share=table["other_language_share"].to_numpy(float),
            single_parent_share=table["single_parent_share"].to_numpy(float),
            stadtbezirk=table["stadtbezirk"].to_numpy(np.int16),
            sozialraum_typ=table["sozialraum_typ"].to_numpy(np.int16),
            children_by_band=table[list(BAND_COLUMNS)].to_numpy(np.int64),
        )

    @property
    def need(self) -> np.ndarray:
        """0..1 need index of a Sozialraum, used for the education mix (assumption)."""
        return np.clip(self.sgb2_share / 0.64, 0, 1)


def sgb2_exit_hazard(params, single_parent: np.ndarray, employed: np.ndarray) -> np.ndarray:
    """Yearly hazard of leaving SGB II by the household's situation: single parents leave more
    slowly (Lietzmann, IAB-Kurzbericht 12/2009), households with work faster (assumption);
    the factors are demography.sgb2_exit_factor."""
    d = params.demography
    factor = np.where(single_parent, d.sgb2_exit_factor["single_parent"], 1.0) * np.where(
        employed, d.sgb2_exit_factor["employed"], 1.0)
    return np.minimum(d.sgb2_exit_per_year * factor, 0.99)


class Population:
    """Households and children of the city, with the service states the mechanisms update."""

    def __init__(self, city: CityArrays, params: ModelParams, n_services: int, seed: int, scale: float, t0: int,
                 household_unit: np.ndarray):
        self.city = city
        self.params = params
        self.seed = seed
        n_children = int(city.children_by_band.sum() * scale * 1.3) + 1000
        S = n_services
        self.households = ArrayTable(
            {
                "hid": (np.uint64, (), 0),
                "alive": (bool, (), False),
                "sozialraum": (np.int16, (), 0),
                "status": (np.int8, (), 0),
                "status_since": (np.int32, (), 0),
                "single_parent": (bool, (), False),
                "low_education": (bool, (), False),
                "high_education": (bool, (), False),
                "other_language": (bool, (), False),
                "employed": (bool, (), False),
                "z": (np.float32, (), 0.0),
                # The household traits that take-up depends on, as of the last take-up decision
                # (sim.engine.mechanisms.services): a change re-decides its children's take-up.
                "takeup_key": (np.int32, (), -1),
            },
            capacity=n_children // 2,
        )
        self.children = ArrayTable(
            {
                "cid": (np.uint64, (), 0),
                "alive": (bool, (), False),
                "hh": (np.intp, (), 0),  # an index into households: intp saves a conversion per gather
                "birth": (np.int32, (), 0),
                "first_born": (bool, (), False),
                "school_start": (np.int32, (), 0),
                "arrived": (np.int32, (), 0),
                "dev": (np.float32, (len(DEVELOPMENT_DOMAINS),), 0.0),
                # The monthly change of dev and the services used when it was made
                # (sim.engine.mechanisms.development); new rows start without one.
                "dev_rate": (np.float32, (len(DEVELOPMENT_DOMAINS),), 0.0),
                "rate_ready": (bool, (), False),
                # Lasting shift of the school-readiness norm from German at school entry (development).
                "school_shift": (np.float32, (), 0.0),
                "use_seen": (bool, (S,), False),
                "use": (bool, (S,), False),
                "ever": (bool, (S,), False),
                "first_age": (np.int16, (S,), -1),
                "until": (np.int32, (S,), -1),
                "place": (np.int16, (S,), -1),
                "waiting": (bool, (S,), False),
                "handover": (bool, (S,), False),
                # Cached take-up decision (propensity below the take-up probability), re-made by
                # sim.engine.mechanisms.services where pending; new rows start pending.
                "takes_up": (bool, (S,), False),
                "takeup_pending": (bool, (S,), True),
                "takes_up_far": (bool, (S,), False),  # the same, for a place elsewhere in the Stadtbezirk
                "registers_early": (bool, (S,), False),  # the same, before the main round's deadline
                "cover_seen": (bool, (S,), False),
                "kita_entry_age": (np.int16, (), -1),
                "gymnasium": (np.int8, (), -1),
            },
            capacity=n_children,
        )
        self.next_hid = 1
        self.next_cid = 1
        self.household_unit = household_unit  # services decided once per household share a propensity
        self._build(scale, t0)

    # ---- creation -------------------------------------------------------------------------
    def _ids(self, kind: str, count: int) -> np.ndarray:
        start = self.next_hid if kind == "hid" else self.next_cid
        ids = np.arange(start, start + count, dtype=np.uint64)
        if kind == "hid":
            self.next_hid += count
        else:
            self.next_cid += count
        return ids

    def add_households(self, sozialraum: np.ndarray, t: int) -> np.ndarray:
        """New households in the given Sozialräume, traits drawn from the Sozialraum's shares."""
        count = sozialraum.size
        hid = self._ids("hid", count)
        c, d = self.city, self.params.demography
        rho = d.trait_correlation
        z_pov = rng.normals(self.seed, "hh:poverty", hid)

        def trait(stream: str, share: np.ndarray, strength: float) -> np.ndarray:
            mix = strength * rho * z_pov + np.sqrt(1 - (strength * rho) ** 2) * rng.normals(self.seed, stream, hid)
            return mix < ndtri(np.clip(share, 1e-6, 1 - 1e-6))

        sgb2 = c.sgb2_share[sozialraum]
        low = c.low_income_share[sozialraum]
        status = np.where(z_pov < ndtri(np.clip(sgb2, 1e-6, 1 - 1e-6)), STATUS_SGB2,
                          np.where(z_pov < ndtri(np.clip(sgb2 + low, 1e-6, 1 - 1e-6)), STATUS_LOW_INCOME, STATUS_NOT_POOR))
        need = c.need[sozialraum]
        edu = rho * z_pov + np.sqrt(1 - rho**2) * rng.normals(self.seed, "hh:education", hid)
        low_edu = edu < ndtri(0.08 + 0.45 * need)
        high_edu = edu > ndtri(1 - np.maximum(0.08, 0.55 - 0.6 * need))
        rows = self.households.append(
            count,
            hid=hid,
            alive=True,
            sozialraum=sozialraum,
            status=status,
            single_parent=trait("hh:single", c.single_parent_share[sozialraum], 1.0),
            other_language=trait("hh:language", c.other_language_share[sozialraum], 0.6),
            low_education=low_edu,
            high_education=high_edu & ~low_edu,
            z=rng.normals(self.seed, "hh:propensity", hid),
        )
        self.redraw_employment(rows, t)
        self.households.status_since[rows] = t - self._spell_age(rows)
        return rows

    def _spell_age(self, rows: np.ndarray) -> np.ndarray:
        """Months these households have already spent in their current status (backward
        recurrence of a constant hazard: the household's own exit hazard from SGB II)."""
        h, d = self.households, self.params.demography
        status = h.status[rows]
        yearly = np.where(status == STATUS_SGB2, sgb2_exit_hazard(self.params, h.single_parent[rows], h.employed[rows]),
                          d.low_income_exit_per_year)
        u = rng.uniforms(self.seed, "hh:spell", h.hid[rows])
        return np.where(status == STATUS_NOT_POOR, 0, np.floor(np.log(u) / np.log1p(-yearly / 12))).astype(np.int32)

    def redraw_employment(self, rows: np.ndarray, t: int) -> None:
        h = self.households
        share = self.params.demography.employed_share
        p = np.choose(h.status[rows], [share["not_poor"], share["low_income"], share["sgb2"]])
        h.employed[rows] = rng.uniforms(self.seed, "hh:employed", h.hid[rows], t) < p

    def add_children(self, hh_rows: np.ndarray, birth: np.ndarray, first_born: np.ndarray, t: int) -> np.ndarray:
        count = hh_rows.size
        cid = self._ids("cid", count)
        dev = ndtri(rng.uniforms_by_stream(self.seed, [f"dev0:{k}" for k in DEVELOPMENT_DOMAINS], cid))
        return self.children.append(
            count,
            cid=cid,
            alive=True,
            hh=hh_rows,
            birth=birth,
            first_born=first_born,
            school_start=school_start_month(birth),
            arrived=t,
            dev=dev,
        )

    # A child's propensities and handover draws are fixed numbers of its id (sim.engine.rng), so they
    # are computed when a decision needs them rather than stored: most are needed only for the
    # few children at a decision in a month, and a stored copy of each would cost memory and
    # the time to draw it for every child at birth or arrival.
    def propensity(self, s: int, rows: np.ndarray) -> np.ndarray:
        """Each child's fixed propensity for service s, correlated within the family
        (household-wide services draw one number per household)."""
        ch, hh = self.children, self.households
        rho = self.params.demography.propensity_correlation
        h = ch.hh[rows]
        ids = hh.hid[h] if self.household_unit[s] else ch.cid[rows]
        own = rng.normals(self.seed, f"prop:{s}", ids)
        return ndtr(rho * hh.z[h] + np.sqrt(1 - rho**2) * own).astype(np.float32)

    def _build(self, scale: float, t0: int) -> None:
        """Initial city: children by Sozialraum and age band, grouped into households."""
        gen = rng.generator(self.seed, "build")
        counts = gen.binomial(self.city.children_by_band, min(scale, 1.0)) if scale < 1 else np.round(
            self.city.children_by_band * scale).astype(np.int64)
        hh_sr, child_hh_local, child_age = [], [], []
        n_hh = 0
        for sr in range(counts.shape[0]):
            ages = np.concatenate([gen.integers(lo, hi + 1, size=counts[sr, b]) for b, (lo, hi) in enumerate(BANDS_MONTHS)])
            if ages.size == 0:
                continue
            gen.shuffle(ages)
            hh_size = gen.choice(HOUSEHOLD_SIZES, size=ages.size, p=HOUSEHOLD_SIZE_P)
            ends = np.cumsum(hh_size)
            k = np.searchsorted(ends, ages.size) + 1
            member = np.searchsorted(ends[:k], np.arange(ages.size), side="right")
            hh_sr.append(np.full(k, sr, dtype=np.int16))
            child_hh_local.append(member + n_hh)
            child_age.append(ages)
            n_hh += k
        hh_rows = self.add_households(np.concatenate(hh_sr), t0)
        child_hh = hh_rows[np.concatenate(child_hh_local)]
        ages = np.concatenate(child_age)
        # The oldest child of a household is its first-born.
        order = np.lexsort((-ages, child_hh))
        first = np.ones(order.size, dtype=bool)
        first[1:] = child_hh[order][1:] != child_hh[order][:-1]
        first_born = np.empty_like(first)
        first_born[order] = first
        self.add_children(child_hh, (t0 - ages).astype(np.int32), first_born, t0)

    # ---- derived views ----------------------------------------------------------------------
    def child_status(self) -> np.ndarray:
        return self.households.status[self.children.hh]

    def compact(self) -> None:
        """Drop departed children and households (demographic events only, so rows stay CRN slots)."""
        ch, hh = self.children, self.households
        if ch.n and (~ch.alive).sum() > 0.25 * ch.n:
            ch.compact(ch.alive)
        if hh.n and (~hh.alive).sum() > 0.25 * hh.n:
            mapping = hh.compact(hh.alive)
            ch.hh[:] = mapping[ch.hh]
