"""What the indicators count, child by child: measurement points and the 1 March snapshot.

Each indicator is a numerator over a denominator, summed over the reported years, for all
children and by the poverty status of the child's household at the time of measurement.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from sim.engine.mechanisms.measurement import DIMENSIONS, NOT_A_SERVICE_CONTACT, NOT_SUPPORT, SNAPSHOT_MONTH, U9_AGE
from sim.engine.population import AUGUST

from reference.agents import GERMAN, LOW_INCOME, MATERIAL, MOTOR, SCHOOL, SGB2, SOCIAL, STATUS_NAMES, WEIGHT

GROUPS = ("all",) + STATUS_NAMES


class Tally:
    """numerator and denominator per indicator and group, reported years only."""

    def __init__(self, first_reported_month: int):
        self.first_reported_month = first_reported_month
        self.counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: {g: [0, 0] for g in GROUPS})

    def add(self, t: int, name: str, status: int, in_denominator: bool, in_numerator: bool, within: bool = True) -> None:
        """One child (or household) measured; `within=False` counts the numerator outside the
        denominator too (U3 places used per child under 3)."""
        if t < self.first_reported_month:
            return
        cell = self.counts[name]
        for group in ("all", STATUS_NAMES[status]):
            cell[group][1] += in_denominator
            cell[group][0] += in_numerator and (in_denominator or not within)

    def table(self) -> pd.DataFrame:
        rows = []
        for name, cell in self.counts.items():
            cell = dict(cell)
            cell["non_sgb2"] = [cell["not_poor"][k] + cell["low_income"][k] for k in (0, 1)]
            for group, (num, den) in cell.items():
                rows.append((name, group, num, den, num / den if den else float("nan")))
        return pd.DataFrame(rows, columns=["indicator", "subgroup", "numerator", "denominator", "value"])


class StatisticsOffice:
    """Measures the children of a ReferenceModel at the points a city measures them."""

    def __init__(self, model):
        self.model = model
        ids = model.catalogue.ids
        self.s = {service: k for k, service in enumerate(ids)}
        services = list(model.catalogue.services.values())
        self.support = [k for k, i in enumerate(ids) if i not in NOT_SUPPORT]
        self.any_service = [k for k, i in enumerate(ids) if i not in NOT_A_SERVICE_CONTACT]
        self.birth_contact = [k for k, svc in enumerate(services) if svc.phase == "birth" and svc.mode == "once"]
        self.tally = Tally(12 * model.burn_in_years)
        self.dev = model.params.development

    def add(self, name: str, child, in_denominator: bool, in_numerator: bool, within: bool = True) -> None:
        self.tally.add(self.model.t, name, child.household.status, in_denominator, in_numerator, within)

    # ---- measurement points ----------------------------------------------------------------------
    def before_month(self, t: int) -> None:
        """U9 at 64 months, and each 1 August the school entry examination and the Gymnasium transition."""
        for child in self.model.children:
            if child.age(t) == U9_AGE:
                self.add("u_checkup_u9_participation", child, True, child.use[self.s["u_checkups"]])
            if t % 12 == AUGUST and child.school_start == t:
                self.school_entry(child, t)
            if t % 12 == AUGUST and child.school_start + 48 == t:
                self.add("gymnasium_transition", child, True, child.dev[SCHOOL] > self.dev.gymnasium_threshold)

    def school_entry(self, child, t: int) -> None:
        thr = self.dev.exam_threshold
        hh = child.household
        self.add("insufficient_german_at_school_entry", child, True, child.dev[GERMAN] < thr["german"])
        self.add("motor_problems_at_school_entry", child, True, child.dev[MOTOR] < thr["motor"])
        self.add("obesity_at_school_entry", child, True, child.dev[WEIGHT] < thr["weight"])
        self.add("kita_entry_before_36_months", child, True, 0 <= child.kita_entry_age < 36)
        self.add("sports_club_member_at_school_entry", child, True, child.use[self.s["sports_club"]])
        self.add("sgb2_4_years_or_more_at_6", child, hh.status == SGB2, t - hh.status_since >= 48)
        # German at school entry lowers school readiness, and the norm it reverts to, for good.
        shift = self.dev.german_to_school * min(child.dev[GERMAN], 0.0)
        child.school_shift += shift
        child.dev[SCHOOL] += shift

    def ageing_out(self, child) -> None:
        self.add("neet_at_18", child, True, child.dev[SCHOOL] < self.dev.neet_threshold)

    def after_allocation(self, t: int) -> None:
        """Waiting lists right after the August allocation."""
        if t % 12 != AUGUST:
            return
        s = self.s
        for child in self.model.children:
            waits_u3 = (child.waiting[s["u3_kita"]] or child.waiting[s["kindertagespflege"]]) \
                and not child.use[s["kindertagespflege"]] and not child.use[s["u3_kita"]]
            self.add("u3_waiting_list_august", child, child.age(t) < 36, waits_u3)
            primary = child.in_school(t) and child.grade(t) <= 4
            self.add("ogs_waiting_list_august", child, primary, child.waiting[s["ogs"]])

    # ---- the yearly snapshot -------------------------------------------------------------------
    def snapshot(self, t: int) -> None:
        if t % 12 != SNAPSHOT_MONTH:
            return
        for child in self.model.children:
            self.snapshot_child(child, t)
        for household in self.model.households:
            self.snapshot_household(household)

    def snapshot_child(self, child, t: int) -> None:
        s, use, dev = self.s, child.use, child.dev
        status = child.household.status
        age, in_school, grade = child.age(t), child.in_school(t), child.grade(t)
        add = self.add
        add("child_sgb2_rate", child, True, status == SGB2)
        add("u3_care_coverage", child, age < 36, use[s["u3_kita"]] or use[s["kindertagespflege"]], within=False)
        add("ue3_kita_attendance", child, 36 <= age < 72 and not in_school, use[s["u3_kita"]] or use[s["ue3_kita"]])
        add("ogs_participation", child, in_school and grade <= 4, use[s["ogs"]])
        but_eligible = status == SGB2 or (status == LOW_INCOME and use[s["kinderzuschlag"]])
        add("but_social_participation_takeup", child, but_eligible and 72 <= age < 180, use[s["but_social"]])
        add("kinderzuschlag_takeup", child, status == LOW_INCOME, use[s["kinderzuschlag"]])
        add("welcome_visit_acceptance", child, child.first_born and 3 <= age <= 14, child.ever[s["welcome_visit"]])
        add("parent_child_group_under_3", child, age < 36, child.ever[s["familienzentrum"]])
        thr = self.dev.deprivation_threshold
        problems = {  # each a fact about the child's scores, never the use of a service
            "material": dev[MATERIAL] < thr["material"],
            "social": dev[SOCIAL] < thr["social"],
            "health": min(dev[MOTOR], dev[WEIGHT]) < thr["health"],
            "cultural": (dev[SCHOOL] if in_school else dev[GERMAN]) < thr["cultural"],
        }
        awo_ages = age >= 72  # children aged 6-17, as the AWO-ISS study observed them
        for dim in DIMENSIONS:
            add(f"deprivation_{dim}", child, awo_ages, problems[dim])
        n_problems = sum(problems.values())
        add("multiple_deprivation", child, awo_ages, n_problems >= 3)
        add("wellbeing", child, awo_ages, n_problems == 0)
        visited = age < 36 and any(child.ever[k] for k in self.birth_contact)
        reached = visited or any(use[k] for k in self.support)
        phase = ("early_childhood" if age < 36 else "kita" if not in_school else "primary" if grade <= 4
                 else "secondary" if age < 192 else "transition")
        add(f"chain_reach_{phase}", child, True, reached)
        add("chain_reach_all", child, True, reached)
        add("service_reach_all", child, True, visited or any(use[k] for k in self.any_service))
        for k, service in enumerate(self.model.catalogue.ids):
            lo, hi = self.model.catalogue.services[service].ages_months
            add(f"reach_{service}", child, lo <= age <= hi, use[k])
            add(f"ever_{service}", child, lo <= age <= hi, child.ever[k])

    def snapshot_household(self, household) -> None:
        """BuT take-up counts households: eligible ones using at least one BuT component."""
        s = self.s
        status = household.status
        eligible = status == SGB2 or (status == LOW_INCOME and any(c.use[s["kinderzuschlag"]] for c in household.children))
        uses = any(c.use[s[b]] for c in household.children for b in ("but_social", "but_lunch", "but_tutoring"))
        self.tally.add(self.model.t, "but_any_component_takeup", status, eligible, uses)
