"""The planner's question: which indicators, for which children, by when; and whether the chosen
years can show an answer at all.

An outcome is measured at an age (school entry at about 6, the move to secondary school at 10,
NEET at 18). A lever that starts in a year reaches the children who grow up with it; such a child
is measured only `MEASURED_AT_AGE` years later. Before then, the indicator can change only through
children who were older when the lever began, so the page says "noch nicht messbar" rather than
"unklar" or "keine Änderung", which a planner would read as "does not work".
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.engine.model import START_YEAR

# The headline indicators the verdict reads, in the order shown.
VERDICT_INDICATORS = ("chain_reach_all", "kita_entry_before_36_months", "insufficient_german_at_school_entry",
                      "sports_club_member_at_school_entry", "multiple_deprivation", "gymnasium_transition", "neet_at_18")

# Years from birth to the point where an indicator is measured (reach: at once, as a service is used).
MEASURED_AT_AGE = {"chain_reach_all": 0, "kita_entry_before_36_months": 6, "insufficient_german_at_school_entry": 6,
                   "sports_club_member_at_school_entry": 6, "multiple_deprivation": 6, "gymnasium_transition": 10,
                   "neet_at_18": 18}
WHERE_MEASURED = {0: "sofort (Nutzung eines Angebots)", 6: "bei der Schuleingangsuntersuchung (mit etwa 6 Jahren)",
                  10: "beim Wechsel nach der Grundschule (mit etwa 10 Jahren)", 18: "mit 18 Jahren"}
# The age at which multiple deprivation is first counted is 6 as well (the AWO-ISS measure covers 6-17).
WHERE_MEASURED_BY_INDICATOR = {"multiple_deprivation": "ab 6 Jahren (Lebenslagen der 6- bis 17-Jährigen)"}

# What a planner can ask: a group of headline indicators.
QUESTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alle": ("Alle Kennzahlen", VERDICT_INDICATORS),
    "erreichen": ("Erreicht die Präventionskette mehr Kinder?", ("chain_reach_all",)),
    "kita": ("Kommen Kinder früher in die Kita?", ("kita_entry_before_36_months",)),
    "schuleingang": ("Kommen Kinder besser vorbereitet in die Schule? (Deutsch, Sportverein)",
                     ("insufficient_german_at_school_entry", "sports_club_member_at_school_entry")),
    "lebenslagen": ("Weniger Kinder in mehrfach belasteten Lebenslagen (6-17 Jahre)?", ("multiple_deprivation",)),
    "bildungswege": ("Bessere Bildungswege? (Gymnasium, mit 18 ohne Ausbildung)", ("gymnasium_transition", "neet_at_18")),
}
DEFAULT_QUESTION = "alle"  # everything, until the planner narrows the question
# For which children: (subgroup_type, subgroup, German label) rows of the verdict.
CHILD_GROUPS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    "beide": ("alle Kinder und Kinder in SGB II", (("all", "all", "alle Kinder"), ("poverty", "sgb2", "SGB II"))),
    "sgb2": ("Kinder in SGB-II-Haushalten", (("poverty", "sgb2", "SGB II"),)),
    "alle": ("alle Kinder", (("all", "all", "alle Kinder"),)),
}
DEFAULT_CHILD_GROUP = "beide"

# Horizons: the national action plan's 2030, and the long view (long enough for the question's
# indicators where the limit of simulated years allows).
HORIZON_2030 = 2030
LONG_VIEW_AT_LEAST = 2040
COHORTS_AFTER_FIRST = 2  # a few cohorts that grew up with the lever, not only the first


def indicators_of(question: str) -> tuple[str, ...]:
    return QUESTIONS.get(question, QUESTIONS[DEFAULT_QUESTION])[1]


def where_measured(indicator: str) -> str:
    return WHERE_MEASURED_BY_INDICATOR.get(indicator, WHERE_MEASURED[MEASURED_AT_AGE[indicator]])


def lever_start(scenario, burn_in: int = 0) -> int:
    """The first year a scenario's levers act: its earliest start year, or the first simulated year."""
    starts = scenario.schedule().start_years()
    return min(starts) if starts else START_YEAR - burn_in


