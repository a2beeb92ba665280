"""Broken and hostile input for every loader ends in one clear InputError, never a traceback or a run.

Each property test generates input a planner could type by mistake, or someone could craft on
purpose, and feeds it to the loader the tool uses: scenario files (sim.inputs.scenario), the YAML reader
behind every file (sim.inputs.yamlio: scenarios, the service catalogue, the parameter file), Sozialraum
tables (sim.inputs.city), the service catalogue and its unit costs (sim.inputs.services), and the configuration
of a run or sweep (sim.sweeps.hydra_conf.check_run, and `python -m sim.run` itself).

"Clear" means: an `InputError` whose message starts with the file (or the configuration) and names
the field, and the row where there is one, with the allowed values where they are a short list.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from annotated_types import Ge, Gt, Le, Lt
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim.inputs.city import (CODE_COLUMNS, COUNT_COLUMNS, DEFAULT_CITY_PATH, REQUIRED_COLUMNS, SHARE_COLUMNS,
                      load_city)
from sim.inputs.errors import InputError
from sim.inputs.levers import Levers
from sim.inputs.params import ModelParams, load_params
from sim.inputs.scenario import TOP_LEVEL_KEYS, load_scenario
from sim.inputs.services import DEFAULT_CATALOGUE, UNIT_COSTS, Service, load_catalogue, load_unit_costs
from sim.inputs.yamlio import MAX_VALUES

REPO = Path(__file__).resolve().parents[1]
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAD = "title: Testszenario\ndescription: Ein Szenario für die Tests.\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def clear(err: InputError, source) -> str:
    """The message a planner reads: starts with the file, names a field, no internals."""
    message = str(err)
    assert isinstance(err, InputError)
    assert err.source == str(source), message
    assert message.startswith(str(source)), message
    assert "field '" in message and err.field, message
    for internal in ("Traceback", "site-packages", "numpy.", "pydantic_core", "function-after["):
        assert internal not in message, message
    assert len(message) < 6000, "a flood of text is not a clear message"
    return message


# ---- values of every kind, as YAML can hold them ------------------------------------------------
huge_numbers = st.sampled_from([1e308, -1e308, 10**100, -(10**100), 2**64, 1.7976931348623157e308, 5e-324])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_numbers,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(["_target_", "os.system", "yes", "no", "on", "off", "~", "1e400", "0x1F"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), st.integers(-3, 8)), inner, max_size=4)),
    max_leaves=12)


def dump(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def scenario_file(folder: Path, text: str | bytes, name: str = "feindlich") -> Path:
    path = folder / f"{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def load_or_refuse(path: Path):
    """Load the scenario; the only other outcome allowed is a clear InputError."""
    try:
        return load_scenario(path)
    except InputError as err:
        clear(err, path)
        return None


# ---- scenario files --------------------------------------------------------------------------
@SOME
@given(levers=st.dictionaries(st.sampled_from(sorted(Levers.model_fields)), values, min_size=1, max_size=3))
def test_any_value_for_a_real_lever_loads_as_valid_levers_or_is_refused(folder, levers):
    path = scenario_file(folder, HEAD + dump({"levers": levers}))
    loaded = load_or_refuse(path)
    if loaded is not None:  # accepted: then it is a valid lever set, and stays one through a round trip
        assert Levers.model_validate(loaded.levers.model_dump()) == loaded.levers


@SOME
@given(key=st.text(min_size=1, max_size=30).filter(lambda k: k not in Levers.model_fields), value=values)
def test_an_unknown_lever_is_refused_by_name_with_the_levers_allowed(folder, key, value):
    path = scenario_file(folder, HEAD + dump({"levers": {key: value}}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = clear(err.value, path)
    if err.value.field != "(file)":  # a key YAML itself refuses (a tab, a control character) is the file's fault
        key = next(iter(yaml.safe_load(dump({key: 0}))))  # as YAML reads it back (line breaks become spaces)
        assert err.value.field in (f"levers.{key}", f"levers.{key!r}"), "blank keys are shown quoted"
        assert "lotse_fte" in message, "the message lists the levers that exist"


@FEW
@given(key=st.text(min_size=1, max_size=30).filter(lambda k: k not in TOP_LEVEL_KEYS), value=values)
def test_an_unknown_top_level_key_is_refused_with_the_keys_allowed(folder, key, value):
    path = scenario_file(folder, HEAD + dump({key: value}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    clear(err.value, path)


NUMERIC_LEVERS = {name: field for name, field in Levers.model_fields.items() if field.annotation is float}


def bounds(field) -> tuple[float, float]:
    low, high = -math.inf, math.inf
    for rule in field.metadata:
        if isinstance(rule, (Ge, Gt)):
            low = float(getattr(rule, "ge", getattr(rule, "gt", None)))
        if isinstance(rule, (Le, Lt)):
            high = float(getattr(rule, "le", getattr(rule, "lt", None)))
    return low, high


def outside(low: float, high: float):
    below = st.floats(max_value=low, exclude_max=True, allow_nan=False, allow_infinity=False) if low > -math.inf else st.nothing()
    above = st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False) if high < math.inf else st.nothing()
    return st.one_of(below, above, huge_numbers.filter(lambda v: not low <= v <= high),
                     st.sampled_from([math.nan, math.inf, -math.inf]))


@SOME
@given(data=st.data(), lever=st.sampled_from(sorted(NUMERIC_LEVERS)))
def test_a_number_outside_its_lever_range_is_refused_with_the_range(folder, data, lever):
    low, high = bounds(NUMERIC_LEVERS[lever])
    value = data.draw(outside(low, high))
    path = scenario_file(folder, HEAD + dump({"levers": {lever: value}}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    message = clear(err.value, path)
    assert err.value.field == f"levers.{lever}"
    assert "finite" in message or "allowed" in message


SHARE_MAPS = {"coordination": ["birth", "kita", "primary"], "outreach_by_type": [1, 3, 5]}


@FEW
@given(data=st.data(), lever=st.sampled_from(sorted(SHARE_MAPS)))
def test_a_coverage_outside_0_to_1_is_refused(folder, data, lever):
    key = data.draw(st.sampled_from(SHARE_MAPS[lever]))
    value = data.draw(outside(0.0, 1.0))
    path = scenario_file(folder, HEAD + dump({"levers": {lever: {key: value}}}))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert clear(err.value, path) and err.value.field.startswith(f"levers.{lever}")


@FEW
@given(depth=st.integers(min_value=2, max_value=300), lever=st.sampled_from(sorted(Levers.model_fields)),
       kind=st.sampled_from(["list", "dict"]))
def test_deep_nesting_is_refused(folder, depth, lever, kind):
    value = 1.0
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    path = scenario_file(folder, HEAD + "levers:\n  " + lever + ": " + yaml.safe_dump(value, default_flow_style=True))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    clear(err.value, path)


@FEW
@given(where=st.sampled_from(["top", "levers", "nested", "value"]), value=values)
def test_a_hydra_target_is_never_instantiated(folder, where, value):
    doc = {"title": "T", "description": "D", "levers": {}}
    target = {"_target_": "os.system", "command": "touch pwned", "x": value}
    if where == "top":
        doc.update(target)
    elif where == "levers":
        doc["levers"] = target
    elif where == "nested":
        doc["levers"] = {"places_factor": {"u3_kita": target}}
    else:
        doc["levers"] = {"lotse_fte": target}
    path = scenario_file(folder, dump(doc))
    with pytest.raises(InputError) as err:
        load_scenario(path)
    clear(err.value, path)
    assert "_target_" in str(err.value) or err.value.field.startswith("levers.")


TAGS = [
    "!!python/object/apply:os.system [\"touch {marker}\"]",
    "!!python/object/new:os.system [\"touch {marker}\"]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/tuple [1, 2]",
    "!!binary aGVsbG8=",
    "!ruby/object:Gem::Installer {{i: x}}",
    "!custom 3",
    "!<tag:example.com,2000:app/foo> bar",
    "!!set {{a, b}}",
    "!!omap [{{a: 1}}]",
    "!!timestamp 2001-12-14",
    "!!str 5",
    "!!float 5",
]


@FEW
@given(tag=st.sampled_from(TAGS), where=st.sampled_from(["title", "lotse_fte", "places_factor", "access"]))
def test_yaml_tags_never_run_code_and_never_pass_as_lever_values(folder, tag, where):
    marker = folder / "pwned"
    value = tag.format(marker=marker)
    if where == "title":
        text = f"title: {value}\ndescription: D\n"
    else:
        text = HEAD + f"levers:\n  {where}: {value}\n"
    path = scenario_file(folder, text)
    loaded = load_or_refuse(path)
    assert not marker.exists(), "a YAML tag ran code"
    if loaded is not None:  # only the plain tags of YAML itself may pass, and only as valid values
        assert tag.startswith(("!!str", "!!float")), tag


@FEW
@given(levels=st.integers(min_value=5, max_value=12), width=st.integers(min_value=8, max_value=12),
       lever=st.sampled_from(["places_factor", "access", "fee_waiver", "coordination", "lotse_fte"]))
def test_an_alias_bomb_is_refused_quickly(folder, levels, width, lever):
    """Billion laughs: ten aliases of ten aliases of ... parse in microseconds but expand to
    width**levels values for every check that walks them."""
    anchors = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    anchors += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    path = scenario_file(folder, HEAD + f"levers:\n  {lever}: {{{', '.join(anchors)}}}\n")
    assume(width**levels > MAX_VALUES)
    started = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert time.perf_counter() - started < 5, "checking a bomb must stay cheap"
    assert clear(err.value, path) and err.value.field == "(file)"
    assert "values" in str(err.value)


@SOME
@given(raw=st.binary(min_size=1, max_size=200))
def test_bytes_that_are_not_utf8_are_refused_as_the_file(folder, raw):
    try:
        raw.decode("utf-8")
        assume(False)
    except UnicodeDecodeError:
        pass
    path = scenario_file(folder, HEAD.encode() + raw)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert clear(err.value, path) and err.value.field == "(file)"
    assert "UTF-8" in str(err.value)


@SOME
@given(text=st.one_of(
    st.sampled_from(["", " ", "\n\n", "# nur ein Kommentar\n", "---\n", "...\n", "~\n", "null\n", "[]\n", "{}\n",
                     "- a\n- b\n", "42\n", "'text'\n", "title: T\n", "description: D\n", "{title: T}\n"]),
    st.text(max_size=80),
    values.map(dump),
))
def test_a_file_that_is_no_scenario_mapping_is_refused(folder, text):
    path = scenario_file(folder, text)
    loaded = load_or_refuse(path)
    assert loaded is None or (loaded.title and loaded.description)


@FEW
@given(base=st.one_of(st.text(max_size=40), st.sampled_from(["../../etc/passwd", "/etc/hosts", "..", ".", "../scenarios/lotsen",
                                                            "lotsen.yaml", "~root", "a/b", "C:\\x", "lotsen\x00"])))
def test_a_base_is_a_scenario_name_never_a_path(folder, base):
    path = scenario_file(folder, HEAD + dump({"base": base}))
    loaded = load_or_refuse(path)
    if loaded is not None:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", base) and (REPO / "scenarios" / f"{base}.yaml").is_file()


# ---- the same YAML reader behind the catalogue and the parameter file ---------------------------
HOSTILE_DOCUMENTS = {
    "python tag": "x: !!python/object/apply:os.system ['true']\n",
    "custom tag": "x: !secret 3\n",
    "alias bomb": "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdef", "bcdefg")),
    "deep": "x: " + "[" * 60 + "]" * 60 + "\n",
    "duplicate key": "x: 1\nx: 2\n",
    "huge integer": "x: " + "9" * 5000 + "\n",
    "not utf-8": b"x: \xff\xfe\n",
    "a list": "- 1\n- 2\n",
    "empty": "",
    "unhashable key": "? [a, b]\n: 1\n",
}


def _params_file(path: Path):
    return load_params(fitted=path)


LOADERS = {"catalogue": load_catalogue, "parameter file": _params_file, "scenario": load_scenario}


@pytest.mark.parametrize("loader", list(LOADERS))
@pytest.mark.parametrize("document", list(HOSTILE_DOCUMENTS))
def test_every_yaml_loader_refuses_hostile_documents(tmp_path, loader, document):
    text = HOSTILE_DOCUMENTS[document]
    path = tmp_path / "datei.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if loader == "parameter file" and document == "empty":
        assert load_params(fitted=path) == load_params(fitted=None), "an empty parameter file changes nothing"
        return
    with pytest.raises(InputError) as err:
        LOADERS[loader](path)
    clear(err.value, path)


@FEW
@given(params=st.dictionaries(st.sampled_from(["demography", "development", "takeup", "base_rate", "bogus"]), values,
                              min_size=1, max_size=2))
def test_a_parameter_file_with_any_content_loads_valid_parameters_or_is_refused(folder, params):
    path = folder / "fitted.yaml"
    path.write_text(dump({"params": params}), encoding="utf-8")
    try:
        loaded = load_params(fitted=path)
    except InputError as err:
        clear(err, path)
        return
    assert ModelParams.model_validate(loaded.model_dump()) == loaded


# ---- Sozialraum tables ---------------------------------------------------------------------------
CITY_ROWS = 6


@functools.lru_cache(maxsize=1)
def _city_text() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_CITY_PATH, dtype=str, keep_default_na=False).head(CITY_ROWS)


@functools.lru_cache(maxsize=1)
def _city_numbers() -> pd.DataFrame:
    return load_city().table.head(CITY_ROWS)


def city_text() -> pd.DataFrame:
    return _city_text().copy()


def city_numbers() -> pd.DataFrame:
    return _city_numbers().copy()


row = st.integers(min_value=0, max_value=CITY_ROWS - 1)
not_a_number = st.one_of(st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e400", "zwölf", "1.2.3", "12 Kinder",
                                          "#WERT!", "=A1+1", "None", "null", "0x10", "1_0"]),
                         # Line breaks, quotes and separators break the row structure itself (still an
                         # InputError, but about another cell); a decimal comma is a number in a German export.
                         st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters='",;'),
                                 min_size=1, max_size=10).filter(lambda t: _not_number(t)))


def _not_number(text: str) -> bool:
    try:
        return not math.isfinite(float(text.strip()))
    except ValueError:
        return True


city_corruptions = st.one_of(
    st.tuples(st.just("drop"), st.lists(st.sampled_from(REQUIRED_COLUMNS), min_size=1, max_size=4, unique=True),
              st.none(), st.none()),
    st.tuples(st.just("negative count"), st.sampled_from(COUNT_COLUMNS), row,
              st.one_of(st.integers(max_value=-1), st.floats(max_value=-1e-6, allow_nan=False, allow_infinity=False))),
    st.tuples(st.just("share outside 0..1"), st.sampled_from(SHARE_COLUMNS), row,
              st.one_of(st.floats(min_value=1.000001, allow_nan=False, allow_infinity=False),
                        st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False))),
    st.tuples(st.just("not a number"), st.sampled_from([*COUNT_COLUMNS, *SHARE_COLUMNS, *CODE_COLUMNS]), row, not_a_number),
    st.tuples(st.just("stadtbezirk name"), st.just("stadtbezirk"), row,
              st.sampled_from(["Stadtbezirk 3", "Bilk", "III", "drei", "3a", "11", "0", "-1", "2.5", "Düsseldorf"])),
    st.tuples(st.just("duplicate id"), st.just("sozialraum_id"), st.integers(min_value=1, max_value=CITY_ROWS - 1), st.none()),
    st.tuples(st.just("empty"), st.none(), st.none(), st.none()),
)


def corrupt(table: pd.DataFrame, kind: str, column, index, value) -> pd.DataFrame:
    if kind == "drop":
        return table.drop(columns=column)
    if kind == "empty":
        return table.head(0)
    if kind == "duplicate id":
        table.loc[index, "sozialraum_id"] = table.loc[0, "sozialraum_id"]
        return table
    table[column] = table[column].astype(object)
    table.loc[index, column] = value if isinstance(value, str) else repr(value)
    return table


@SOME
@given(corruption=city_corruptions, form=st.sampled_from(["csv", "csv_semicolon", "parquet"]))
def test_a_broken_sozialraum_table_is_refused_with_file_row_and_column(folder, corruption, form):
    kind, column, index, value = corruption
    table = corrupt(city_text(), kind, column, index, value)
    path = folder / f"stadt.{'parquet' if form == 'parquet' else 'csv'}"
    if form == "parquet":
        table.astype(str).to_parquet(path, index=False)
    elif form == "csv_semicolon":
        path.write_text(table.to_csv(index=False, sep=";"), encoding="utf-8")
    else:
        path.write_text(table.to_csv(index=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_city(path)
    message = clear(err.value, path)
    if kind == "drop":
        assert all(c in err.value.field for c in column), message
        assert "allowed" in message, "the message lists the columns a table needs"
    elif kind == "empty":
        assert "no Sozialraum rows" in message
    else:
        assert column in err.value.field, message
        assert err.value.row == index + 2, "rows are counted as in a spreadsheet: header = row 1"
    if kind == "share outside 0..1":
        assert "0 to 1" in message


numeric_cells = st.one_of(st.just(np.nan), st.just(np.inf), st.just(-np.inf), st.floats(max_value=-0.5),
                          st.floats(min_value=1e7, allow_infinity=True, allow_nan=False), st.just(0.5))


@SOME
@given(column=st.sampled_from([*COUNT_COLUMNS, *SHARE_COLUMNS, *CODE_COLUMNS]), index=row, value=numeric_cells)
def test_a_table_built_in_code_with_nan_inf_or_out_of_range_numbers_is_refused(folder, column, index, value):
    table = city_numbers()
    table[column] = table[column].astype(float)
    table.loc[index, column] = value
    if column in SHARE_COLUMNS and value == 0.5:
        table.loc[index, "low_income_share"] = 0.6  # with sgb2 0.5 above 1 together, or a 0.5 plus 0.6
        table.loc[index, "sgb2_share"] = 0.5
        column = "low_income_share"
    path = folder / "stadt_zahlen.parquet"
    table.to_parquet(path, index=False)
    with pytest.raises(InputError) as err:
        load_city(path)
    message = clear(err.value, path)
    assert column in err.value.field or "sgb2_share + low_income_share" == err.value.field, message
    assert err.value.row == index + 2, message


@FEW
@given(raw=st.binary(min_size=0, max_size=300))
def test_any_bytes_as_a_sozialraum_table_are_refused_as_the_file(folder, raw):
    for suffix in ("csv", "parquet"):
        path = folder / f"bytes.{suffix}"
        path.write_bytes(raw)
        with pytest.raises(InputError) as err:
            load_city(path)
        clear(err.value, path)


# ---- the service catalogue ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped() -> dict:
    return yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))


SERVICES = list(yaml.safe_load(DEFAULT_CATALOGUE.read_text(encoding="utf-8")))
PLACE_COLUMNS = set(pd.read_csv(DEFAULT_CITY_PATH, nrows=1).columns)


def catalogue_file(folder: Path, services: dict) -> Path:
    path = folder / "services.yaml"
    path.write_text(dump(services), encoding="utf-8")
    return path


def refused(path: Path) -> InputError:
    with pytest.raises(InputError) as err:
        load_catalogue(path, place_columns=PLACE_COLUMNS)
    clear(err.value, path)
    return err.value


catalogue_breaks = st.one_of(
    st.tuples(st.just("unknown field"), st.text(min_size=1, max_size=20).filter(lambda k: k not in Service.model_fields), values),
    st.tuples(st.just("access"), st.just("access"),
              st.text(max_size=20).filter(lambda a: a not in ("outreach", "come_to_us", "application", "automatic"))),
    st.tuples(st.just("negative cost"), st.just("cost"), st.floats(max_value=-0.01, allow_nan=False)),
    st.tuples(st.just("ages"), st.just("ages_months"),
              st.one_of(st.tuples(st.integers(-10**6, -1), st.integers(0, 215)), st.tuples(st.integers(0, 215), st.integers(216, 10**6)),
                        st.tuples(st.integers(1, 215), st.integers(0, 214)).filter(lambda a: a[0] > a[1]))),
    st.tuples(st.just("unknown service"), st.sampled_from(["handover_to", "requires_any", "cost_covered_by"]),
              st.text(min_size=1, max_size=20).filter(lambda s: s not in SERVICES)),
    st.tuples(st.just("base rate"), st.just("base_rate"), outside(0.0, 1.0)),
    st.tuples(st.just("barrier"), st.just("barriers"),
              st.one_of(st.dictionaries(st.text(max_size=12).filter(lambda b: b not in ("information", "cost")), st.floats(0, 3),
                                        min_size=1, max_size=2),
                        st.fixed_dictionaries({"cost": outside(0.0, 3.0)}))),
    st.tuples(st.just("any value"), st.sampled_from(sorted(Service.model_fields)), values),
)


@SOME
@given(service=st.sampled_from(SERVICES), change=catalogue_breaks)
@example(service="welcome_visit", change=("unknown field", "\x85", 1))  # a key that YAML reads back changed
def test_a_broken_service_is_refused_naming_the_service_and_field(folder, shipped, service, change):
    kind, field, value = change
    services = copy.deepcopy(shipped)
    entry = services[service]
    if kind == "negative cost":
        entry["cost"] = {**entry["cost"], "unit_value_eur": value}
    elif kind == "ages":
        entry["ages_months"] = list(value)
    elif kind == "unknown service":
        entry[field] = value if field == "cost_covered_by" else [*entry.get(field, []), value]
    else:
        entry[field] = value
    path = catalogue_file(folder, services)
    if kind == "any value":  # may happen to be valid; if not, refused clearly
        try:
            load_catalogue(path, place_columns=PLACE_COLUMNS)
        except InputError as err:
            clear(err, path)
            assert err.field.startswith(service) or err.field == "(file)", str(err)
        return
    err = refused(path)
    assert err.field.startswith(service), str(err)
    if kind == "unknown field":
        field = next(iter(yaml.safe_load(dump({field: 0}))))  # as YAML reads it back (NEL, U+0085, becomes a space)
    if kind in ("unknown field", "access", "base rate", "unknown service"):
        assert err.field.startswith(f"{service}.{field}") or err.field == service, str(err)
    if kind == "access":
        assert "come_to_us" in str(err), "the message lists the access modes"


@FEW
@given(name=st.text(min_size=1, max_size=20).filter(lambda n: n not in SERVICES),
       ref=st.sampled_from(["handover_to", "requires_any", "continuity_from", "alternative_to"]))
def test_a_reference_to_a_service_that_does_not_exist_is_refused_with_the_known_ones(folder, shipped, name, ref):
    services = copy.deepcopy(shipped)
    entry = services["ue3_kita"]
    if ref in ("continuity_from", "alternative_to"):
        entry["capacity"] = {**entry["capacity"], ref: [name] if ref == "continuity_from" else name}
    else:
        entry[ref] = [name]
    err = refused(catalogue_file(folder, services))
    assert err.field.startswith("ue3_kita")
    assert "u3_kita" in str(err.allowed)


@FEW
@given(column=st.sampled_from(["id", "value_eur"]), index=st.integers(0, 10),
       value=st.one_of(st.sampled_from(["", "nan", "inf", "-5", "-0.01", "zehn", "1e400"]),
                       st.floats(max_value=-0.01, allow_nan=False).map(repr)))
def test_a_broken_unit_cost_table_is_refused_with_row_and_column(folder, column, index, value):
    table = pd.read_csv(UNIT_COSTS, dtype=str, keep_default_na=False)
    if column == "id":
        value = "" if value not in ("",) and index % 2 else table.loc[(index + 1) % len(table), "id"]
    table.loc[index, column] = value
    path = folder / "unit_costs.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as err:
        load_unit_costs(path)
    clear(err.value, path)
    assert err.value.field == column
    assert err.value.row is not None


# ---- the configuration of a run or sweep (Hydra overrides, after composition) ---------------------
@pytest.fixture(scope="module")
def composed() -> dict:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.run import CONF_DIR

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(compose(config_name="config"), resolve=True)


def with_value(config: dict, dotted: str, value) -> dict:
    out = copy.deepcopy(config)
    node = out
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return out


def numeric_parameters(model: type[BaseModel] = ModelParams, prefix: str = "params") -> dict[str, tuple[float, float]]:
    """Every declared number of the model parameters with its range, by its dotted override name."""
    found = {}
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found.update(numeric_parameters(field.annotation, f"{prefix}.{name}"))
        elif field.annotation is float:
            found[f"{prefix}.{name}"] = bounds(field)
    return found


PARAMETERS = numeric_parameters()
RUN_SETTINGS = {"seed": (0, 2**32 - 1), "scale.share": (0.001, 3.0), "years": (1, 60), "burn_in_years": (0, 30)}


def check(config: dict, key: str):
    from sim.sweeps.hydra_conf import SOURCE, check_run

    with pytest.raises(InputError) as err:
        check_run(config)
    clear(err.value, err.value.source)
    if err.value.source == SOURCE:
        assert err.value.field.startswith(key) or key.startswith(err.value.field), (key, str(err.value))
    return err.value


@SOME
@given(data=st.data(), key=st.sampled_from(sorted({**PARAMETERS, **RUN_SETTINGS})))
def test_an_override_out_of_range_names_the_key_before_anything_runs(composed, data, key):
    low, high = {**PARAMETERS, **RUN_SETTINGS}[key]
    if low == -math.inf and high == math.inf:
        value = data.draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    else:
        value = data.draw(outside(low, high))
    if key in ("seed", "years", "burn_in_years") and isinstance(value, float) and math.isfinite(value):
        value = int(value) if value.is_integer() else value
    err = check(with_value(composed, key, value), key)
    assert err.field == key, str(err)


@SOME
@given(key=st.sampled_from(sorted({**PARAMETERS, **RUN_SETTINGS}) + ["scenario.name", "objective.kind", "design.method",
                                                                       "city.table", "out"]),
       value=st.one_of(st.booleans(), st.text(max_size=10).filter(_not_number), st.lists(st.integers(), max_size=2),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)))
def test_an_override_of_the_wrong_type_names_the_key(composed, key, value):
    config = with_value(composed, key, value)
    from sim.sweeps.hydra_conf import check_run

    try:
        check_run(config)
    except InputError as err:
        clear(err, err.source)
        return
    # a text that happens to be a valid choice (an existing scenario, objective or design method)
    assert key in ("scenario.name", "objective.kind", "design.method", "out") and isinstance(value, str), (key, value)


parameter_names = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12), min_size=1, max_size=3)


@SOME
@given(path=parameter_names, group=st.sampled_from(["params", "params.takeup", "params.takeup.elasticity", "params.demography",
                                                    "params.development.risk.german", "levers", "params.base_rate",
                                                    "levers.access", "levers.places_factor"]))
def test_an_unknown_parameter_lever_or_service_name_is_refused_with_the_key(composed, path, group):
    key = ".".join([group, *path])
    node = composed
    for part in key.split("."):  # a name that exists after all (hypothesis finds them) is no test
        assume(isinstance(node, dict))
        node = node.get(part)
    assume(node is None and path[0] not in SERVICES and not (group == "levers" and path[0] in Levers.model_fields))
    config = with_value(composed, key, 0.5 if group != "levers.access" else "automatic")
    if "places_factor" in group:
        config = with_value(composed, f"{group}.{path[0]}", {"all": 1.1})
        key = f"{group}.{path[0]}"
    try:
        from sim.sweeps.hydra_conf import check_run

        check_run(config)
    except InputError as err:
        clear(err, err.source)
        assert err.field.split(".")[0] == key.split(".")[0]
        return
    raise AssertionError(f"{key} was accepted")


# ---- python -m sim.run itself: non-zero exit, the key named, no result folder ---------------------
def sim_run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.run([sys.executable, "-m", "sim.run", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env)


@pytest.mark.parametrize("override, key", [
    ("seed=99999999999999999999", "seed"),
    ("+levers.lotse_fte=1e308", "levers.lotse_fte"),
    ("+params.base_rate.u3_kitaa=0.5", "params.base_rate.u3_kitaa"),
], ids=["seed_too_large", "lever_huge", "unknown_service"])
def test_the_command_line_refuses_a_bad_override_before_running(tmp_path, override, key):
    out = tmp_path / "ergebnis"
    done = sim_run(override, "scale=tiny", "years=1", "burn_in_years=0", f"out={out}", f"hydra.run.dir={tmp_path / 'hydra'}",
                   cwd=tmp_path)
    assert done.returncode != 0
    assert key in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert not out.exists(), "a refused configuration must not leave a result folder"
    assert not list(tmp_path.glob(".ergebnis.*")), "nor a temporary of one"


def test_an_input_error_raised_in_a_worker_process_reaches_the_parent_whole():
    """A bad catalogue met in a worker of a process pool (calibration, sweeps) must reach the parent
    as the same InputError, file, field and allowed values included, not as a broken pool.
    Negative control: the default pickling of an exception with keyword-only arguments fails."""
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1) as pool:
        with pytest.raises(InputError) as raised:
            pool.submit(_raise_input_error).result()
    error = raised.value
    assert (error.source, error.field, error.row, error.allowed) == ("services.yaml", "u3_kita.demand_follows", 3, ["parents_work"])
    assert "u3_kita.demand_follows" in str(error)
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(_PlainError("a", "b", allowed=1)))


class _PlainError(ValueError):
    """An error like InputError without its __reduce__."""

    def __init__(self, source, field, *, allowed=None):
        super().__init__(f"{source}: {field}")


def _raise_input_error():
    raise InputError("services.yaml", "u3_kita.demand_follows", "not a kind of demand", row=3, allowed=["parents_work"])
