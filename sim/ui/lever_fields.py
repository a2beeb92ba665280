"""The levers as form fields: German labels, the text a planner typed, and what is wrong with it.

A field is addressed by a dotted key into `Levers` ("lotse_fte", "coordination.kita",
"places_factor.u3_kita.5", "access.but_social"). `apply_fields` turns the typed values into a
validated `Levers` or into one German message per field; the checks are the ones `Levers`
declares (pydantic), so the UI and the scenario files accept exactly the same values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import ValidationError

from sim.inputs.levers import TRANSITIONS, Levers
from sim.inputs.services import PHASE_LABELS

Kind = Literal["number", "share", "choice"]

ACCESS_LABELS = {"standard": "mit Antrag (heute)", "simplified": "vereinfachter Antrag", "automatic": "ohne Antrag (automatisch)"}
PRIORITY_LABELS = {"employment_first": "Erwerbstätige Eltern zuerst (heute)", "need_based": "nach Bedarf"}
# Services with an application procedure that a planner can simplify, and services with places.
ACCESS_SERVICES = {
    "but_social": "BuT Teilhabe (15 EUR)", "but_lunch": "BuT Mittagessen", "but_tutoring": "BuT Lernförderung",
    "kinderzuschlag": "Kinderzuschlag / Wohngeld", "u3_kita": "U3-Kita-Platz", "ue3_kita": "Ü3-Kita-Platz",
    "ogs": "OGS-Platz",
}
PLACE_SERVICES = {"u3_kita": "U3-Kita", "kindertagespflege": "Kindertagespflege", "ue3_kita": "Ü3-Kita", "ogs": "OGS"}


@dataclass(frozen=True)
class LeverField:
    key: str
    label: str
    kind: Kind
    group: str
    choices: dict[str, str] = field(default_factory=dict)  # value -> German label

    @property
    def lever(self) -> str:
        return self.key.split(".")[0]


def _de(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _bounds(name: str) -> tuple[float | None, float | None]:
    lo = hi = None
    for rule in Levers.model_fields[name].metadata:
        lo = getattr(rule, "ge", lo)
        hi = getattr(rule, "le", hi)
    return lo, hi


def _number_label(text: str, name: str) -> str:
    lo, hi = _bounds(name)
    return f"{text} ({_de(lo)} bis {_de(hi)})" if lo is not None and hi is not None else text


def _fields() -> list[LeverField]:
    staff = "Stellen (Vollzeitstellen)"
    out = [
        LeverField("lotse_fte", _number_label("Lotsinnen und Lotsen, VZÄ", "lotse_fte"), "number", staff),
        LeverField("school_social_work_fte", _number_label("Schulsozialarbeit, VZÄ", "school_social_work_fte"), "number", staff),
        LeverField("youth_job_centre_fte", _number_label("Jugendberufsagentur, VZÄ", "youth_job_centre_fte"), "number", staff),
        LeverField("outreach_fte_per_sozialraum",
                   _number_label("Aufsuchende Arbeit: VZÄ je Sozialraum bei voller Abdeckung", "outreach_fte_per_sozialraum"),
                   "number", staff),
        LeverField("priority_rule", "Vergabe knapper Kita- und OGS-Plätze", "choice", "Zugang", PRIORITY_LABELS),
        LeverField("multilingual_information", "Mehrsprachige Information: Anteil der Sprachbarriere, der wegfällt",
                   "share", "Zugang"),
    ]
    out += [LeverField(f"access.{s}", f"Antrag: {label}", "choice", "Zugang", ACCESS_LABELS)
            for s, label in ACCESS_SERVICES.items()]
    out += [LeverField(f"outreach_by_type.{k}", f"Aufsuchende Arbeit, Abdeckung in Sozialraumtyp {k}", "share",
                       "Aufsuchende Arbeit") for k in range(1, 6)]
    out += [LeverField(f"coordination.{p}", f"Warme Übergänge in: {PHASE_LABELS[p]}", "share", "Warme Übergänge")
            for p in TRANSITIONS]
    out += [LeverField(f"places_factor.{s}.{k}", f"{label}: Platzfaktor Typ {k} (1 = heute)", "number",
                       "Plätze je Sozialraumtyp") for s, label in PLACE_SERVICES.items() for k in range(1, 6)]
    return out


FIELDS: list[LeverField] = _fields()
BY_KEY: dict[str, LeverField] = {f.key: f for f in FIELDS}
GROUPS: list[str] = list(dict.fromkeys(f.group for f in FIELDS))


def current(levers: Levers, key: str):
    """The value a field shows for these levers."""
    parts = key.split(".")
    name = parts[0]
    value = getattr(levers, name)
    if name == "outreach_by_type":
        return float(value.get(int(parts[1]), 0.0))
    if name == "coordination":
        return float(value.get(parts[1], 0.0))
    if name == "access":
        return value.get(parts[1], "standard")
    if name == "places_factor":
        factors = value.get(parts[1], {})
        return float(factors.get(parts[2], factors.get("all", 1.0)))
    return value


def shown(levers: Levers, key: str) -> str | float:
    """What the form widget holds: text for numbers, a float for shares, a choice value."""
    value = current(levers, key)
    return _de(value) if BY_KEY[key].kind == "number" else value


class NumberError(ValueError):
    """A text that is no number as a German writes it; the message says so in German."""


# As a German writes a number: an optional sign, digits with dots (or spaces) between groups of
# three for the thousands, an optional decimal comma. "1.000" is a thousand, "2,5" two and a half.
GERMAN_NUMBER = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")


def parse_number(text) -> float:
    """A number as a planner types it: '20', '2,5', '1.000', '12.500,5', ' 3 '. A dot that is not
    between groups of three digits ('2.5') is ambiguous and refused, never read silently either way.
    Raises NumberError with a German message."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip()
        cleaned = re.sub(r"^\u2212", "-", raw)  # the minus sign the pages print (de_format.de)
        cleaned = re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)", ".", cleaned)  # 1 000 as 1.000
        if GERMAN_NUMBER.fullmatch(cleaned) is None:
            if re.fullmatch(r"[+-]?\d+\.\d+", cleaned):
                whole, decimals = cleaned.split(".")
                raise NumberError(f"„{raw}“ ist mehrdeutig: Komma für Dezimalstellen ({whole},{decimals}), "
                                  f"Punkt nur für Tausender (1.000)")
            raise NumberError("Bitte eine Zahl eingeben, z. B. 20, 2,5 oder 1.000")
        value = float(cleaned.replace(".", "").replace(",", "."))
    if not math.isfinite(value):
        raise NumberError("Bitte eine endliche Zahl eingeben")
    return value


