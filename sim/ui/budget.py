"""Budget: what the compared scenarios cost, per cost line and year, for the city or for all public
budgets, what the extra buys, and the path over the planning periods."""

from __future__ import annotations

import pandas as pd
import solara

from sim import report
from sim.analysis import charts
from sim.analysis.compare import AVOIDED_CASE, BASELINE, DISCOUNT_RATE, EXTRA_OVER_BASELINE, PERSPECTIVES, Comparison
from sim.analysis.de_format import de
from sim.analysis.indicators import INDICATOR_LABELS_DE
from sim.ui import scenario_store, state
from sim.ui.compare_page import RunPanel, selection
from sim.ui.widgets import FigureWithTable, Table, csv_bytes

INTRO = (
    "Kosten je Kostenzeile und Jahr für die verglichenen Szenarien (synthetisches Düsseldorf), zuerst für den "
    "**Haushalt der Stadt**: jeder Kostensatz trägt die Anteile von Stadt, Land, Bund, Krankenkassen und "
    "Eltern/Trägern mit Quelle (Tabelle der Kostensätze im Bericht). Die zweite Sicht zeigt **alle öffentlichen "
    "Haushalte**. Plätze kosten je bereitgestelltem Platz, belegt oder nicht, neue Plätze zusätzlich ihre "
    "Investition; jeder Hebel hat einen Preis. Die Mehrkosten gegenüber dem Status quo und was sie bewirken: "
    "Kosten je zusätzlich erreichtem Kind und je vermiedenem Fall (ein Kind weniger mit "
    f"„{INDICATOR_LABELS_DE[AVOIDED_CASE]}“, Annahme), nur wo die Wirkung gesichert ist. "
    "Jede Grafik als PNG, jede Tabelle als CSV."
)
PERSPECTIVE_LABELS = {key: label for key, (_, label) in PERSPECTIVES.items()}


