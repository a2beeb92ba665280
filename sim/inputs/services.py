"""The service catalogue: read and validated from YAML, turned into arrays for the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from sim.inputs.checks import CheckedModel, allowed_values, validation_field
from sim.inputs.errors import InputError
from sim.inputs.params import BARRIERS, DEVELOPMENT_DOMAINS
from sim.inputs.yamlio import read_yaml
from sim.paths import DATA

DATA_DIR = DATA
DEFAULT_CATALOGUE = DATA_DIR / "services.yaml"
UNIT_COSTS = DATA_DIR / "unit_costs.csv"

PHASES = ("birth", "early_childhood", "kita", "primary", "secondary", "transition")
PHASE_LABELS = {
    "birth": "Geburt",
    "early_childhood": "Frühe Kindheit (0-2)",
    "kita": "Kita (3-5)",
    "primary": "Grundschule (6-9)",
    "secondary": "Sekundarstufe (10-15)",
    "transition": "Übergang Beruf (16-17)",
}
POVERTY_STATUSES = ("sgb2", "low_income", "not_poor")
ELIGIBILITY = ("all", "first_born", "low_income", "but_eligible", "in_kita", "in_school")
COST_BASES = ("per_child_year", "per_contact", "per_centre_year", "per_fte_year", "none")
MAX_EFFECT = 2.0  # monthly change of a latent domain, in SD; the shipped catalogue stays below 0.5


class Capacity(CheckedModel):
    places: str | None = None
    centres: str | None = None
    places_per_centre: float | None = Field(None, gt=0)
    fte: str | None = None
    caseload_per_fte_year: float | None = Field(None, gt=0)
    allocation: Literal["august", "monthly"] = "monthly"
    priority: Literal["rule", "need"] = "rule"
    alternative_to: str | None = None
    continuity_from: list[str] = Field(default_factory=list)
    midyear_min_age_months: int | None = Field(None, ge=0, le=215)
    registration: Literal["any_time", "deadline"] = Field(
        "any_time", description="deadline: the families registered before the main round's deadline come first")

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [self.places is not None, self.centres is not None, self.fte is not None]
        if sum(kinds) != 1:
            raise ValueError("capacity needs exactly one of places, centres or fte")
        if self.centres is not None and self.places_per_centre is None:
            raise ValueError("capacity by centres needs places_per_centre")
        if self.fte is not None and self.caseload_per_fte_year is None:
            raise ValueError("capacity by fte needs caseload_per_fte_year")
        return self


class Cost(CheckedModel):
    """What a service costs: ids of unit_costs.csv (each line with its payers), on one basis."""

    basis: Literal["per_child_year", "per_place_year", "per_contact", "per_centre_year", "per_fte_year", "none"]
    unit_cost: list[str] = Field(default_factory=list, description="ids of unit_costs.csv; one line per payer arrangement")
    admin_overhead: str | None = None
    investment: str | None = Field(None, description="unit cost of building a new place (an annuity on added places)")
    fee: str | None = Field(None, description="parental fee per child-year: what a fee waiver costs the city")
    centres: str | None = None
    fte: str | None = None
    note: str | None = None

    @field_validator("unit_cost", mode="before")
    @classmethod
    def _one_or_more(cls, value):
        return [value] if isinstance(value, str) else value


class Service(CheckedModel):
    name: str
    phase: Literal["birth", "early_childhood", "kita", "primary", "secondary", "transition"]
    ages_months: tuple[int, int]
    eligibility: Literal["all", "first_born", "low_income", "but_eligible", "in_kita", "in_school"]
    unit: Literal["child", "household"]
    access: Literal["outreach", "come_to_us", "application", "automatic"]
    mode: Literal["ongoing", "once"]
    contact_months: int = Field(1, ge=1, le=216)
    capacity: Capacity | Literal["none"] = "none"
    base_rate: float = Field(ge=0, le=1)
    barriers: dict[str, float] = Field(default_factory=dict)
    fee_waived_for: list[Literal["sgb2", "low_income", "not_poor"]] = Field(default_factory=list)
    local_supply: str | None = None
    need_targeting: float = Field(0.0, ge=0, le=10)
    # "parents_work": parents want the service less while not all of them work (TakeUp.work_demand).
    demand_follows: Literal["parents_work"] | None = None
    requires_any: list[str] = Field(default_factory=list)
    requires_need: Literal["german", "motor", "weight", "school"] | None = None
    school_grades: tuple[int, int] | None = None
    cost_covered_by: str | None = None
    cost: Cost
    effects: dict[str, float] = Field(default_factory=dict)
    effects_only_for: Literal["other_language"] | None = None
    handover_to: list[str] = Field(default_factory=list)
    sources: str

    @model_validator(mode="after")
    def _check(self):
        lo, hi = self.ages_months
        if not 0 <= lo <= hi <= 215:
            raise ValueError(f"ages_months must satisfy 0 <= first <= last <= 215, got {list(self.ages_months)}")
        for key, value in self.barriers.items():
            if key not in BARRIERS:
                raise ValueError(f"unknown barrier '{key}'; allowed: {', '.join(BARRIERS)}")
            if not 0 <= value <= 3:
                raise ValueError(f"barrier '{key}' intensity {value} outside 0..3")
        if self.school_grades is not None and not 1 <= self.school_grades[0] <= self.school_grades[1] <= 13:
            raise ValueError(f"school_grades must satisfy 1 <= first <= last <= 13, got {list(self.school_grades)}")
        for key, value in self.effects.items():
            if key not in DEVELOPMENT_DOMAINS:
                raise ValueError(f"unknown effect '{key}'; allowed: {', '.join(DEVELOPMENT_DOMAINS)}")
            if not -MAX_EFFECT <= value <= MAX_EFFECT:
                raise ValueError(f"effect '{key}' {value} outside -{MAX_EFFECT:g}..{MAX_EFFECT:g} (SD per month)")
        return self


UNIT_COST_COLUMNS = ("id", "value_eur")
# Who pays a cost line: the city (the default perspective), the Land NRW, the Bund, the statutory
# health insurance, and others (parents' fees, providers' own shares). Each line's shares add up to 1.
PAYERS = ("city", "land", "bund", "health_insurance", "other")
PUBLIC_PAYERS = ("city", "land", "bund", "health_insurance")
SHARE_COLUMNS = tuple(f"{payer}_share" for payer in PAYERS)
# Levers that hold a number of full-time staff: what `capacity.fte` may name.
FTE_LEVERS = ("lotse_fte", "school_social_work_fte", "youth_job_centre_fte")


def load_unit_costs(path: Path = UNIT_COSTS) -> pd.DataFrame:
    """The unit cost table, indexed by id; every cost a whole, finite, non-negative number of euros."""
    src = str(path)
    try:
        table = pd.read_csv(path, dtype={"id": str})
    except FileNotFoundError:
        raise InputError(src, "(file)", "file not found") from None
    except Exception as exc:  # any reader failure is a bad file
        raise InputError(src, "(file)", f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})") from None
    missing = [c for c in UNIT_COST_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(src, ", ".join(missing), "required column missing", allowed=list(UNIT_COST_COLUMNS))
    ids = table["id"].fillna("").astype(str).str.strip()
    for i, (cost_id, twice) in enumerate(zip(ids, ids.duplicated())):
        if not cost_id or twice:
            raise InputError(src, "id", "empty id" if not cost_id else f"duplicate id {cost_id!r}", row=i + 2)
    values = pd.to_numeric(table["value_eur"], errors="coerce")
    for i, value in enumerate(values):
        if not np.isfinite(value) or value < 0:
            raise InputError(src, "value_eur", f"{table['value_eur'].iloc[i]!r} is not a cost in EUR", row=i + 2,
                             allowed="a number >= 0")
    missing = [c for c in SHARE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(src, ", ".join(missing), "payer share column missing", allowed=list(SHARE_COLUMNS))
    shares = table[list(SHARE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    for column in SHARE_COLUMNS:
        for i, share in enumerate(shares[column]):
            if not np.isfinite(share) or not 0 <= share <= 1:
                raise InputError(src, column, f"{table[column].iloc[i]!r} is not a share", row=i + 2, allowed="a number in 0..1")
    for i, total in enumerate(shares.sum(axis=1)):
        if abs(total - 1) > 1e-6:
            raise InputError(src, ", ".join(SHARE_COLUMNS), f"the payer shares of {ids.iloc[i]} add up to {total:g}, not 1",
                             row=i + 2, allowed="shares in 0..1 that add up to 1")
    return table.assign(id=ids, value_eur=values.astype(float), **{c: shares[c] for c in SHARE_COLUMNS}).set_index("id")


@dataclass(frozen=True)
class Catalogue:
    """Services as arrays, in catalogue order. Index s refers to `ids[s]`."""

    services: dict[str, Service]
    source: str

    @property
    def ids(self) -> list[str]:
        return list(self.services)

    def index(self, service_id: str) -> int:
        return self.ids.index(service_id)

    def __len__(self) -> int:
        return len(self.services)

    def barrier_matrix(self) -> np.ndarray:
        """Intensity of each barrier (columns in BARRIERS order) for each service."""
        return np.array([[svc.barriers.get(b, 0.0) for b in BARRIERS] for svc in self.services.values()])

    def handover_matrix(self) -> np.ndarray:
        """m[source, target] is True where a contact with source can hand a family over to target."""
        ids = self.ids
        m = np.zeros((len(ids), len(ids)), dtype=bool)
        for s, svc in enumerate(self.services.values()):
            for target in svc.handover_to:
                m[s, ids.index(target)] = True
        return m


def _error_from_validation(path: str, service_id: str, exc: ValidationError) -> InputError:
    err = exc.errors()[0]
    field = ".".join(p for p in (service_id, validation_field(err["loc"])) if p)
    return InputError(path, field, err["msg"], allowed=allowed_values(Service, err))


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE, unit_costs: pd.DataFrame | None = None,
                   place_columns: set[str] | None = None) -> Catalogue:
    """Read and check the catalogue. Every problem names the file, the service and the field."""
    path = Path(path)
    src = str(path)
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not raw:
        raise InputError(src, "(file)", "must be a mapping of service id to service")
    services: dict[str, Service] = {}
    for service_id, entry in raw.items():
        if not isinstance(entry, dict):
            raise InputError(src, str(service_id), "must be a mapping of fields")
        try:
            services[str(service_id)] = Service.model_validate(entry)
        except ValidationError as exc:
            raise _error_from_validation(src, str(service_id), exc) from None
    costs = load_unit_costs() if unit_costs is None else unit_costs
    known = set(services)
    for service_id, svc in services.items():
        refs = [("handover_to", t) for t in svc.handover_to] + [("requires_any", t) for t in svc.requires_any]
        if svc.cost_covered_by:
            refs.append(("cost_covered_by", svc.cost_covered_by))
        if isinstance(svc.capacity, Capacity):
            if svc.capacity.alternative_to:
                refs.append(("capacity.alternative_to", svc.capacity.alternative_to))
            refs += [("capacity.continuity_from", c) for c in svc.capacity.continuity_from]
        for field, target in refs:
            if target not in known:
                raise InputError(src, f"{service_id}.{field}", f"unknown service '{target}'", allowed=sorted(known))
        refs_cost = [("cost.unit_cost", ref) for ref in svc.cost.unit_cost] + [
            (f"cost.{key}", getattr(svc.cost, key)) for key in ("admin_overhead", "investment", "fee")]
        for field, ref in refs_cost:
            if ref is not None and ref not in costs.index:
                raise InputError(src, f"{service_id}.{field}", f"unknown unit cost id '{ref}'", allowed=sorted(costs.index))
        if svc.cost.basis != "none" and not svc.cost.unit_cost:
            raise InputError(src, f"{service_id}.cost", "needs unit_cost (ids of unit_costs.csv)")
        if svc.cost.basis == "per_place_year" and not (isinstance(svc.capacity, Capacity) and svc.capacity.places):
            raise InputError(src, f"{service_id}.cost.basis", "per_place_year needs places (capacity.places)")
        fte = [("cost.fte", svc.cost.fte)]
        if isinstance(svc.capacity, Capacity):
            fte.append(("capacity.fte", svc.capacity.fte))
        for field, lever in fte:
            if lever is not None and lever not in FTE_LEVERS:
                raise InputError(src, f"{service_id}.{field}", f"'{lever}' is no staffing lever", allowed=list(FTE_LEVERS))
        if place_columns is not None:
            columns = [("local_supply", svc.local_supply), ("cost.centres", svc.cost.centres)]
            if isinstance(svc.capacity, Capacity):
                columns.append(("capacity", svc.capacity.places or svc.capacity.centres))
            for field, column in columns:
                if column is not None and column not in place_columns:
                    raise InputError(src, f"{service_id}.{field}", f"no column '{column}' in the Sozialraum table",
                                     allowed=sorted(place_columns))
    return Catalogue(services=services, source=src)
