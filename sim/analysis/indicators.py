"""Teilhabe indicators: counted by subgroup while the model runs, reported as tidy tables.

Every indicator is a numerator over a denominator, summed per calendar year and per subgroup:
all children, poverty status, Sozialraumtyp, Stadtbezirk, family language and Sozialraum.
Counting goes through "cells" (Sozialraum × poverty status × family language): every subgroup
is a union of cells, so one sparse product turns cell counts into all subgroups at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from sim.inputs.city import STADTBEZIRKE, SOZIALRAUM_TYPES

POVERTY_LABELS = {0: "not_poor", 1: "low_income", 2: "sgb2"}
SUBGROUP_LABELS_DE = {
    ("all", "all"): "alle Kinder",
    ("poverty", "sgb2"): "SGB II",
    ("poverty", "non_sgb2"): "nicht SGB II",
    ("poverty", "low_income"): "geringes Einkommen (KiZ/Wohngeld)",
    ("poverty", "not_poor"): "nicht arm",
    ("poverty", "any_low_income"): "SGB II oder geringes Einkommen",
    ("poverty", "gap"): "Abstand SGB II − nicht SGB II",
    ("language", "german"): "Familiensprache Deutsch",
    ("language", "other"): "andere Familiensprache",
}

INDICATOR_LABELS_DE = {
    "child_sgb2_rate": "Kinder in SGB-II-Haushalten",
    "u3_care_coverage": "U3-Versorgung: belegte U3-Plätze (Kita und Tagespflege) je Kind unter 3",
    "ue3_kita_attendance": "Ü3-Kitabesuch",
    "ogs_participation": "OGS-Teilnahme",
    "u3_waiting_list_august": "U3: nach der Vergabe im August ohne Platz (Warteliste)",
    "ogs_waiting_list_august": "OGS: nach der Vergabe im August ohne Platz (Warteliste)",
    "but_social_participation_takeup": "BuT-Teilhabe (15 EUR) genutzt",
    "but_any_component_takeup": "BuT: mindestens eine Leistung genutzt",
    "kinderzuschlag_takeup": "Kinderzuschlag/Wohngeld genutzt",
    "welcome_visit_acceptance": "Willkommensbesuch angenommen",
    "parent_child_group_under_3": "Eltern-Kind-Gruppe im Familienzentrum in den ersten drei Lebensjahren",
    "u_checkup_u9_participation": "U9 wahrgenommen",
    "insufficient_german_at_school_entry": "Schuleingang: unzureichende Deutschkenntnisse",
    "motor_problems_at_school_entry": "Schuleingang: motorische Auffälligkeiten",
    "obesity_at_school_entry": "Schuleingang: Adipositas",
    "kita_entry_before_36_months": "Kitaeintritt vor 36 Monaten",
    "sports_club_member_at_school_entry": "Schuleingang: Mitglied im Sportverein",
    "sgb2_4_years_or_more_at_6": "SGB II seit 4 Jahren oder länger (6-Jährige in SGB II)",
    "gymnasium_transition": "Übergang aufs Gymnasium",
    "neet_at_18": "Mit 18 ohne Ausbildung, Arbeit oder Schule (NEET)",
    "deprivation_material": "AWO-ISS: materielle Lage belastet (6-17 Jahre)",
    "deprivation_social": "AWO-ISS: soziale Lage belastet (6-17 Jahre)",
    "deprivation_health": "AWO-ISS: gesundheitliche Lage belastet (6-17 Jahre)",
    "deprivation_cultural": "AWO-ISS: kulturelle/bildungsbezogene Lage belastet (6-17 Jahre)",
    "multiple_deprivation": "AWO-ISS: multiple Deprivation (3+ Lebenslagen, 6-17 Jahre)",
    "wellbeing": "AWO-ISS: Wohlergehen (keine belastete Lebenslage, 6-17 Jahre)",
    "chain_reach_early_childhood": "Kette erreicht: frühe Kindheit (0-2)",
    "chain_reach_kita": "Kette erreicht: Kitaalter (3 bis Einschulung)",
    "chain_reach_primary": "Kette erreicht: Grundschule",
    "chain_reach_secondary": "Kette erreicht: Sekundarstufe I",
    "chain_reach_transition": "Kette erreicht: Übergang Schule-Beruf (16-17)",
    "chain_reach_all": "Kette erreicht: alle Kinder 0-17",
    "service_reach_all": "Von einem Angebot oder einer Leistung erreicht (inkl. BuT, Kinderzuschlag)",
}


# Indicators where fewer is better (a problem, a wait, poverty); for all others more is better.
LOWER_IS_BETTER = frozenset({
    "child_sgb2_rate", "u3_waiting_list_august", "ogs_waiting_list_august", "insufficient_german_at_school_entry",
    "motor_problems_at_school_entry", "obesity_at_school_entry", "sgb2_4_years_or_more_at_6", "neet_at_18",
    "deprivation_material", "deprivation_social", "deprivation_health", "deprivation_cultural", "multiple_deprivation",
})


# What a headline indicator measures and where its status-quo level comes from, for planners.
INDICATOR_HELP_DE = {
    "insufficient_german_at_school_entry": "Anteil der Kinder, die bei der Schuleingangsuntersuchung unzureichend Deutsch "
        "sprechen. Status quo gegen Groos & Jehles 2015 (Schuleingangsuntersuchungen, KeKiZ) kalibriert: 43 % in SGB II, 14 % sonst.",
    "kita_entry_before_36_months": "Anteil der Schulanfänger, die vor ihrem dritten Geburtstag in die Kita kamen "
        "(Groos & Jehles 2015: 31 % in SGB II, 48 % sonst).",
    "multiple_deprivation": "Anteil der 6- bis 17-Jährigen mit Problemen in mindestens drei der vier Lebenslagen nach "
        "AWO-ISS (materiell, sozial, gesundheitlich, kulturell); gemessen an der Lage des Kindes, nie an der Nutzung einer Leistung.",
    "neet_at_18": "Anteil der 18-Jährigen ohne Schule, Ausbildung oder Arbeit (NEET; Eurostat via Bertelsmann "
        "Faktencheck 2024: 7,4 % der 15- bis 24-Jährigen).",
    "gymnasium_transition": "Anteil der Grundschulabgänger, die aufs Gymnasium wechseln (Düsseldorf: 77 % in Sozialräumen "
        "vom Typ 1, 22 % vom Typ 5; Sozialräumliche Gliederung 2017).",
    "sports_club_member_at_school_entry": "Anteil der Schulanfänger, die Mitglied im Sportverein sind "
        "(Groos & Jehles 2015: 46 % in SGB II, 77 % sonst).",
    "chain_reach_all": "Anteil der Kinder von 0 bis 17, die ein persönliches Angebot der Präventionskette nutzen "
        "(eine Nutzung, keine Lage des Kindes; Band aus den veröffentlichten Nutzungsquoten abgeleitet).",
}


# Every indicator that the report, the run summary, the charts or the UI headline. Each has a
# plausibility band (a calibration target or a row of plausibility_bands.csv) that
# `make calibrate` prints and tests/test_calibration.py checks; a new headline needs one too.
HEADLINE_INDICATORS = (
    "child_sgb2_rate", "u3_care_coverage", "kita_entry_before_36_months", "ue3_kita_attendance",
    "insufficient_german_at_school_entry", "motor_problems_at_school_entry", "sports_club_member_at_school_entry",
    "ogs_participation", "but_social_participation_takeup", "gymnasium_transition", "neet_at_18",
    "multiple_deprivation", "chain_reach_all", "service_reach_all",
)

class GroupIndex:
    """Cells of the city and the subgroups they make up."""

    def __init__(self, city):
        self.n_sr = city.n_sozialraeume
        self.n_cells = self.n_sr * 3 * 2
        typ = city.sozialraum_typ
        bezirk = city.stadtbezirk
        sr_ids = city.sozialraum_id
        groups: list[tuple[str, str]] = [("all", "all")]
        groups += [("poverty", POVERTY_LABELS[k]) for k in range(3)]
        groups += [("sozialraum_typ", str(k)) for k in range(1, 6)]
        groups += [("stadtbezirk", str(k)) for k in range(1, 11)]
        groups += [("language", "german"), ("language", "other")]
        groups += [("sozialraum", str(i)) for i in sr_ids]
        self.groups = groups
        cell = np.arange(self.n_cells)
        sr, rest = np.divmod(cell, 6)
        status, language = np.divmod(rest, 2)
        cols = np.stack([
            np.zeros_like(cell),
            1 + status,
            4 + typ[sr] - 1,
            9 + bezirk[sr] - 1,
            19 + language,
            21 + sr,
        ], axis=1)
        rows = np.repeat(cell, cols.shape[1])
        self.cell_to_group = sparse.csr_matrix(
            (np.ones(rows.size, dtype=np.float64), (rows, cols.ravel())), shape=(self.n_cells, len(groups)))

    def cells(self, sozialraum: np.ndarray, status: np.ndarray, other_language: np.ndarray) -> np.ndarray:
        return (sozialraum.astype(np.int64) * 3 + status) * 2 + other_language


def _count(cells: np.ndarray, mask: np.ndarray, n_cells: int) -> np.ndarray:
    """Members of the mask per cell. Selecting by row index is several times faster than by
    the boolean mask itself when the mask is irregular."""
    return np.bincount(cells.take(np.flatnonzero(mask)), minlength=n_cells)


class Accumulator:
    """Numerators and denominators per indicator, year and subgroup."""

    def __init__(self, index: GroupIndex, first_year: int, n_years: int):
        self.index = index
        self.first_year = first_year
        self.n_years = n_years
        self.num: dict[str, np.ndarray] = {}
        self.den: dict[str, np.ndarray] = {}

    def add(self, year: int, cells: np.ndarray, measures: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """measures: name -> (denominator mask, numerator mask), both aligned with `cells`.

        The numerator counts only members of the denominator, unless a third element False says
        the indicator is a ratio of two different sets (U3 places used per child under 3).
        """
        y = year - self.first_year
        if not 0 <= y < self.n_years or not measures:
            return
        names = list(measures)
        # Counts per cell, one column per denominator and numerator (exact integers: a bincount
        # of the cells where the mask holds is cheaper than a product with a one-hot matrix).
        n_cells = self.index.n_cells
        by_cell = np.empty((n_cells, 2 * len(names)), dtype=np.float32)
        den_counts: dict[int, np.ndarray] = {}  # many indicators share one denominator mask
        for k, name in enumerate(names):
            den, num, *subset = measures[name]
            if id(den) not in den_counts:
                den_counts[id(den)] = _count(cells, den, n_cells)
            by_cell[:, 2 * k] = den_counts[id(den)]
            by_cell[:, 2 * k + 1] = _count(cells, (num & den) if not subset or subset[0] else num, n_cells)
        by_group = self.index.cell_to_group.T @ by_cell
        for k, name in enumerate(names):
            if name not in self.num:
                self.num[name] = np.zeros((self.n_years, len(self.index.groups)))
                self.den[name] = np.zeros((self.n_years, len(self.index.groups)))
            self.den[name][y] += by_group[:, 2 * k]
            self.num[name][y] += by_group[:, 2 * k + 1]

    def table(self, years: range | None = None, by_year: bool = False) -> pd.DataFrame:
        """Tidy table: indicator, (year,) subgroup_type, subgroup, numerator, denominator, value.

        Adds the derived subgroups non_sgb2, any_low_income and the gap SGB II − non-SGB II.
        Built as one frame from (indicator × subgroup) arrays: a frame per indicator and year
        made the table the slowest part of a small run.
        """
        all_years = np.arange(self.n_years) + self.first_year
        sel = np.ones(self.n_years, dtype=bool) if years is None else np.isin(all_years, list(years))
        columns = ["indicator", *(["year"] if by_year else []), "subgroup_type", "subgroup", "numerator", "denominator", "value"]
        if not self.num:
            return pd.DataFrame(columns=columns)
        year_list = all_years[sel].tolist() if by_year else [None]
        blocks = [(name, year) for name in self.num for year in year_list]
        # One row per block (indicator, year), one column per subgroup.
        num = np.stack([self.num[name][sel if year is None else all_years == year].sum(axis=0) for name, year in blocks])
        den = np.stack([self.den[name][sel if year is None else all_years == year].sum(axis=0) for name, year in blocks])
        # Derived poverty groups (columns 1 not_poor, 2 low_income, 3 sgb2): non_sgb2, any_low_income.
        num = np.column_stack([num, num[:, 1] + num[:, 2], num[:, 2] + num[:, 3]])
        den = np.column_stack([den, den[:, 1] + den[:, 2], den[:, 2] + den[:, 3]])
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        gap = value[:, 3] - value[:, -2]  # SGB II − non-SGB II; no numerator or denominator of its own
        nan = np.full((len(blocks), 1), np.nan)
        num, den, value = np.hstack([num, nan]), np.hstack([den, nan]), np.column_stack([value, gap])
        per_block = num.shape[1]
        types = [g[0] for g in self.index.groups] + ["poverty"] * 3
        labels = [g[1] for g in self.index.groups] + ["non_sgb2", "any_low_income", "gap"]
        data = {"indicator": [name for name, _ in blocks for _ in range(per_block)]}
        if by_year:
            data["year"] = np.repeat([year for _, year in blocks], per_block)
        data |= {"subgroup_type": types * len(blocks), "subgroup": labels * len(blocks),
                 "numerator": num.ravel(), "denominator": den.ravel(), "value": value.ravel()}
        return pd.DataFrame(data, columns=columns)


def label_subgroup(subgroup_type: str, subgroup: str) -> str:
    """German label of a subgroup, for charts and the UI."""
    if (subgroup_type, subgroup) in SUBGROUP_LABELS_DE:
        return SUBGROUP_LABELS_DE[(subgroup_type, subgroup)]
    if subgroup_type == "sozialraum_typ":
        return f"Sozialraumtyp {subgroup} ({SOZIALRAUM_TYPES[int(subgroup)]})"
    if subgroup_type == "stadtbezirk":
        return STADTBEZIRKE[int(subgroup)]
    if subgroup_type == "sozialraum":
        return f"Sozialraum {subgroup}"
    return subgroup


def indicator_label(name: str, service_names: dict[str, str] | None = None) -> str:
    """German label of an indicator; reach_<service> and ever_<service> use the service's name."""
    if name in INDICATOR_LABELS_DE:
        return INDICATOR_LABELS_DE[name]
    for prefix, text in (("reach_", "Reichweite (nutzt aktuell)"), ("ever_", "Reichweite (je genutzt)")):
        if name.startswith(prefix):
            service = name[len(prefix):]
            return f"{text}: {(service_names or {}).get(service, service)}"
    return name
