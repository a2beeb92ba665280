"""Measurement points and yearly snapshots: what the indicators count, and when.

- School entry examination: each 1 August, for the children starting school (their state at
  the end of July). Also writes one record per examined child for the Parquet export.
- Gymnasium transition: each 1 August, for the children leaving grade 4.
- NEET at 18: when a young person ages out.
- U9: at 64 months.
- Snapshot on 1 March (the day of the Kita statistics): participation, take-up and the four
  AWO-ISS dimensions of every child.
"""

from __future__ import annotations

import numpy as np

from sim.engine.mechanisms import development
from sim.engine.population import AUGUST, STATUS_LOW_INCOME, STATUS_SGB2
from sim.inputs.params import AWO_ISS_DIMENSIONS as DIMENSIONS
from sim.inputs.params import DEVELOPMENT_DOMAINS

GERMAN, MOTOR, WEIGHT, SCHOOL, SOCIAL, MATERIAL = (
    DEVELOPMENT_DOMAINS.index(d) for d in ("german", "motor", "weight", "school", "social", "material"))
SNAPSHOT_MONTH = 2  # March
# The AWO-ISS study observed children at 6, 10 and 16/17 (waves 1999, 2003/04, 2009/10): its
# dimensions are counted for children aged 6-17, like with like. Below 6, the cultural dimension
# would rest on German alone and the social one on a toddler's few contacts.
AWO_ISS_MIN_AGE_MONTHS = 72
U9_AGE = 64
# Reach of the chain: a child counts as reached when it uses a personal support service now.
# Universal health check-ups and the cash benefits (Kinderzuschlag, BuT) do not count there; birth-
# phase visits count for the whole early childhood (they are single contacts). service_reach_all
# also counts the benefits: it is what "a child reached" means in the cost per child reached.
NOT_SUPPORT = ("u_checkups", "kinderzuschlag", "but_social", "but_lunch", "but_tutoring")
NOT_A_SERVICE_CONTACT = ("u_checkups",)
CHAIN_PHASES = ("early_childhood", "kita", "primary", "secondary", "transition")


