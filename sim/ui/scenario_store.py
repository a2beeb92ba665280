"""Scenarios for the UI: the ones in scenarios/, edited copies, and saving a copy as YAML.

Saving writes one new file inside the scenario folder, under a sanitised name, and never
replaces a file: not the standard set, and not an earlier saved scenario either. The text is
read back through `load_scenario` (the same checks as every scenario file) before it is written.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import unicodedata
from pathlib import Path

import yaml

from sim.analysis.compare import STANDARD_SET
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers, LeverTiming
from sim.inputs.scenario import SCENARIO_DIR, Scenario, load_scenario
from sim.ui.lever_fields import changes_from_status_quo

PROTECTED = frozenset(STANDARD_SET)  # the nine standard scenarios, the baseline among them
MAX_NAME = 40
MAX_TEXT = 2000


class SaveError(ValueError):
    """A scenario cannot be saved under this name; the message is German and names the field."""


def available(directory: Path = SCENARIO_DIR) -> list[str]:
    """Scenario names: the standard set in its order, then saved ones alphabetically."""
    names = {p.stem for p in Path(directory).glob("*.yaml")}
    return [n for n in STANDARD_SET if n in names] + sorted(names - PROTECTED)


def scenario(name: str, directory: Path = SCENARIO_DIR) -> Scenario:
    """A scenario by name, read again only when its file (or a base it builds on) changed.

    Every keystroke re-renders a page, and reading and checking YAML each time made typing slow.
    """
    stamps = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(Path(directory).glob("*.yaml")))
    return _cached(name, str(directory), stamps)


@functools.lru_cache(maxsize=256)
def _cached(name: str, directory: str, stamps: tuple) -> Scenario:
    return load_scenario(name, directory=Path(directory))


def sanitise_name(text: str) -> str:
    """A file name from a planner's text: lower case, umlauts spelt out, [a-z0-9_] only."""
    text = str(text).strip().lower()
    for umlaut, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelt)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    text = text[:MAX_NAME].strip("_")
    return text if text and text[0].isalpha() else (f"szenario_{text}" if text else "")


def name_problem(text: str, directory: Path = SCENARIO_DIR) -> str | None:
    """Why a name cannot be used for a new scenario (German), or None."""
    name = sanitise_name(text)
    if not name:
        return "Bitte einen Namen mit Buchstaben eingeben"
    if name in PROTECTED:
        return f"„{name}“ gehört zu den Standardszenarien und wird nicht überschrieben"
    if (Path(directory) / f"{name}.yaml").exists():
        return f"„{name}.yaml“ gibt es schon; bitte einen anderen Namen wählen"
    return None


def edited_copy(base: Scenario, levers: Levers, name: str, title: str, description: str = "",
                timing: LeverTiming | None = None) -> Scenario:
    """A scenario built from base with other levers; it exists in memory until it is saved. `timing`
    (start year and build-up for all its levers) replaces the base's; without it the base's holds."""
    clean = sanitise_name(name) or "eigenes_szenario"
    title = title.strip() or f"{base.title} (bearbeitet)"
    description = description.strip() or f"Kopie von „{base.title}“ ({base.name}) mit geänderten Hebeln."
    return Scenario(name=clean, title=title[:200], description=description[:MAX_TEXT], levers=levers,
                    lever_changes=changes_from_status_quo(levers), source="(in der Oberfläche bearbeitet)",
                    timing={} if timing else dict(base.timing), default_timing=timing or base.default_timing)


def scenario_yaml(scenario: Scenario) -> str:
    data = {"title": scenario.title, "description": scenario.description}
    if scenario.default_timing.start_year is not None:
        data["start_year"] = scenario.default_timing.start_year
        data["build_up_years"] = scenario.default_timing.build_up_years
    if scenario.timing:
        data["timing"] = {lever: t.model_dump() for lever, t in scenario.timing.items()}
    data["levers"] = changes_from_status_quo(scenario.levers)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)


def save(scenario: Scenario, directory: Path = SCENARIO_DIR) -> Path:
    """Write scenario as <sanitised name>.yaml into directory; never replaces a file."""
    directory = Path(directory).resolve()
    problem = name_problem(scenario.name, directory)
    if problem:
        raise SaveError(problem)
    name = sanitise_name(scenario.name)
    path = (directory / f"{name}.yaml").resolve()
    if path.parent != directory:  # cannot happen after sanitising; kept as the last guard
        raise SaveError("Der Name führt aus dem Szenario-Ordner heraus")
    text = scenario_yaml(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        check = Path(tmp) / f"{name}.yaml"
        check.write_text(text, encoding="utf-8")
        try:
            loaded = load_scenario(check, directory=Path(tmp))
        except InputError as exc:
            raise SaveError(f"Das Szenario ist ungültig: {exc}") from None
    if loaded.levers != scenario.levers or loaded.schedule().timing != scenario.schedule().timing:
        raise SaveError("Die gespeicherten Hebel weichen von den eingestellten ab; nichts gespeichert")
    _write_new(path, text)
    return path


def _write_new(path: Path, text: str) -> None:
    """Atomic and never replacing: write a hidden temporary file, then hard-link it to its name.

    A reader sees either no file or the whole file; `os.link` fails if the name exists (also when
    another session saved the same name a moment ago), where a rename would silently replace it.
    """
    handle, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise SaveError(f"„{path.name}“ gibt es schon; bitte einen anderen Namen wählen") from None
    finally:
        os.unlink(tmp)