def _set(data: dict, key: str, value) -> None:
    parts = key.split(".")
    name = parts[0]
    if name == "outreach_by_type":
        data[name] = {**data[name], int(parts[1]): value}
    elif name in ("coordination", "access"):
        data[name] = {**data[name], parts[1]: value}
    elif name == "places_factor":
        data[name] = {**data[name], parts[1]: {**data[name].get(parts[1], {}), parts[2]: value}}
    else:
        data[name] = value


def _message(error: dict) -> str:
    ctx = error.get("ctx", {})
    if error["type"] == "less_than_equal":
        return f"Zu groß: höchstens {_de(ctx['le'])}"
    if error["type"] == "greater_than_equal":
        return f"Zu klein: mindestens {_de(ctx['ge'])}"
    text = str(error["msg"]).removeprefix("Value error, ")
    match = re.search(r"outside (\S+)\.\.(\S+)", text)
    if match:
        return f"Nicht erlaubt: erlaubt sind {match.group(1)} bis {match.group(2)}"
    return f"Nicht erlaubt: {text}"


def apply_fields(base: Levers, values: dict[str, object]) -> tuple[Levers | None, dict[str, str]]:
    """Typed values on top of base: (validated Levers, {}) or (None, {field key: German message}).

    Fields whose value equals the base's are left alone, so a scenario's levers that the form
    does not show (place shifts, fee waivers) come through unchanged.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for key, raw in values.items():
        spec = BY_KEY[key]
        if spec.kind == "choice":
            if raw not in spec.choices:
                errors[key] = "Bitte einen der angebotenen Werte wählen"
                continue
            value = raw
        else:
            try:
                value = parse_number(raw)
            except NumberError as exc:
                errors[key] = str(exc)
                continue
        if value != current(base, key):
            parsed[key] = value
    base_data = base.model_dump()
    for key, value in parsed.items():  # each field checked alone, so its message lands at the field
        data = dict(base_data)
        _set(data, key, value)
        try:
            Levers.model_validate(data)
        except ValidationError as exc:
            errors[key] = _message(exc.errors()[0])
    if errors:
        return None, errors
    data = dict(base_data)
    for key, value in parsed.items():
        _set(data, key, value)
    return Levers.model_validate(data), {}


def changes_from_status_quo(levers: Levers) -> dict:
    """Only what differs from the status quo, as a scenario file writes it."""
    changes = _diff(Levers().model_dump(), levers.model_dump())
    return {} if changes is _SAME else changes


def _diff(default, value):
    if isinstance(default, dict) and isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key not in default:
                out[key] = item
            else:
                sub = _diff(default[key], item)
                if sub is not _SAME:
                    out[key] = sub
        return out if out else _SAME
    return _SAME if default == value else value


_SAME = object()
