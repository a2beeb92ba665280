"""Where children come from who did not grow up in the model: the city's children when it is
built, and children who move in. Each arrives with a history that fits its age and family.

A child of age a arriving in family f takes the history of a donor: a child of the same age (in
years), poverty status and family language who was born in and grew up in the city under the
status quo. It takes the donor's Kita entry, its first contacts with every service, the warm
handovers it received, its Gymnasium decision and the lasting shift from German at school
entry, and the donor's scores less the donor's family part, plus its own family's part (norm × (1 − ρ^(a/12)), the share of
the norm a child reaches by age a). So a child who moves in at 5 has been to a Kita like a
resident of its family type, and its German fits its family, not a newborn's.

The donors come from a status-quo run of the same city and parameters (a 10 % sample over
18 years, so that every donor was born in it), made once and kept on disk
(results/.cache/history/), keyed by the city, the catalogue, the parameters and the engine's
code. Being the status quo, a lever never changes where a child comes
from: two scenarios with the same seed get the same arrivals with the same histories, and a
lever acts on them only from their arrival. The donor run itself, having no donors yet, builds
its first children from the family part alone (mode "norm_only").
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from scipy.special import ndtri

from sim.engine import rng
from sim.engine.mechanisms.development import N_DOMAINS, SCHOOL, persistence, risk_code
from sim.engine.mechanisms.takeup import household_key
from sim.inputs.params import DEVELOPMENT_DOMAINS
from sim.paths import RESULTS

CACHE_DIR = RESULTS / ".cache" / "history"
DONOR_SCALE = 0.1
DONOR_YEARS = 18
DONOR_SEED = 90210
MAX_AGE_YEARS = 18


def norm_share(params, age_months: np.ndarray) -> np.ndarray:
    """(rows × domains) share of its family's norm a child has reached at this age: 1 − ρ^(a/12)."""
    rho = persistence(params)
    return (1.0 - rho[None, :] ** (np.asarray(age_months, dtype=float)[:, None] / 12.0)).astype(np.float32)


def family_norm(model, rows: np.ndarray) -> np.ndarray:
    """(rows × domains) the norm of these children's families (traits and Sozialraum, without the
    child's own shift from school entry)."""
    pop = model.pop
    ch, hh = pop.children, pop.households
    h = ch.hh[rows]
    key = household_key(hh)[h]
    norm = model.development.norm_by_code.take(risk_code(key, hh.high_education[h]), axis=1).T.copy()
    typ = model.city_arrays.sozialraum_typ.take(hh.sozialraum[h])
    norm[:, SCHOOL] += model.params.development.neighbourhood_school_per_type * (typ - 1)
    return norm


