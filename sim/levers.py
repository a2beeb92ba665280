"""The levers a planner can pull. The baseline values describe the status quo (assumptions named)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.checks import CheckedModel

AccessChange = Literal["standard", "simplified", "automatic"]
PovertyStatus = Literal["sgb2", "low_income", "not_poor"]
TRANSITIONS = ("birth", "early_childhood", "kita", "primary", "secondary", "transition")


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
        "employment_first", description="who gets a scarce place first: working parents (status quo) or need")
    places_factor: dict[str, dict[str | int, float]] = Field(
        default_factory=dict,
        description="multiply places of a service, by Sozialraumtyp ('1'..'5') or 'all'; e.g. {u3_kita: {'5': 1.2}}")
    lotse_fte: float = Field(2.0, ge=0, le=500, description="navigators (Lotsen) in birth clinics and Familienzentren, FTE: assumption")
    school_social_work_fte: float = Field(150.0, ge=0, le=2000, description="school social work FTE: assumption")
    youth_job_centre_fte: float = Field(25.0, ge=0, le=500, description="youth job centre caseworkers (FTE): assumption")
    place_shift: dict[str, PlaceShift] = Field(
        default_factory=dict,
        description="budget-neutral shift of places between Sozialraumtypen, e.g. {u3_kita: {share: 0.1, from_types: [1, 2], to_types: [4, 5]}}")
    outreach_by_type: dict[int, float] = Field(
        default={1: 0.0, 2: 0.0, 3: 0.0, 4: 0.1, 5: 0.3},
        description="coverage 0..1 of prevention managers and outreach work by Sozialraumtyp; status quo: six high-need quarters (assumption)")
    outreach_fte_per_sozialraum: float = Field(1.0, ge=0, le=10, description="FTE per Sozialraum at full outreach coverage: assumption")
    multilingual_information: float = Field(0.1, ge=0, le=1, description="share of the language barrier removed by multilingual information and interpreters")
    access: dict[str, AccessChange] = Field(default_factory=dict, description="application procedure per service")
    fee_waiver: dict[str, list[PovertyStatus]] = Field(default_factory=dict, description="extra fee waivers per service")
    coordination: dict[str, float] = Field(
        default={"birth": 0.3, "early_childhood": 0.2, "kita": 0.2, "primary": 0.15, "secondary": 0.1, "transition": 0.1},
        description="warm-handover level 0..1 into each phase's services: assumption for the status quo")

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

    def place_multipliers(self, service: str, typ: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Per Sozialraum, the factor on its places: places_factor first, then the place shift.

        The shift keeps the service's total places: what the giving types lose, the receiving
        types gain in proportion to the places they already have.
        """
        factor = self.places_factor.get(service, {})
        mult = np.array([factor.get(str(int(k)), factor.get("all", 1.0)) for k in typ], dtype=float)
        shift = self.place_shift.get(service)
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
