"""The city table: the shipped synthetic Düsseldorf, its generator, and the checks on any city table."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs.city import (
    AGE_BANDS,
    COUNT_COLUMNS,
    DEFAULT_CITY_PATH,
    PLACE_COLUMNS,
    REQUIRED_COLUMNS,
    SHARE_COLUMNS,
    STADTBEZIRK_STADTTEILE,
    STADTBEZIRKE,
    City,
    load_city,
    validate_table,
)
from sim.inputs.errors import InputError

GENERATOR_PATH = Path(__file__).resolve().parents[1] / "experiments" / "make_synthetic_city.py"
NORTH = {"Angermund", "Kaiserswerth", "Wittlaer", "Himmelgeist", "Kalkum", "Lohausen", "Itter", "Hubbelrath"}


@pytest.fixture(scope="module")
def city() -> City:
    return load_city()


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("make_synthetic_city", GENERATOR_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def _small_city_text() -> pd.DataFrame:
    return pd.read_csv(DEFAULT_CITY_PATH, dtype=str, keep_default_na=False).head(8)


def small_city() -> pd.DataFrame:
    """Eight valid Sozialräume as text cells, exactly as a spreadsheet would hold them."""
    return _small_city_text().copy()


def write(table: pd.DataFrame, folder: Path, name: str = "city.csv") -> Path:
    path = folder / name
    table.to_csv(path, index=False)
    return path


def where(path: Path, field: str, row: int | None = None) -> str:
    """The start of an InputError message: file, spreadsheet row, field."""
    place = str(path) if row is None else f"{path}, row {row}"
    return re.escape(f"{place}, field '{field}'")


# --- the shipped synthetic Düsseldorf ---------------------------------------------


def test_default_city_matches_published_totals(city):
    s = city.summary()
    assert s["n_sozialraeume"] == 170
    assert s["n_stadtbezirke"] == 10
    assert s["n_stadtteile"] == 50
    assert s["sgb2_share_weighted"] == pytest.approx(0.175, abs=0.005)
    assert s["sgb2_share_min"] <= 0.10
    assert 0.54 <= s["sgb2_share_max"] <= 0.66
    assert s["children"] == pytest.approx(100_500, rel=0.05)
    assert s["places_u3_kita"] + s["places_tagespflege"] == pytest.approx(9_700, rel=0.02)
    assert s["places_tagespflege"] == pytest.approx(3_800, rel=0.02)
    assert s["ogs_coverage"] == pytest.approx(0.655, abs=0.01)
    assert s["ue3_coverage"] == pytest.approx(1.25, abs=0.01)  # places for 3 to school entry, held all year
    assert s["other_language_share_weighted"] == pytest.approx(0.34, abs=0.005)
    assert s["single_parent_share_weighted"] == pytest.approx(0.20, abs=0.01)
    assert s["low_income_share_weighted"] == pytest.approx(0.06, abs=0.01)
    assert s["familienzentren"] == 89
    assert s["pluskita_kitas"] == pytest.approx(90, abs=5)


def test_default_city_is_marked_synthetic(city):
    assert city.synthetic is True
    assert city.title == "Synthetisches Düsseldorf"
    assert city.source == str(DEFAULT_CITY_PATH)
    assert city.table["label"].str.contains("(synthetisch)", regex=False).all()


def test_default_city_has_the_real_stadtbezirke_and_stadtteile(city):
    assert set(city.stadtbezirk) == set(STADTBEZIRKE) == set(range(1, 11))
    for bezirk, stadtteile in STADTBEZIRK_STADTTEILE.items():
        in_table = set(city.table.loc[city.table["stadtbezirk"] == bezirk, "stadtteil"])
        assert in_table == set(stadtteile), bezirk
    assert sum(len(s) for s in STADTBEZIRK_STADTTEILE.values()) == 50


def test_sozialraum_ids_keep_their_leading_zero_and_file_order(city):
    ids = city.table["sozialraum_id"]
    assert ids.iloc[0] == "0101"
    assert ids.is_unique
    assert ids.str.fullmatch(r"\d{4}").all()
    assert list(city.table.index) == list(range(city.n_sozialraeume))
    assert (ids.str[:2].astype(int) == city.stadtbezirk).all()


def test_poverty_is_highest_in_hassels_and_lowest_in_the_north(city):
    table = city.table
    assert table.loc[table["sgb2_share"].idxmax(), "stadtteil"] == "Hassels"
    assert table.loc[table["sgb2_share"].idxmin(), "stadtteil"] in NORTH
    flingern_sued = table.loc[table["stadtteil"] == "Flingern-Süd", "sgb2_share"].max()
    assert flingern_sued == pytest.approx(0.54, abs=0.03)


def test_sozialraum_types_rise_with_need_and_type_5_holds_about_22(city):
    per_typ = city.summary()["sozialraeume_per_typ"]
    assert set(per_typ) == {1, 2, 3, 4, 5}
    assert 18 <= per_typ[5] <= 28
    children = city.children
    mean_sgb2 = [
        np.average(city.share("sgb2_share")[city.sozialraum_typ == t], weights=children[city.sozialraum_typ == t])
        for t in range(1, 6)
    ]
    assert mean_sgb2 == sorted(mean_sgb2)


def test_high_need_sozialraeume_have_fewer_u3_places_per_child_but_more_pluskitas(city):
    t = city.table
    low, high = t[city.sozialraum_typ <= 2], t[city.sozialraum_typ == 5]

    def u3_coverage(part):
        return (part["places_u3_kita"].sum() + part["places_tagespflege"].sum()) / part["children_0_2"].sum()

    assert u3_coverage(high) < u3_coverage(low)
    assert high["pluskita_kitas"].sum() / len(high) > low["pluskita_kitas"].sum() / len(low)
    assert (t["places_tagespflege"] == 0).any()


def test_per_sozialraum_coverage_stays_in_plausible_bands(city):
    t = city.table
    has_children = t["children_3_5"] >= 20  # rounding dominates in the tiniest Sozialräume
    ue3 = t.loc[has_children, "places_ue3_kita"] / t.loc[has_children, "children_3_5"]
    ogs = t["places_ogs"] / t["children_6_9"].where(t["children_6_9"] > 0)
    assert ue3.between(1.13, 1.37).all()
    assert ogs.dropna().between(0.50, 0.80).all()
    assert (t["sgb2_share"] + t["low_income_share"] <= 1).all()


def test_city_arrays_follow_age_band_order(city):
    bands = city.children_by_band
    assert bands.shape == (city.n_sozialraeume, len(AGE_BANDS))
    assert bands.dtype == np.int64
    for j, column in enumerate(AGE_BANDS):
        assert (bands[:, j] == city.table[column].to_numpy()).all()
    assert list(AGE_BANDS.values()) == [(0, 2), (3, 5), (6, 9), (10, 15), (16, 17)]
    for column in PLACE_COLUMNS:
        assert (city.places(column) == city.table[column].to_numpy()).all()


def test_asking_for_an_unknown_place_column_names_the_allowed_ones(city):
    with pytest.raises(InputError, match="places_u3_kita"):
        city.places("places_hort")


# --- the generator -----------------------------------------------------------------


def test_generator_is_reproducible(generator, tmp_path):
    first, _ = generator.main(out_dir=tmp_path / "a", quiet=True)
    second, _ = generator.main(out_dir=tmp_path / "b", quiet=True)
    assert first.read_bytes() == second.read_bytes()
    assert first.with_name("duesseldorf_synthetic.meta.yaml").read_bytes() == second.with_name(
        "duesseldorf_synthetic.meta.yaml"
    ).read_bytes()


def test_shipped_city_is_what_the_generator_makes(generator, tmp_path):
    csv_path, meta_path = generator.main(out_dir=tmp_path, quiet=True)
    assert csv_path.read_bytes() == DEFAULT_CITY_PATH.read_bytes()
    assert meta_path.read_bytes() == DEFAULT_CITY_PATH.with_name(meta_path.name).read_bytes()


def test_generator_columns_are_the_required_columns(generator):
    table = generator.generate(seed=1)
    assert tuple(table.columns) == REQUIRED_COLUMNS
    assert len(table) == 170


# --- checks on any city table: one rule, one message -------------------------------


def test_missing_file_is_reported(tmp_path):
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError, match=where(path, "file") + ".*not found"):
        load_city(path)


def test_a_folder_instead_of_a_file_is_reported(tmp_path):
    with pytest.raises(InputError, match=where(tmp_path, "file") + ".*not a file"):
        load_city(tmp_path)


def test_unreadable_file_is_reported(tmp_path):
    path = tmp_path / "city.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(InputError, match=where(path, "file") + ".*cannot be read"):
        load_city(path)


def test_empty_file_is_reported(tmp_path):
    path = tmp_path / "city.csv"
    path.write_text("")
    with pytest.raises(InputError, match=where(path, "rows") + ".*empty"):
        load_city(path)


def test_table_with_only_a_header_is_reported(tmp_path):
    path = write(small_city().head(0), tmp_path)
    with pytest.raises(InputError, match=where(path, "rows") + ".*no Sozialraum rows"):
        load_city(path)


def test_missing_required_columns_are_named(tmp_path):
    path = write(small_city().drop(columns=["sgb2_share", "places_ogs"]), tmp_path)
    with pytest.raises(InputError, match=where(path, "sgb2_share, places_ogs") + ".*allowed: .*sozialraum_id") as err:
        load_city(path)
    assert err.value.allowed == list(REQUIRED_COLUMNS)


def test_text_in_a_number_column_is_reported(tmp_path):
    table = small_city()
    table.loc[2, "children_3_5"] = "viele"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "children_3_5", row=4) + ".*'viele' is not a number"):
        load_city(path)


def test_empty_number_cell_is_reported(tmp_path):
    table = small_city()
    table.loc[0, "other_language_share"] = ""
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "other_language_share", row=2) + ".*empty cell"):
        load_city(path)


def test_negative_count_is_reported(tmp_path):
    table = small_city()
    table.loc[5, "places_tagespflege"] = "-3"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "places_tagespflege", row=7) + ".*negative count -3"):
        load_city(path)


def test_fractional_count_is_reported(tmp_path):
    table = small_city()
    table.loc[1, "children_0_2"] = "12.5"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "children_0_2", row=3) + ".*12.5 is not a whole number"):
        load_city(path)


def test_share_above_one_is_reported_with_a_percent_hint(tmp_path):
    table = small_city()
    table.loc[3, "sgb2_share"] = "17.5"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "sgb2_share", row=5) + ".*outside 0 to 1.*not percent"):
        load_city(path)


def test_negative_share_is_reported(tmp_path):
    table = small_city()
    table.loc[0, "single_parent_share"] = "-0.1"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "single_parent_share", row=2) + ".*outside 0 to 1"):
        load_city(path)


def test_poor_and_low_income_together_above_one_is_reported(tmp_path):
    table = small_city()
    table.loc[4, "sgb2_share"] = "0.6"
    table.loc[4, "low_income_share"] = "0.5"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "sgb2_share + low_income_share", row=6) + ".*at most one"):
        load_city(path)


def test_stadtbezirk_outside_1_to_10_is_reported(tmp_path):
    table = small_city()
    table.loc[2, "stadtbezirk"] = "11"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "stadtbezirk", row=4) + ".*allowed: 1 to 10"):
        load_city(path)


@pytest.mark.parametrize("bad", ["0", "6", "2.5"])
def test_sozialraum_typ_outside_1_to_5_is_reported(tmp_path, bad):
    table = small_city()
    table.loc[6, "sozialraum_typ"] = bad
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "sozialraum_typ", row=8) + ".*allowed: 1 to 5"):
        load_city(path)


def test_duplicate_sozialraum_id_is_reported_with_both_rows(tmp_path):
    table = small_city()
    table.loc[5, "sozialraum_id"] = table.loc[1, "sozialraum_id"]
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "sozialraum_id", row=7) + ".*duplicate.*row 3"):
        load_city(path)


def test_sozialraum_without_id_is_reported(tmp_path):
    table = small_city()
    table.loc[3, "sozialraum_id"] = ""
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=where(path, "sozialraum_id", row=5) + ".*empty"):
        load_city(path)


def test_sozialraum_without_children_is_allowed(tmp_path):
    table = small_city()
    table.loc[2, list(AGE_BANDS)] = "0"
    city = load_city(write(table, tmp_path))
    assert city.children[2] == 0
    assert city.synthetic is False
    assert city.title == "city"


def test_city_without_any_children_is_reported(tmp_path):
    table = small_city()
    table[list(AGE_BANDS)] = "0"
    path = write(table, tmp_path)
    with pytest.raises(InputError, match=re.escape(str(path)) + ".*no children"):
        load_city(path)


def test_extra_columns_are_kept(tmp_path):
    table = small_city()
    table["schulsozialarbeit_stellen"] = [str(i) for i in range(len(table))]
    table["bemerkung"] = "Planungsstand 2025"
    city = load_city(write(table, tmp_path))
    assert list(city.table["schulsozialarbeit_stellen"]) == list(range(len(table)))
    assert (city.table["bemerkung"] == "Planungsstand 2025").all()


def test_parquet_city_loads_like_csv(tmp_path):
    csv_city = load_city(write(small_city(), tmp_path))
    path = tmp_path / "city.parquet"
    csv_city.table.to_parquet(path)
    parquet_city = load_city(path)
    pd.testing.assert_frame_equal(parquet_city.table, csv_city.table)


def test_german_excel_export_with_semicolons_decimal_commas_and_windows_encoding_loads(tmp_path):
    table = small_city()
    table.loc[0, ["label", "stadtteil"]] = ["Flingern-Süd 9", "Flingern-Süd"]
    csv_city = load_city(write(table, tmp_path))
    path = tmp_path / "export.csv"
    table.map(lambda v: v.replace(".", ",")).to_csv(path, sep=";", index=False, encoding="cp1252")
    excel_city = load_city(path)
    pd.testing.assert_frame_equal(excel_city.table, csv_city.table)
    assert excel_city.table.loc[0, "stadtteil"] == "Flingern-Süd"


def test_a_table_built_in_code_is_checked_like_a_file():
    table = load_city().table.head(3).copy()
    assert len(validate_table(table, "engine test")) == 3
    table.loc[1, "children_10_15"] = -1
    with pytest.raises(InputError, match=re.escape("engine test, row 3, field 'children_10_15'")):
        validate_table(table, "engine test")


def test_broken_meta_file_is_reported(tmp_path):
    path = write(small_city(), tmp_path)
    meta = tmp_path / "city.meta.yaml"
    meta.write_text("synthetic: vielleicht\n")
    with pytest.raises(InputError, match=where(meta, "synthetic")):
        load_city(path)


# --- random corruptions always give an InputError, never a traceback ----------------

corruptions = st.one_of(
    st.tuples(
        st.just("negative count"),
        st.sampled_from(COUNT_COLUMNS),
        st.integers(min_value=0, max_value=7),
        st.integers(min_value=-100_000, max_value=-1).map(str),
    ),
    st.tuples(
        st.just("share above one"),
        st.sampled_from(SHARE_COLUMNS),
        st.integers(min_value=0, max_value=7),
        st.floats(min_value=1.0001, max_value=1e6, allow_nan=False).map(repr),
    ),
    st.tuples(st.just("dropped column"), st.sampled_from(REQUIRED_COLUMNS), st.just(None), st.just(None)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corruption=corruptions)
def test_random_corruptions_always_raise_input_error(tmp_path_factory, corruption):
    kind, column, index, value = corruption
    table = small_city()
    if kind == "dropped column":
        table = table.drop(columns=[column])
    else:
        table.loc[index, column] = value
    path = write(table, tmp_path_factory.mktemp("corrupt"))

    with pytest.raises(InputError) as err:
        load_city(path)

    assert err.value.source == str(path)
    assert column in err.value.field
    if index is not None:
        assert err.value.row == index + 2


@functools.lru_cache(maxsize=1)
def _small_city_csv() -> str:
    return small_city().to_csv(index=False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["replace", "delete", "insert"]),
            st.integers(min_value=0, max_value=10_000),
            st.sampled_from([",", ";", ".", '"', "\n", "-", "e", "0", "9", " ", "x", "ß", "nan", "1e400"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_random_typing_errors_never_escape_as_tracebacks(tmp_path_factory, edits):
    text = list(_small_city_csv())
    for op, position, char in edits:
        i = position % len(text)
        if op == "replace":
            text[i] = char
        elif op == "delete" and len(text) > 1:
            del text[i]
        else:
            text.insert(i, char)
    path = tmp_path_factory.mktemp("typo") / "city.csv"
    path.write_text("".join(text), encoding="utf-8")
    try:
        load_city(path)
    except InputError as err:
        assert err.source == str(path)