class DonorPool:
    """Children born in a status-quo city, by age in years, poverty status and family language."""

    def __init__(self, data: dict[str, np.ndarray]):
        self.data = data
        cell = self.cell(data["age_months"] // 12, data["status"], data["other_language"])
        self.order = np.argsort(cell, kind="stable")
        self.bounds = np.searchsorted(cell[self.order], np.arange(MAX_AGE_YEARS * 6 + 1))
        coarse = data["age_months"] // 12
        self.coarse_order = np.argsort(coarse, kind="stable")
        self.coarse_bounds = np.searchsorted(coarse[self.coarse_order], np.arange(MAX_AGE_YEARS + 1))

    @staticmethod
    def cell(age_years, status, other_language) -> np.ndarray:
        return (np.asarray(age_years, np.int64) * 3 + status) * 2 + other_language

    def choose(self, u: np.ndarray, age_years, status, other_language) -> np.ndarray:
        """A donor per arriving child (index into data), by its uniform number u: from its own
        cell, or, where the cell is empty, from all donors of its age."""
        cell = self.cell(age_years, status, other_language)
        start, count = self.bounds[cell], self.bounds[cell + 1] - self.bounds[cell]
        pick = self.order[np.minimum(start + (u * count).astype(np.int64), self.order.size - 1)]
        empty = count == 0
        if empty.any():
            a = np.asarray(age_years)[empty]
            cs, cc = self.coarse_bounds[a], self.coarse_bounds[a + 1] - self.coarse_bounds[a]
            pick[empty] = self.coarse_order[np.minimum(cs + (u[empty] * np.maximum(cc, 1)).astype(np.int64),
                                                       self.coarse_order.size - 1)]
        return pick


def record_donors(model) -> dict[str, np.ndarray]:
    """The histories of the children present and born in the city (model at its last month)."""
    pop = model.pop
    ch, hh = pop.children, pop.households
    t = model.t
    rows = np.flatnonzero(ch.alive & (ch.arrived == ch.birth))
    age = t - ch.birth[rows]
    h = ch.hh[rows]
    residual = ch.dev[rows] - family_norm(model, rows) * norm_share(model.params, age)
    return {
        "age_months": age.astype(np.int16),
        "status": hh.status[h].astype(np.int8),
        "other_language": hh.other_language[h].astype(np.int8),
        "residual": residual.astype(np.float32),
        "school_shift": ch.school_shift[rows].copy(),
        "kita_entry_age": ch.kita_entry_age[rows].copy(),
        "first_age": ch.first_age[rows].copy(),
        "gymnasium": ch.gymnasium[rows].copy(),
        "handover": ch.handover[rows].copy(),
    }


ENGINE_DIR = Path(__file__).resolve().parents[1]  # sim/engine: the code that makes the donor run


@functools.cache
def engine_code() -> str:
    """A hash of the engine's source (every .py under sim/engine): a pool made by other rules is
    not reused. Read once per process; a change of the code means a new process anyway."""
    digest = hashlib.sha256()
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        digest.update(path.relative_to(ENGINE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _fingerprint(model) -> str:
    table = model.city.table
    parts = {
        "engine_code": engine_code(),
        "params": model.params.model_dump(mode="json"),
        "catalogue": [s.model_dump(mode="json") for s in model.catalogue.services.values()],
        "city": hashlib.sha256(table.to_csv(index=False).encode()).hexdigest(),
        "donor_run": [DONOR_SCALE, DONOR_YEARS, DONOR_SEED, 2],  # 2: handovers recorded
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


_POOLS: dict[str, DonorPool] = {}


def donor_pool(model, engine: type | None = None) -> DonorPool:
    """The donor pool of this city, catalogue and parameters: from memory, from disk, or made now.

    `engine` is the model class whose status-quo run gives the donors: the engine itself by default
    (no import of sim.engine.model here: it imports us); the per-agent reference names the engine,
    so that its arriving children take the same donors as the engine's."""
    key = _fingerprint(model)
    if key in _POOLS:
        return _POOLS[key]
    path = CACHE_DIR / f"{key}.npz"
    on_disk = os.environ.get("PKSIM_HISTORY_CACHE", "1") != "0"  # the fit turns it off: every step is new
    data = None
    if on_disk and path.exists():
        try:
            with np.load(path) as stored:
                data = {k: stored[k] for k in stored.files}
        except Exception:  # a damaged cache file is made again
            data = None
    if data is None:
        donor_run = (engine or type(model))("baseline", city=model.city, catalogue=model.catalogue, params=model.params,
                                seed=DONOR_SEED, scale=DONOR_SCALE, years=1, burn_in_years=DONOR_YEARS - 1,
                                history="norm_only")
        data = record_donors(donor_run.run())
        if on_disk:
            _write_atomic(path, data)
    _POOLS[key] = DonorPool(data)
    return _POOLS[key]


def _write_atomic(path: Path, data: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **data)
        os.replace(tmp, path)
    except OSError:  # a read-only checkout still runs, it only makes the pool again next time
        pass


class History:
    """Gives children who arrive at an age above 0 their history (see the module's docstring)."""

    def __init__(self, model, mode: str = "donors"):
        if mode not in ("donors", "norm_only"):
            raise ValueError(f"history mode must be 'donors' or 'norm_only', got {mode!r}")
        self.model = model
        self.mode = mode
        self.pool = donor_pool(model) if mode == "donors" else None

    def assign(self, rows: np.ndarray, t: int) -> None:
        """Set the scores and the service history of these newly added children (age > 0)."""
        model = self.model
        ch, hh = model.pop.children, model.pop.households
        rows = rows[(t - ch.birth[rows]) > 0]
        if rows.size == 0:
            return
        age = (t - ch.birth[rows]).astype(np.int64)
        share = norm_share(model.params, age)
        norm = family_norm(model, rows)
        if self.pool is None:
            # The child's own birth score, moved to the share of the family norm reached by its age:
            # a spread of one SD around it, as for a child born in the city.
            keep = persistence(model.params)[None, :] ** (age[:, None] / 12.0)
            fresh = ndtri(rng.uniforms_by_stream(model.seed, [f"history:{k}" for k in DEVELOPMENT_DOMAINS], ch.cid[rows]))
            ch.dev[rows] = (norm * share + keep * ch.dev[rows] + np.sqrt(1 - keep**2) * fresh).astype(np.float32)
            return
        h = ch.hh[rows]
        u = rng.uniforms(model.seed, "history:donor", ch.cid[rows])
        donor = self.pool.choose(u, np.minimum(age // 12, MAX_AGE_YEARS - 1), hh.status[h], hh.other_language[h])
        d = self.pool.data
        ch.dev[rows] = (norm * share + d["residual"][donor]).astype(np.float32)
        ch.school_shift[rows] = d["school_shift"][donor]
        # Only the parts of the donor's history that lie before the child's own age.
        first = d["first_age"][donor]
        before = (first >= 0) & (first < age[:, None])
        ch.first_age[rows] = np.where(before, first, -1)
        ch.ever[rows] = before
        kita = d["kita_entry_age"][donor]
        ch.kita_entry_age[rows] = np.where((kita >= 0) & (kita < age), kita, -1)
        gym_age = ch.school_start[rows] + 48 - ch.birth[rows]
        ch.gymnasium[rows] = np.where(gym_age < age, d["gymnasium"][donor], -1)
        # The warm handovers the donor received by its age (same age in years; their months are
        # not kept): without them, children present at the start would meet every service as
        # strangers, and take-up would creep up for years as they are replaced.
        ch.handover[rows] = d["handover"][donor]
        ch.rate_ready[rows] = False
