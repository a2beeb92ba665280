"""Budget: what the compared scenarios cost, per service and year, and what the extra buys."""

from __future__ import annotations

import pandas as pd
import solara

from sim import charts
from sim.compare import AVOIDED_CASE, BASELINE, Comparison
from sim.de_format import de
from sim.indicators import INDICATOR_LABELS_DE
from sim.ui import scenario_store, state
from sim.ui.compare_page import RunPanel, selection
from sim.ui.widgets import FigureWithTable, csv_bytes

INTRO = (
    "Jährliche Kosten je Angebot und Jahr für die verglichenen Szenarien (Stadt Düsseldorf, synthetisch, "
    "Stückkosten aus `unit_costs.csv`), die Mehrkosten gegenüber dem Status quo und was sie bewirken: "
    "Kosten je zusätzlich erreichtem Kind und je vermiedenem Fall. Ein vermiedener Fall ist ein Kind weniger mit "
    f"„{INDICATOR_LABELS_DE[AVOIDED_CASE]}“ (Annahme). Jede Grafik als PNG, jede Tabelle als CSV."
)


def effectiveness_table(c: Comparison) -> pd.DataFrame:
    """Cost and effect per scenario, German column names, numbers (so the CSV stays computable)."""
    ce = c.cost_effectiveness()
    mio = 1e-6
    table = pd.DataFrame({
        "Szenario": ce["scenario_title"],
        "Kosten Mio. EUR/Jahr": ce["annual_cost_eur"] * mio,
        "Mehrkosten Mio. EUR/Jahr": ce["extra_cost_eur"] * mio,
        "Mehrkosten 95%-Intervall von": ce["extra_cost_eur_ci_low"] * mio,
        "Mehrkosten 95%-Intervall bis": ce["extra_cost_eur_ci_high"] * mio,
        "davon Verwaltung (Anträge) Mio. EUR/Jahr": ce["admin_overhead_eur"] * mio,
        "zusätzlich erreichte Kinder/Jahr": ce["extra_children_reached_per_year"],
        "EUR je zusätzlich erreichtem Kind": ce["cost_per_extra_child_reached_eur"],
        "vermiedene Fälle/Jahr": ce["avoided_cases_per_year"],
        "EUR je vermiedenem Fall": ce["cost_per_avoided_case_eur"],
    })
    return table.round({c: 2 for c in table.columns if "Mio." in c or "Intervall" in c}).round(
        {"zusätzlich erreichte Kinder/Jahr": 0, "EUR je zusätzlich erreichtem Kind": 0, "vermiedene Fälle/Jahr": 0,
         "EUR je vermiedenem Fall": 0})


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The same table as a planner reads it: decimal comma, thousands apart, "–" for undefined."""
    out = table.copy()
    for column in out.columns[1:]:
        digits = 2 if "Mio." in column or "Intervall" in column else 0
        out[column] = [de(v, digits) for v in out[column]]
    return out


def cost_by_service_and_year(c: Comparison) -> pd.DataFrame:
    """One row per scenario and service, one column per year, in Mio. EUR; the extra as a column."""
    costs = c.costs()
    wide = costs.pivot_table(index=["scenario", "service_label"], columns="year", values="cost_eur",
                             aggfunc="sum") / 1e6
    extra = costs.groupby(["scenario", "service_label"])["extra_over_baseline_eur"].mean() / 1e6
    wide.columns = [f"{year} (Mio. EUR)" for year in wide.columns]
    wide["Mehrkosten je Jahr ggü. Status quo (Mio. EUR)"] = extra
    wide = wide.reset_index()
    order = {name: k for k, name in enumerate(c.names)}
    wide = wide.sort_values(["scenario", "service_label"], key=lambda s: s.map(order) if s.name == "scenario" else s)
    wide.insert(0, "Szenario", wide.pop("scenario").map(c.titles))
    wide = wide.rename(columns={"service_label": "Angebot"})
    return wide.round(3).reset_index(drop=True)


@solara.component
def Page():
    solara.Title("Budget · Präventionskette-Sim")
    solara.Markdown("## Budget\n" + INTRO)
    c = state.latest()
    if c is None:
        names = scenario_store.available()
        _, scenarios, settings, errors, _, _ = selection(names)
        solara.Info("Noch kein Vergleich gerechnet. Die Szenarien wählen Sie unter „Vergleichen“; "
                    "hier können Sie die aktuelle Auswahl gleich rechnen: "
                    + ", ".join(s.title for s in scenarios))
        RunPanel(scenarios, errors, settings)
    else:
        BudgetResults(c)


@solara.component
def BudgetResults(c: Comparison):
    solara.Markdown(f"**{c.label()}** · Szenarien: " + ", ".join(c.titles[n] for n in c.names))
    if state.run_comparison.pending:
        solara.Info("Ein neuer Vergleich läuft gerade; hier steht noch das vorige Ergebnis.")
    table = solara.use_memo(lambda: effectiveness_table(c), [id(c)])
    solara.Markdown("### Mehrkosten und Wirkung")
    with solara.Div(classes=["budget-wirkung"]):
        solara.DataFrame(shown(table), items_per_page=12)
    solara.FileDownload(csv_bytes(table), filename="kosten_wirkung.csv", label="Tabelle als CSV", mime_type="text/csv")
    if BASELINE in c.names and len(c.names) > 1:
        solara.Markdown("### Kosten und Wirkung im Bild")
        # the numbers are the table above; the CSV under the chart is the same table
        FigureWithTable(lambda: charts.cost_effect_chart(c), table, "kosten_wirkung", dependencies=[id(c)],
                        show_table=False)
    solara.Markdown("### Jährliches Budget nach Angebot und Jahr")
    FigureWithTable(lambda: charts.budget_chart(c), cost_by_service_and_year(c), "budget_angebote_jahre",
                    dependencies=[id(c)])
