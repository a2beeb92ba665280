"""Scenario files: planner-readable YAML with a German title and only the levers that differ.

A scenario may build on another (`base: lotsen`). Files are read with yaml.safe_load (no
tags, no code) and checked against the lever definitions before anything runs.

When the levers act: `start_year` (and `build_up_years`) for all of the scenario's levers, and
`timing: {<lever>: {start_year: 2027, build_up_years: 3}}` for single levers. Before its start a
lever stays at the status quo; without a start year it acts from the first simulated month
(the settled state).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from sim.inputs.checks import allowed_values, validation_field
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers, LeverSchedule, LeverTiming
from sim.inputs.yamlio import read_yaml
from sim.paths import SCENARIOS

SCENARIO_DIR = SCENARIOS
TOP_LEVEL_KEYS = ("title", "description", "base", "levers", "start_year", "build_up_years", "timing")
MAX_BASE_DEPTH = 10
# `base:` names another scenario of the same folder, never a path: a file must not reach elsewhere.
SCENARIO_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    levers: Levers
    lever_changes: dict = field(default_factory=dict)
    source: str = ""
    timing: dict[str, LeverTiming] = field(default_factory=dict)  # per lever, as the file says
    default_timing: LeverTiming = field(default_factory=LeverTiming)  # the file's start_year and build_up_years

    def settled(self) -> "Scenario":
        """The same levers acting from the first simulated month: the scenario's settled state
        (for tests of a lever's effect and for analysts who compare settled states)."""
        return replace(self, timing={}, default_timing=LeverTiming())

    def schedule(self, levers: Levers | None = None) -> LeverSchedule:
        """The levers year by year: `levers` (else the scenario's) with the file's timing."""
        return LeverSchedule(levers or self.levers, self.timing, self.default_timing)


def _closest(key: str, allowed) -> str:
    match = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f"; did you mean '{match[0]}'?" if match else ""


def _key_name(key) -> str:
    """A key as the message shows it; an empty or blank key is shown quoted, so it can be seen."""
    text = str(key)
    return text if text.strip() == text and text else repr(text)


def _read(path: Path) -> dict:
    src = str(path)
    if not path.exists():
        raise InputError(src, "(file)", "scenario file not found",
                         allowed=sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError(src, "(file)", "a scenario must be a mapping with title, description and levers")
    for key in data:
        if key not in TOP_LEVEL_KEYS:
            raise InputError(src, _key_name(key), f"unknown key{_closest(key, TOP_LEVEL_KEYS)}", allowed=list(TOP_LEVEL_KEYS))
    for key in ("title", "description"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise InputError(src, key, "needs a German text")
    if data.get("levers") is not None and not isinstance(data["levers"], dict):
        raise InputError(src, "levers", "must be a mapping of lever to value", allowed=sorted(Levers.model_fields))
    base = data.get("base")
    if base is not None and not (isinstance(base, str) and SCENARIO_NAME.fullmatch(base)):
        shown = repr(base)[:60] if isinstance(base, str) else type(base).__name__
        raise InputError(src, "base", f"must be the name of another scenario (letters, digits, _ and -), got {shown}",
                         allowed=sorted(p.stem for p in path.parent.glob("*.yaml")))
    return data


def _merge(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_scenario(name_or_path: str | Path, directory: Path = SCENARIO_DIR, _depth: int = 0) -> Scenario:
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = directory / f"{name_or_path}.yaml"
    data = _read(path)
    changes = data.get("levers") or {}
    default_timing, timing = _timing(path, data)
    if data.get("base"):
        if _depth >= MAX_BASE_DEPTH:
            raise InputError(str(path), "base", f"scenarios build on each other more than {MAX_BASE_DEPTH} deep (a cycle?)")
        if not (directory / f"{data['base']}.yaml").is_file():
            raise InputError(str(path), "base", f"no scenario '{data['base']}' to build on",
                             allowed=sorted(p.stem for p in directory.glob("*.yaml")))
        parent = load_scenario(data["base"], directory, _depth + 1)
        changes = _merge(parent.lever_changes, changes)
        if "start_year" not in data and "build_up_years" not in data:
            default_timing = parent.default_timing
        timing = {**parent.timing, **timing}
    for key in changes:
        if key not in Levers.model_fields:
            raise InputError(str(path), f"levers.{_key_name(key)}", f"unknown lever{_closest(key, Levers.model_fields)}",
                             allowed=sorted(Levers.model_fields))
    try:
        # Levers a scenario leaves out, or keys of a lever it leaves out (one phase, one
        # Sozialraumtyp), stay at the status quo.
        levers = Levers.model_validate(_merge(Levers().model_dump(), changes))
    except ValidationError as exc:
        err = exc.errors()[0]
        field_name = "levers." + validation_field(err["loc"])
        raise InputError(str(path), field_name, err["msg"], allowed=allowed_values(Levers, err)) from None
    return Scenario(name=path.stem, title=data["title"].strip(), description=data["description"].strip(),
                    levers=levers, lever_changes=changes, source=str(path), timing=timing, default_timing=default_timing)


def _timing(path: Path, data: dict) -> tuple[LeverTiming, dict[str, LeverTiming]]:
    """The file's start year and build-up for all its levers, and per lever; checked."""
    def checked(value, where: str) -> LeverTiming:
        if not isinstance(value, dict):
            raise InputError(str(path), where, "must be a mapping with start_year and build_up_years",
                             allowed=list(LeverTiming.model_fields))
        try:
            return LeverTiming.model_validate(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise InputError(str(path), f"{where}.{validation_field(err['loc'])}".strip("."), err["msg"],
                             allowed=allowed_values(LeverTiming, err)) from None

    top = {k: data[k] for k in ("start_year", "build_up_years") if k in data}
    default = checked(top, "") if top else LeverTiming()
    per_lever = data.get("timing") or {}
    if not isinstance(per_lever, dict):
        raise InputError(str(path), "timing", "must be a mapping of lever to {start_year, build_up_years}",
                         allowed=sorted(Levers.model_fields))
    timing = {}
    for lever, value in per_lever.items():
        if lever not in Levers.model_fields:
            raise InputError(str(path), f"timing.{_key_name(lever)}", f"unknown lever{_closest(lever, Levers.model_fields)}",
                             allowed=sorted(Levers.model_fields))
        timing[lever] = checked(value, f"timing.{lever}")
    return default, timing