def rows_of(columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """columns[rows] of a (rows × k) table column, gathered column by column: two to three
    times faster than fancy indexing of the column-major array, with the same values."""
    out = np.empty((rows.size, columns.shape[1]), dtype=columns.dtype, order="F")
    for k in range(columns.shape[1]):
        columns[:, k].take(rows, out=out[:, k])
    return out


class Measurement:
    def __init__(self, model):
        self.model = model
        ids = model.catalogue.ids
        self.s = {i: k for k, i in enumerate(ids)}
        self.exam_records: list[dict[str, np.ndarray]] = []
        services = list(model.catalogue.services.values())
        self.support = np.array([i not in NOT_SUPPORT for i in ids])
        self.any_service = np.array([i not in NOT_A_SERVICE_CONTACT for i in ids])
        self.birth_contact = np.array([svc.phase == "birth" and svc.mode == "once" for svc in services])

    # ---- helpers -----------------------------------------------------------------------------
    def _cells(self, rows: np.ndarray) -> np.ndarray:
        pop = self.model.pop
        h = pop.children.hh[rows]
        hh = pop.households
        return self.model.groups.cells(hh.sozialraum[h], hh.status[h], hh.other_language[h])

    def _add(self, t: int, rows: np.ndarray, measures: dict) -> None:
        if rows.size:
            self.model.accumulator.add(self.model.year(t), self._cells(rows), measures)

    def _use(self, rows: np.ndarray, service: str) -> np.ndarray:
        return self.model.pop.children.use[:, self.s[service]].take(rows)

    # ---- measurement points ------------------------------------------------------------------
    def before_month(self, t: int) -> None:
        """Events measured on the state at the end of last month."""
        ch = self.model.pop.children
        age = t - ch.birth
        u9 = np.flatnonzero(ch.alive & (age == U9_AGE))
        self._add(t, u9, {"u_checkup_u9_participation": (np.ones(u9.size, bool), self._use(u9, "u_checkups"))})
        if t % 12 == AUGUST:
            self._school_entry(t, np.flatnonzero(ch.alive & (ch.school_start == t)))
            self._gymnasium(t, np.flatnonzero(ch.alive & (ch.school_start + 48 == t)))

    def _school_entry(self, t: int, rows: np.ndarray) -> None:
        pop, par = self.model.pop, self.model.params.development
        ch, hh = pop.children, pop.households
        dev = ch.dev[rows]
        thr = par.exam_threshold
        h = ch.hh[rows]
        status = hh.status[h]
        results = {
            "insufficient_german_at_school_entry": dev[:, GERMAN] < thr["german"],
            "motor_problems_at_school_entry": dev[:, MOTOR] < thr["motor"],
            "obesity_at_school_entry": dev[:, WEIGHT] < thr["weight"],
            "kita_entry_before_36_months": (ch.kita_entry_age[rows] >= 0) & (ch.kita_entry_age[rows] < 36),
            "sports_club_member_at_school_entry": self._use(rows, "sports_club"),
        }
        all_rows = np.ones(rows.size, dtype=bool)
        measures = {name: (all_rows, value) for name, value in results.items()}
        measures["sgb2_4_years_or_more_at_6"] = (status == STATUS_SGB2, t - hh.status_since[h] >= 48)
        self._add(t, rows, measures)
        development.school_entry_shift(self.model, rows)
        self.exam_records.append(self._exam_record(t, rows, results))

    def _exam_record(self, t: int, rows: np.ndarray, results: dict) -> dict[str, np.ndarray]:
        pop = self.model.pop
        ch, hh = pop.children, pop.households
        h = ch.hh[rows]
        record = {
            "year": np.full(rows.size, self.model.year(t), dtype=np.int16),
            "child_id": ch.cid[rows],
            "household_id": hh.hid[h],
            "sozialraum": hh.sozialraum[h],
            "poverty_status": hh.status[h],
            "single_parent": hh.single_parent[h],
            "low_education": hh.low_education[h],
            "high_education": hh.high_education[h],
            "other_language": hh.other_language[h],
            "employed": hh.employed[h],
            "age_months": (t - ch.birth[rows]).astype(np.int16),
            # When the child came to the city (its birth month if born here): model month, and age then.
            "arrival_model_month": ch.arrived[rows].copy(),
            "age_at_arrival_months": (ch.arrived[rows] - ch.birth[rows]).astype(np.int16),
            "kita_entry_age_months": ch.kita_entry_age[rows],
        }
        for k, service in enumerate(self.model.catalogue.ids):
            record[f"contact_{service}"] = ch.ever[rows, k]
        record.update(results)
        return record

    def _gymnasium(self, t: int, rows: np.ndarray) -> None:
        ch = self.model.pop.children
        gym = ch.dev[rows, SCHOOL] > self.model.params.development.gymnasium_threshold
        ch.gymnasium[rows] = gym
        self._add(t, rows, {"gymnasium_transition": (np.ones(rows.size, bool), gym)})

    def after_allocation(self, t: int) -> None:
        """Waiting lists right after the August allocation (how the city reports them)."""
        if t % 12 != AUGUST:
            return
        ch = self.model.pop.children
        rows = np.flatnonzero(ch.alive)
        age = t - ch.birth[rows]
        in_school = t >= ch.school_start[rows]
        grade = np.where(in_school, (t - ch.school_start[rows]) // 12 + 1, 0)
        s = self.s
        waiting = rows_of(ch.waiting, rows)
        u3_unplaced = (waiting[:, s["u3_kita"]] | waiting[:, s["kindertagespflege"]]) & ~self._use(rows, "kindertagespflege") \
            & ~self._use(rows, "u3_kita")
        self._add(t, rows, {
            "u3_waiting_list_august": (age < 36, u3_unplaced),
            "ogs_waiting_list_august": (in_school & (grade <= 4), waiting[:, s["ogs"]]),
        })

    def ageing_out(self, t: int, rows: np.ndarray) -> None:
        neet = self.model.pop.children.dev[rows, SCHOOL] < self.model.params.development.neet_threshold
        self._add(t, rows, {"neet_at_18": (np.ones(rows.size, bool), neet)})

    # ---- the yearly snapshot -----------------------------------------------------------------
    def deprivation(self, t: int, rows: np.ndarray | None = None) -> np.ndarray:
        """(children × 4) problems in the material, social, health and cultural dimension of the
        AWO-ISS Lebenslagen approach, each a fact about the child's situation (its latent scores
        against a threshold), never the use of a service: a service moves them only through its
        effect on the child's scores (services.yaml). Cultural problems are German before
        school and school readiness in school."""
        pop, par = self.model.pop, self.model.params.development
        ch = pop.children
        rows = np.flatnonzero(ch.alive) if rows is None else rows
        dev = rows_of(ch.dev, rows)
        thr = par.deprivation_threshold
        in_school = t >= ch.school_start[rows]
        material = dev[:, MATERIAL] < thr["material"]
        social = dev[:, SOCIAL] < thr["social"]
        health = np.minimum(dev[:, MOTOR], dev[:, WEIGHT]) < thr["health"]
        cultural = np.where(in_school, dev[:, SCHOOL], dev[:, GERMAN]) < thr["cultural"]
        return np.stack([material, social, health, cultural], axis=1)

    def snapshot(self, t: int) -> None:
        if t % 12 != SNAPSHOT_MONTH:
            return
        pop = self.model.pop
        ch, hh = pop.children, pop.households
        rows = np.flatnonzero(ch.alive)
        age = t - ch.birth[rows]
        status = hh.status[ch.hh[rows]]
        use = rows_of(ch.use, rows)
        ever = rows_of(ch.ever, rows)
        in_school = t >= ch.school_start[rows]
        grade = np.where(in_school, (t - ch.school_start[rows]) // 12 + 1, 0)
        s = self.s
        kita = use[:, s["u3_kita"]] | use[:, s["ue3_kita"]]
        u3_care = use[:, s["u3_kita"]] | use[:, s["kindertagespflege"]]
        but_eligible = (status == STATUS_SGB2) | ((status == STATUS_LOW_INCOME) & use[:, s["kinderzuschlag"]])
        deprived = self.deprivation(t, rows)
        awo_ages = age >= AWO_ISS_MIN_AGE_MONTHS
        n_problems = deprived.sum(axis=1)
        everyone = np.ones(rows.size, dtype=bool)
        measures = {
            "child_sgb2_rate": (everyone, status == STATUS_SGB2),
            # Like the published figure (places against children under 3), U3 places held by children
            # who turned 3 during the Kita year count too.
            "u3_care_coverage": (age < 36, u3_care, False),
            "ue3_kita_attendance": ((age >= 36) & (age < 72) & ~in_school, kita),
            "ogs_participation": (in_school & (grade <= 4), use[:, s["ogs"]]),
            "but_social_participation_takeup": (but_eligible & (age >= 72) & (age < 180), use[:, s["but_social"]]),
            "kinderzuschlag_takeup": (status == STATUS_LOW_INCOME, use[:, s["kinderzuschlag"]]),
            "welcome_visit_acceptance": (ch.first_born[rows] & (age >= 3) & (age <= 14), ever[:, s["welcome_visit"]]),
            # Parent-child groups in the first three years, as KiD 0-3 asks (ever used).
            "parent_child_group_under_3": (age < 36, ever[:, s["familienzentrum"]]),
            "multiple_deprivation": (awo_ages, n_problems >= 3),
            "wellbeing": (awo_ages, n_problems == 0),
        }
        for k, dim in enumerate(DIMENSIONS):
            measures[f"deprivation_{dim}"] = (awo_ages, deprived[:, k])
        measures |= self._chain_reach(age, in_school, grade, use, ever)
        for k, service in enumerate(self.model.catalogue.ids):
            lo, hi = self.model.catalogue.services[service].ages_months
            in_ages = (age >= lo) & (age <= hi)
            measures[f"reach_{service}"] = (in_ages, use[:, k])
            measures[f"ever_{service}"] = (in_ages, ever[:, k])
        self._add(t, rows, measures)
        self._household_snapshot(t, rows, status, use)

    def _chain_reach(self, age, in_school, grade, use, ever) -> dict:
        """Per life phase: the children in it, and those the chain reaches now."""
        visited = (age < 36) & ever[:, self.birth_contact].any(axis=1)
        reached = use[:, self.support].any(axis=1) | visited
        phases = {
            "early_childhood": age < 36,
            "kita": (age >= 36) & ~in_school,
            "primary": in_school & (grade <= 4),
            "secondary": in_school & (grade > 4) & (age < 192),
            "transition": age >= 192,
        }
        measures = {f"chain_reach_{p}": (phases[p], reached) for p in CHAIN_PHASES}
        everyone = np.ones(age.size, dtype=bool)
        measures["chain_reach_all"] = (everyone, reached)
        measures["service_reach_all"] = (everyone, use[:, self.any_service].any(axis=1) | visited)
        return measures

    def _household_snapshot(self, t: int, rows: np.ndarray, status: np.ndarray, use: np.ndarray) -> None:
        """BuT take-up counts households: eligible ones using at least one BuT component."""
        pop = self.model.pop
        ch = pop.children
        s = self.s
        but = use[:, [s["but_social"], s["but_lunch"], s["but_tutoring"]]].any(axis=1)
        eligible = (status == STATUS_SGB2) | ((status == STATUS_LOW_INCOME) & use[:, s["kinderzuschlag"]])
        h = ch.hh[rows]
        uses = np.bincount(h, weights=but, minlength=pop.households.n) > 0
        elig_hh = np.bincount(h, weights=eligible, minlength=pop.households.n) > 0
        # One row per household: its first child in row order represents it.
        first = np.zeros(pop.households.n, dtype=np.int64) - 1
        first[h[::-1]] = rows[::-1]
        reps = first[first >= 0]
        hh_of = ch.hh[reps]
        self._add(t, reps, {"but_any_component_takeup": (elig_hh[hh_of], uses[hh_of])})
