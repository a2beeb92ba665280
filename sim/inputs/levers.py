"""The levers a planner can pull. The baseline values describe the status quo (assumptions named)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.inputs.checks import CheckedModel

AccessChange = Literal["standard", "simplified", "automatic"]
PovertyStatus = Literal["sgb2", "low_income", "not_poor"]
TRANSITIONS = ("birth", "early_childhood", "kita", "primary", "secondary", "transition")


# The cost lines of services with places or centres: what places_factor and place_shift move.
PLACE_LINES = ("u3_kita", "kindertagespflege", "ue3_kita", "ogs", "pluskita", "familienzentrum")


def priced(*lines: str, how: str) -> dict:
    """A lever's price, next to its effect: the cost lines (sim.engine.mechanisms.costs, by service or
    LEVER_LINES) that change with it, and how. tests/test_lever_costs.py fails for a lever without one."""
    return {"cost_lines": list(lines), "priced_as": how}


def lever_cost_lines(lever: str) -> list[str]:
    return Levers.model_fields[lever].json_schema_extra["cost_lines"]


class PlaceShift(CheckedModel):
    """Move a share of a service's places (and so its budget) from some Sozialraumtypen to others."""

    share: float = Field(ge=0, le=1, description="share of the places in the giving types that moves")
    from_types: list[int] = Field(min_length=1, description="Sozialraumtypen that give places")
    to_types: list[int] = Field(min_length=1, description="Sozialraumtypen that receive them")

    @model_validator(mode="after")
    def _types(self) -> "PlaceShift":
        for typ in self.from_types + self.to_types:
            if typ not in range(1, 6):
                raise ValueError(f"Sozialraumtyp {typ} does not exist; allowed: 1, 2, 3, 4, 5")
        if set(self.from_types) & set(self.to_types):
            raise ValueError("from_types and to_types overlap")
        return self