def effectiveness_table(c: Comparison) -> pd.DataFrame:
    """Cost and effect per scenario, German column names, numbers (so the CSV stays computable).
    Costs are the city's budget, with the extra cost to all public budgets beside it; a cost per
    effect only where the effect is secured (else the verdict says why not)."""
    ce = c.cost_effectiveness()
    mio = 1e-6
    public = c.mean_extra_cost("public")
    table = pd.DataFrame({
        "Szenario": ce["scenario_title"],
        "Kosten Mio. EUR/Jahr": ce["annual_cost_eur"] * mio,
        "Mehrkosten Mio. EUR/Jahr": ce["extra_cost_eur"] * mio,
        "Mehrkosten alle öffentlichen Haushalte Mio. EUR/Jahr": ce["scenario"].map(public).to_numpy() * mio,
        "Mehrkosten 95%-Intervall von": ce["extra_cost_eur_ci_low"] * mio,
        "Mehrkosten 95%-Intervall bis": ce["extra_cost_eur_ci_high"] * mio,
        "davon Verwaltung (Anträge) Mio. EUR/Jahr": ce["admin_overhead_eur"] * mio,
        "zusätzlich erreichte Kinder/Jahr": ce["extra_children_reached_per_year"],
        "EUR je zusätzlich erreichtem Kind": ce["cost_per_extra_child_reached_eur"],
        "vermiedene Fälle/Jahr": ce["avoided_cases_per_year"],
        "EUR je vermiedenem Fall": ce["cost_per_avoided_case_eur"],
        "Urteil (vermiedene Fälle)": ce["verdict_avoided_case"].where(ce["scenario"] != BASELINE, "–"),
    })
    return table.round({c: 2 for c in table.columns if "Mio." in c or "Intervall" in c}).round(
        {"zusätzlich erreichte Kinder/Jahr": 0, "EUR je zusätzlich erreichtem Kind": 0, "vermiedene Fälle/Jahr": 0,
         "EUR je vermiedenem Fall": 0})


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The same table as a planner reads it: decimal comma, thousands apart, "–" for undefined."""
    out = table.copy()
    for column in [c for c in out.columns[1:] if not c.startswith("Urteil")]:
        digits = 2 if "Mio." in column or "Intervall" in column else 0
        out[column] = [de(v, digits) for v in out[column]]
    return out


def cost_by_service_and_year(c: Comparison, perspective: str = "city") -> pd.DataFrame:
    """One row per scenario and cost line, one column per year, in Mio. EUR; the extra as a column."""
    costs = c.costs()
    column, extra_column = PERSPECTIVES[perspective][0], EXTRA_OVER_BASELINE[perspective]
    wide = costs.pivot_table(index=["scenario", "service_label"], columns="year", values=column, aggfunc="sum") / 1e6
    extra = costs.groupby(["scenario", "service_label"])[extra_column].mean() / 1e6
    wide.columns = [f"{year} (Mio. EUR)" for year in wide.columns]
    wide["Mehrkosten je Jahr ggü. Status quo (Mio. EUR)"] = extra
    wide = wide.reset_index()
    order = {name: k for k, name in enumerate(c.names)}
    wide = wide.sort_values(["scenario", "service_label"], key=lambda s: s.map(order) if s.name == "scenario" else s)
    wide.insert(0, "Szenario", wide.pop("scenario").map(c.titles))
    wide = wide.rename(columns={"service_label": "Kostenzeile"})
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
        Table(shown(table))
    solara.FileDownload(csv_bytes(table), filename="kosten_wirkung.csv", label="Tabelle als CSV", mime_type="text/csv")
    if BASELINE in c.names and len(c.names) > 1:
        solara.Markdown("### Kosten und Wirkung im Bild")
        # the numbers are the table above; the CSV under the chart is the same table
        FigureWithTable(lambda: charts.cost_effect_chart(c), table, "kosten_wirkung", dependencies=[id(c)],
                        show_table=False)
    periods = solara.use_memo(lambda: report.period_tables(c), [id(c)])
    for period, part in periods.items():
        solara.Markdown(f"### Planungszeitraum {period}: Kosten je Wirkung\n"
                        f"Summen über den Zeitraum, abgezinst mit {de(DISCOUNT_RATE * 100, 0)} % je Jahr (Annahme); "
                        "95%-Intervalle über die gepaarten Seeds. Jede Quote rechnet die ganzen Mehrkosten einer "
                        "Wirkung zu. „keine gesicherte Wirkung“: das Intervall der Wirkung schließt null ein.")
        with solara.Div(classes=["budget-zeitraum"]):
            Table(part)
        solara.FileDownload(csv_bytes(part), filename=f"planungszeitraum_{period}.csv", label="Tabelle als CSV",
                            mime_type="text/csv")
    if BASELINE in c.names and len(c.names) > 1:
        solara.Markdown("### Der Pfad über die Jahre")
        FigureWithTable(lambda: charts.path_chart(c), c.paths(), "pfad_jahre", dependencies=[id(c)], show_table=False)
        FigureWithTable(lambda: charts.cumulative_chart(c), c.paths(), "kumuliert", dependencies=[id(c)], show_table=False)
        solara.Markdown("### Mehrkosten je Kostenzeile (Mio. EUR je Jahr; Stadt, in Klammern alle öffentlichen Haushalte)")
        Table(report.cost_line_table(c))
    solara.Markdown("### Kosten nach Kostenzeile und Jahr")
    perspective = solara.use_reactive("city")
    with solara.ToggleButtonsSingle(value=perspective, classes=["budget-perspektive"]):
        for key, label in PERSPECTIVE_LABELS.items():
            solara.Button(label, value=key, text=True)
    FigureWithTable(lambda: charts.budget_chart(c, perspective.value), cost_by_service_and_year(c, perspective.value),
                    "budget_angebote_jahre", dependencies=[id(c), perspective.value],
                    note="Grafik und Tabelle: " + PERSPECTIVE_LABELS[perspective.value])