def first_measurable_year(indicator: str, start: int) -> int:
    """The first year in which children who grew up with a lever from birth are measured."""
    return start + MEASURED_AT_AGE[indicator]


def long_view_end(question: str, scenarios: list, max_last_year: int) -> int:
    """The last year of "langfristig": at least 2040, long enough for a few cohorts of the question's
    indicators to have grown up with the latest-starting lever, within the limit of simulated years."""
    latest = max((lever_start(s) for s in scenarios), default=START_YEAR + 1)
    needed = max(first_measurable_year(i, latest) for i in indicators_of(question)) + COHORTS_AFTER_FIRST
    return min(max(LONG_VIEW_AT_LEAST, needed), max_last_year)


def horizon_ends(question: str, scenarios: list, max_last_year: int) -> dict[str, tuple[str, int]]:
    """key -> (button label, last year) of the horizons offered for this question."""
    long_end = long_view_end(question, scenarios, max_last_year)
    return {"2030": (f"bis {HORIZON_2030}", HORIZON_2030), "lang": (f"langfristig (bis {long_end})", long_end)}


@dataclass(frozen=True)
class NotYet:
    """An indicator that a scenario's levers cannot yet move fully in the chosen years."""

    scenario: str  # title
    indicator: str
    start: int
    measurable_from: int


def not_yet_measurable(scenarios: list, indicators: tuple[str, ...], last_year: int, burn_in: int = 0) -> list[NotYet]:
    """Per scenario (the status quo has no levers) and indicator: those whose first cohort that grew
    up with the levers is measured only after the last simulated year."""
    out = []
    for scenario in scenarios:
        if scenario.name == "baseline":
            continue
        start = lever_start(scenario, burn_in)
        for indicator in indicators:
            year = first_measurable_year(indicator, start)
            if year > last_year:
                out.append(NotYet(scenario.title, indicator, start, year))
    return out


def measurability_text(scenarios: list, indicators: tuple[str, ...], last_year: int, labels: dict[str, str],
                       burn_in: int = 0) -> tuple[bool, str]:
    """(all measurable, German Markdown) for the page, before anything runs."""
    missing = not_yet_measurable(scenarios, indicators, last_year, burn_in)
    if not missing:
        names = ", ".join(f"„{labels[i]}“" for i in indicators)
        return True, f"Gerechnet wird bis {last_year}: {names} lässt sich in diesen Jahren messen."
    # one line per place of measurement: "„A“, „B“: gemessen bei …; Kinder … erst ab 2033"
    by_place: dict[tuple[str, int, int], list[str]] = {}
    for m in missing:
        place = (where_measured(m.indicator), m.start, m.measurable_from)
        if m.indicator not in by_place.setdefault(place, []):
            by_place[place].append(m.indicator)
    lines = [", ".join(f"„{labels[i]}“" for i in names) + f": gemessen {place}; Kinder, die ab {start} mit den "
             f"Hebeln aufwachsen, zählen dort erst ab {year}." for (place, start, year), names in by_place.items()]
    measurable = [i for i in indicators if i not in {m.indicator for m in missing}]
    tail = ("Messbar bis {}: {}. ".format(last_year, ", ".join(f"„{labels[i]}“" for i in measurable)) if measurable else "")
    return False, (f"**Noch nicht messbar bis {last_year}:**\n\n" + "\n".join(f"- {line}" for line in lines)
                   + "\n\nDort steht im Ergebnis „noch nicht messbar“ statt eines Urteils (eine frühere Änderung käme "
                   "nur von Kindern, die beim Start schon älter waren). " + tail
                   + "Für die volle Wirkung „langfristig“ wählen.")


def verdict_word(certainty_word: str, indicator: str, start: int, last_year: int) -> str:
    """The verdict shown: the certainty from the interval, or "noch nicht messbar" where children
    who grew up with the levers are not measured yet and no change is secured."""
    year = first_measurable_year(indicator, start)
    if year <= last_year:
        return certainty_word
    if certainty_word in ("sicher besser", "sicher schlechter"):
        return f"{certainty_word} – erst ein Teil, volle Wirkung ab {year}"
    return f"noch nicht messbar (ab {year})"
