"""The service catalogue: the shipped one is complete, and a broken one is reported, never run."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.engine.model import PreventionChainModel
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers
from sim.inputs.services import DEFAULT_CATALOGUE, PHASES, UNIT_COSTS, load_catalogue

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / ".." / "shared" / "reference"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def shipped() -> dict:
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


# --- the shipped catalogue ---------------------------------------------------------------


def test_shipped_catalogue_covers_every_life_phase(catalogue):
    assert len(catalogue) >= 12
    assert {svc.phase for svc in catalogue.services.values()} == set(PHASES)
    for needed in ("welcome_visit", "u3_kita", "ue3_kita", "ogs", "but_social", "kinderzuschlag", "youth_job_centre"):
        assert needed in catalogue.ids


def test_every_unit_cost_of_the_catalogue_exists(catalogue):
    unit_costs = pd.read_csv(UNIT_COSTS)
    known = set(unit_costs["id"])
    referenced = set()
    for service_id, svc in catalogue.services.items():
        for ref in [*svc.cost.unit_cost, svc.cost.admin_overhead, svc.cost.investment, svc.cost.fee]:
            if ref is not None:
                assert ref in known, f"{service_id}: unit cost '{ref}' not in unit_costs.csv"
                referenced.add(ref)
        if svc.cost.basis != "none":
            assert svc.cost.unit_cost, service_id
    assert {"C01", "C02", "C10", "C11", "C19", "C27"} <= referenced


def test_handovers_lead_to_services_of_the_catalogue(catalogue):
    for service_id, svc in catalogue.services.items():
        assert set(svc.handover_to) <= set(catalogue.ids), service_id
        assert service_id not in svc.handover_to, f"{service_id} hands over to itself"


def test_the_calibration_targets_are_the_published_reference_copy():
    reference = REFERENCE / "calibration_targets.csv"
    assert reference.is_file(), f"reference copy missing: {reference}"
    assert (REPO / "sim" / "data" / "calibration_targets.csv").read_bytes() == reference.read_bytes()


def test_the_unit_costs_keep_every_reference_line_unchanged():
    """The project's table adds payer shares and the lines the model needs (C16 on); the lines and
    columns of the reference copy stay as published there."""
    reference = pd.read_csv(REFERENCE / "unit_costs.csv", dtype=str, keep_default_na=False)
    ours = pd.read_csv(UNIT_COSTS, dtype=str, keep_default_na=False)
    assert list(ours.columns[: len(reference.columns)]) == list(reference.columns)
    pd.testing.assert_frame_equal(ours.iloc[: len(reference)][list(reference.columns)], reference)


# --- broken catalogues ---------------------------------------------------------------------


def write(tmp_path: Path, services: dict, name: str = "services.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(services, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken(shipped: dict, service: str, change) -> dict:
    services = {k: dict(v) for k, v in shipped.items()}
    entry = services[service]
    entry["cost"] = dict(entry["cost"])
    entry["barriers"] = dict(entry.get("barriers") or {})
    change(entry)
    return services


def test_a_copy_of_the_shipped_catalogue_loads(tmp_path, shipped, catalogue):
    copy = load_catalogue(write(tmp_path, shipped))
    assert copy.ids == catalogue.ids
    assert copy.source == str(tmp_path / "services.yaml")


CASES = {
    "unknown barrier": ("u3_kita", lambda e: e["barriers"].update(waiting_time=1.0), "u3_kita", "unknown barrier 'waiting_time'"),
    "unknown handover target": ("welcome_visit", lambda e: e.update(handover_to=["familienzentrum", "babycafe"]),
                                "welcome_visit.handover_to", "unknown service 'babycafe'"),
    "unknown unit cost id": ("ogs", lambda e: e["cost"].update(unit_cost="C99"), "ogs.cost.unit_cost", "unknown unit cost id 'C99'"),
    "base rate above one": ("but_social", lambda e: e.update(base_rate=1.5), "but_social.base_rate", "less than or equal to 1"),
    "missing field": ("familienzentrum", lambda e: e.pop("phase"), "familienzentrum.phase", "required"),
    "unknown phase": ("ogs", lambda e: e.update(phase="grundschule"), "ogs.phase", "primary"),
    "ages backwards": ("ogs", lambda e: e.update(ages_months=[131, 72]), "ogs", "ages_months"),
    "unknown field": ("ogs", lambda e: e.update(warteliste=True), "ogs.warteliste", "not permitted"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_broken_catalogue_is_reported_with_file_and_field(tmp_path, shipped, case):
    service, change, field, problem = CASES[case]
    path = write(tmp_path, broken(shipped, service, change))
    with pytest.raises(InputError) as err:
        load_catalogue(path)
    assert err.value.source == str(path)
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{path}, field '{field}'")
    assert re.search(re.escape(problem), message, re.IGNORECASE), message


@pytest.mark.parametrize(
    "text",
    ["u3_kita: {name: [unclosed\n", "- just\n- a list\n", "", "u3_kita: 3\n"],
    ids=["not_yaml", "a_list", "empty", "entry_not_a_mapping"],
)
def test_a_file_that_is_no_catalogue_is_reported(tmp_path, text):
    path = tmp_path / "services.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_catalogue(path)
    assert err.value.source == str(path)
    assert str(path) in str(err.value)


def test_a_missing_catalogue_file_is_reported(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(InputError, match=re.escape(str(path)) + ".*not found"):
        load_catalogue(path)


def test_a_catalogue_without_the_kita_is_reported_before_the_run(tmp_path, shipped):
    services = {k: v for k, v in shipped.items() if k != "ue3_kita"}
    for entry in services.values():
        entry["handover_to"] = [t for t in entry.get("handover_to", []) if t != "ue3_kita"]
        if entry.get("requires_any"):
            entry["requires_any"] = [t for t in entry["requires_any"] if t != "ue3_kita"]
        cap = entry.get("capacity")
        if isinstance(cap, dict) and cap.get("continuity_from"):
            cap["continuity_from"] = [t for t in cap["continuity_from"] if t != "ue3_kita"]
    path = write(tmp_path, services)
    catalogue = load_catalogue(path)
    with pytest.raises(InputError) as err:
        PreventionChainModel("baseline", catalogue=catalogue, scale=0.05, years=1, burn_in_years=0)
    assert err.value.field == "ue3_kita"
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "levers",
    [
        Levers(access={"nope": "automatic"}),
        Levers(places_factor={"nope": {"all": 1.2}}),
        Levers(fee_waiver={"nope": ["sgb2"]}),
    ],
    ids=["access", "places_factor", "fee_waiver"],
)
def test_a_lever_on_an_unknown_service_is_reported(levers):
    with pytest.raises(InputError) as err:
        PreventionChainModel("baseline", levers=levers, scale=0.05, years=1, burn_in_years=0)
    assert err.value.field == "nope"
    assert "nope" in str(err.value)
    assert "u3_kita" in str(err.value), "the message should list the known services"


def test_no_module_of_the_package_imports_itself_round_a_circle():
    """The package reads as layers: no import circle between its modules, counting imports made
    inside functions too (they hide a circle; they do not remove it). Negative control: a circle
    added to the graph is found."""
    import ast
    import graphlib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    files = {".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p
             for p in (root / "sim").rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in files and t not in (name, "sim")}

    def circle(g: dict[str, set[str]]) -> tuple | None:
        try:
            tuple(graphlib.TopologicalSorter(g).static_order())
        except graphlib.CycleError as error:
            return error.args[1]
        return None

    assert circle(graph) is None, circle(graph)
    assert circle({**graph, "sim.engine.population": graph["sim.engine.population"] | {"sim.engine.mechanisms.demography"}}) is not None