class Levers(CheckedModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    priority_rule: Literal["employment_first", "need_based"] = Field(
        "employment_first", description="who gets a scarce place first: working parents (status quo) or need",
        json_schema_extra=priced("need_assessment", how="the need assessment of every applicant for a place (C26)"))
    places_factor: dict[str, dict[str | int, float]] = Field(
        default_factory=dict,
        description="multiply places of a service, by Sozialraumtyp ('1'..'5') or 'all'; e.g. {u3_kita: {'5': 1.2}}",
        json_schema_extra=priced(*PLACE_LINES, "new_places",
                                 how="each place provided at its running cost, filled or not; new places as an annuity "
                                     "of their building cost"))
    lotse_fte: float = Field(
        2.0, ge=0, le=500, description="navigators (Lotsen) in birth clinics and Familienzentren, FTE: assumption",
        json_schema_extra=priced("lotse", how="FTE-years of navigators (C09)"))
    school_social_work_fte: float = Field(
        196.0, ge=0, le=2000,
        description="school social work FTE: 121 posts in 2021 and 75 more decided for the following years (WZ 2021, "
                    "'rund 200 Stellen' for 70,000 pupils; CDU/Grüne Düsseldorf 27.10.2021: 19 filled for 2021/22, 56 more)",
        json_schema_extra=priced("school_social_work", how="FTE-years (C07)"))
    youth_job_centre_fte: float = Field(
        25.0, ge=0, le=500, description="youth job centre caseworkers (FTE): assumption",
        json_schema_extra=priced("youth_job_centre", how="FTE-years (C14)"))
    place_shift: dict[str, PlaceShift] = Field(
        default_factory=dict,
        description="budget-neutral shift of places between Sozialraumtypen, e.g. {u3_kita: {share: 0.1, from_types: [1, 2], to_types: [4, 5]}}",
        json_schema_extra=priced(*PLACE_LINES, how="the places move with their running cost; no new building (assumption)"))
    outreach_by_type: dict[int, float] = Field(
        default={1: 0.0, 2: 0.0, 3: 0.0, 4: 0.1, 5: 0.3},
        description="coverage 0..1 of prevention managers and outreach work by Sozialraumtyp; status quo: six high-need quarters (assumption)",
        json_schema_extra=priced("outreach", how="FTE per Sozialraum at full coverage (C09)"))
    outreach_fte_per_sozialraum: float = Field(
        1.0, ge=0, le=10, description="FTE per Sozialraum at full outreach coverage: assumption",
        json_schema_extra=priced("outreach", how="as outreach_by_type"))
    multilingual_information: float = Field(
        0.1, ge=0, le=1, description="share of the language barrier removed by multilingual information and interpreters",
        json_schema_extra=priced("multilingual", how="interpreters per first contact of a family that does not speak German "
                                                     "at home (C24) and material per year (C25), at the level"))
    access: dict[str, AccessChange] = Field(
        default_factory=dict, description="application procedure per service",
        json_schema_extra=priced("but_social", "but_lunch", "but_tutoring",
                                 how="the administration a procedure leaves (C11) and the benefits paid to the children "
                                     "who now take them up"))
    fee_waiver: dict[str, list[PovertyStatus]] = Field(
        default_factory=dict, description="extra fee waivers per service",
        json_schema_extra=priced("fee_waiver", how="the parental fees forgone (C29-C31)"))
    coordination: dict[str, float] = Field(
        default={"birth": 0.3, "early_childhood": 0.2, "kita": 0.2, "primary": 0.15, "secondary": 0.1, "transition": 0.1},
        description="warm-handover level 0..1 into each phase's services: assumption for the status quo",
        json_schema_extra=priced("coordination", how="coordinator time per child and transition at the phase's level (C23)"))

    @field_validator("outreach_by_type")
    @classmethod
    def _outreach(cls, value: dict[int, float]) -> dict[int, float]:
        for typ, level in value.items():
            if typ not in range(1, 6):
                raise ValueError(f"Sozialraumtyp {typ} does not exist; allowed: 1, 2, 3, 4, 5")
            if not 0 <= level <= 1:
                raise ValueError(f"coverage {level} for Sozialraumtyp {typ} outside 0..1")
        return value

    @field_validator("coordination")
    @classmethod
    def _coordination(cls, value: dict[str, float]) -> dict[str, float]:
        for phase, level in value.items():
            if phase not in TRANSITIONS:
                raise ValueError(f"unknown phase '{phase}'; allowed: {', '.join(TRANSITIONS)}")
            if not 0 <= level <= 1:
                raise ValueError(f"coordination {level} for '{phase}' outside 0..1")
        return value

    @field_validator("places_factor")
    @classmethod
    def _places(cls, value: dict[str, dict[str | int, float]]) -> dict[str, dict[str, float]]:
        allowed = ("all", "1", "2", "3", "4", "5")
        for service, factors in value.items():
            for key, factor in factors.items():
                if str(key) not in allowed:
                    raise ValueError(f"places_factor.{service}: unknown key '{key}'; allowed: {', '.join(allowed)}")
                if not 0 <= factor <= 10:
                    raise ValueError(f"places_factor.{service}.{key}: factor {factor} outside 0..10")
        return {service: {str(k): v for k, v in factors.items()} for service, factors in value.items()}

    def place_multipliers(self, service: str, typ: np.ndarray, base: np.ndarray, shift: bool = True) -> np.ndarray:
        """Per Sozialraum, the factor on its places: places_factor first, then (unless `shift` is
        False) the place shift.

        The shift keeps the service's total places: what the giving types lose, the receiving
        types gain in proportion to the places they already have.
        """
        factor = self.places_factor.get(service, {})
        mult = np.array([factor.get(str(int(k)), factor.get("all", 1.0)) for k in typ], dtype=float)
        shift = self.place_shift.get(service) if shift else None
        if shift is None:
            return mult
        places = base * mult
        giving, taking = np.isin(typ, shift.from_types), np.isin(typ, shift.to_types)
        moved = shift.share * places[giving].sum()
        receiving = places[taking].sum()
        if receiving <= 0:
            return mult
        mult[giving] *= 1 - shift.share
        mult[taking] *= 1 + moved / receiving
        return mult

    def coordination_level(self, phase: str) -> float:
        return float(self.coordination.get(phase, 0.0))


class LeverTiming(CheckedModel):
    """When a lever starts, and over how many years it builds up to its level."""

    start_year: int | None = Field(None, ge=1900, le=2200,
                                   description="first calendar year in which the lever acts; none: from the first simulated month")
    build_up_years: int = Field(0, ge=0, le=30,
                                description="years from the start to the full level, in equal yearly steps (0: full level at once)")

    def fraction(self, year: int) -> float:
        """Share of the way from the status quo to the lever's level in this calendar year."""
        if self.start_year is None:
            return 1.0
        if year < self.start_year:
            return 0.0
        if self.build_up_years == 0:
            return 1.0
        return min(1.0, (year - self.start_year + 1) / self.build_up_years)


# A key a scenario leaves out counts as this level when a lever builds up: a places factor of 1, no
# coverage, no coordination, no share moved.
_NEUTRAL = {"places_factor": 1.0}


def _blend(base, target, f: float, neutral: float):
    """The way from base to target at fraction f: numbers in proportion, mappings key by key,
    anything else (a rule, a procedure, a list) switches at the start."""
    if isinstance(target, bool) or isinstance(base, bool):
        return target if f > 0 else base
    if isinstance(target, (int, float)) and isinstance(base, (int, float)):
        return base + f * (target - base)
    if isinstance(target, dict) or isinstance(base, dict):
        base, target = base or {}, target or {}
        out = {}
        for key in list(base) + [k for k in target if k not in base]:
            if key in target:
                start = base.get(key, neutral if not isinstance(target[key], (dict, list, str)) else None)
                value = _blend(start, target[key], f, neutral)
            else:
                value = base[key]
            if value is not None:  # an entry the status quo does not have, before its start
                out[key] = value
        return out
    return target if f > 0 else base


class LeverSchedule:
    """The levers of each calendar year: the status quo before a lever's start year, then its
    level, reached in equal yearly steps over its build-up years."""

    def __init__(self, target: Levers, timing: dict[str, LeverTiming] | None = None,
                 default: LeverTiming | None = None, base: Levers | None = None):
        self.base = base or Levers()
        self.target = target
        self.default = default or LeverTiming()
        base_values, target_values = self.base.model_dump(), target.model_dump()
        self.changed = [name for name in Levers.model_fields if base_values[name] != target_values[name]]
        self.timing = {name: (timing or {}).get(name, self.default) for name in self.changed}
        self._own_timing = set(timing or {})  # levers with a timing of their own (else the scenario's)
        self._base_values, self._target_values = base_values, target_values

    @property
    def timed(self) -> bool:
        """Whether any lever starts later than the first simulated month."""
        return any(t.start_year is not None for t in self.timing.values())

    def levers_in(self, year: int) -> Levers:
        if not self.timed:
            return self.target
        values = dict(self._base_values)
        for name in self.changed:
            f = self.timing[name].fraction(year)
            if f == 0:
                continue  # before its start: the status quo, exactly
            values[name] = _blend(self._base_values[name], self._target_values[name], f, _NEUTRAL.get(name, 0.0))
        # place_shift entries that have not started yet are left out (a shift of nothing).
        values["place_shift"] = {k: v for k, v in values["place_shift"].items() if v and v.get("share")}
        return Levers.model_validate(values)

    def full_from(self) -> int | None:
        """The first calendar year in which every lever acts at its full level (after its build-up);
        None where all act from the first simulated month."""
        years = [t.start_year + max(t.build_up_years - 1, 0) for t in self.timing.values() if t.start_year is not None]
        return max(years) if years else None

    def start_years(self) -> list[int]:
        """The years in which the changed levers start (levers acting from the first month left out)."""
        return [t.start_year for t in self.timing.values() if t.start_year is not None]

    def starts_outside(self, first_year: int, last_year: int) -> list[tuple[str, int]]:
        """(lever, start year) of every lever that starts outside first_year..last_year."""
        return [(name, t.start_year) for name, t in self.timing.items()
                if t.start_year is not None and not first_year <= t.start_year <= last_year]

    def check(self, first_year: int, last_year: int, source: str) -> None:
        """A start year must lie inside the simulated years; refused naming file and field."""
        from sim.inputs.errors import InputError

        for name, start in self.starts_outside(first_year, last_year):
            field = f"timing.{name}.start_year" if name in self._own_timing else "start_year"
            raise InputError(source, field, f"{start} lies outside the simulated years",
                             allowed=f"{first_year}..{last_year}")
