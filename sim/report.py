"""The main job: compare the standard scenarios and write the report for a budget meeting.

    python -m sim.report                                   # `make run`: standard set, 5 seeds, full city
    python -m sim.report --scenarios baseline,lotsen --seeds 3 --scale 0.2 --out results/mein_vergleich

Writes into results/report/ (the folder appears only when complete): bericht.html with the seven
charts (charts/*.png and *.svg) and bericht.pdf (the same, printed by Chromium for the council's
information system), comparison.csv (tidy: scenario, indicator, subgroup, quantity, seed
statistic), costs.csv (EUR per scenario, cost line, year and payer), paths.csv (extra cost and
effect per calendar year), cost_effectiveness.csv (averages over the reported years),
cost_effectiveness_periods.csv (planning periods, discounted, with intervals), unit_costs.csv (the
unit costs and payer shares used), runs.parquet (every run's indicators, Sozialräume included) and
provenance.yaml. Then prints a one-screen summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pandas as pd

from sim.analysis import charts
from sim.analysis.compare import (AVOIDED_CASE, BASELINE, DISCOUNT_RATE, OUTCOMES, PLANNING_PERIODS, REACH, STANDARD_SET,
                         VERDICT_RATIO, Comparison, compare)
from sim.analysis.de_format import de, de_interval
from sim.analysis.indicators import INDICATOR_LABELS_DE
from sim.analysis.results import (atomic_directory, catch_interrupts, write_csv, write_parquet, write_provenance,
                                  write_text)
from sim.engine.model import MAX_SCALE
from sim.inputs.services import load_unit_costs
from sim.paths import RESULTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PDF_TIMEOUT_SECONDS = 120
KEY_INDICATORS = (
    "insufficient_german_at_school_entry", "kita_entry_before_36_months", "sports_club_member_at_school_entry",
    "gymnasium_transition", "neet_at_18", "multiple_deprivation", "chain_reach_all",
)
CHART_CAPTIONS = {
    "1_abstand_arm_nicht_arm": "Abstand zwischen Kindern in SGB-II-Haushalten und den übrigen Kindern je Indikator.",
    "2_kosten_wirkung": "Mehrkosten gegenüber dem Status quo und Wirkung; grün: effiziente Szenarien "
                        "(kein anderes Szenario wirkt mehr für weniger Geld).",
    "3_kette_reichweite": "Anteil der Kinder je Lebensphase, die ein persönliches Angebot der Kette nutzen.",
    "4_heatmap_raeume": "Änderung gegenüber dem Status quo je Sozialraumtyp und Stadtbezirk (Prozentpunkte).",
    "5_budget_angebote": "Mehrkosten gegenüber dem Status quo nach Kostenzeile, Haushalt der Stadt; ein Feld je Szenario, blau: kostet mehr, orange: spart, schwarz: Saldo.",
    "6_pfad_jahre": "Mehrkosten der Stadt und vermiedene Fälle Jahr für Jahr: die Hebel beginnen 2027, "
                    "ihre Wirkung bei der Schuleingangsuntersuchung folgt erst, wenn Kinder mit ihnen aufgewachsen sind.",
    "7_kumuliert": "Aufsummierte, abgezinste Mehrkosten gegen aufsummierte vermiedene Fälle ab 2027; "
                   "ein Punkt je Jahr, die Enden der Planungszeiträume beschriftet.",
}
# Short column heads for the outcomes of the planning-period table.
OUTCOME_HEADS = {
    AVOIDED_CASE: "EUR je vermiedenem Fall Deutsch",
    "multiple_deprivation": "EUR je vermiedenem Kind-Jahr multipler Deprivation",
    "neet_at_18": "EUR je vermiedenem NEET-Fall",
    "gymnasium_transition": "EUR je zusätzlichem Gymnasialübergang",
    REACH: "EUR je zusätzlich erreichtem Kind-Jahr",
}
PAYER_LABELS = {"city": "Stadt", "land": "Land", "bund": "Bund", "health_insurance": "Krankenkassen",
                "other": "Eltern/Träger"}
SYNTHETIC_NOTE = (
    "Alle Ergebnisse beruhen auf einem <b>synthetischen Düsseldorf</b>: Sozialräume, Kinderzahlen und Plätze "
    "sind aus veröffentlichten Stadtwerten erzeugt, nicht aus Melderegisterdaten. Wirkungsgrößen, Barrieren und "
    "Übergaben sind kalibrierte Annahmen (siehe README und conf/params/fitted.yaml). Die Hebel der "
    "Standardszenarien beginnen im Januar 2027 (der U3-Ausbau baut sich über drei Jahre auf); bis dahin ist "
    "jedes Szenario der Status quo, Zufallszahl für Zufallszahl. Mittelwerte „je Jahr“ sind Mittel der Jahre "
    "2026 bis zum letzten Berichtsjahr, also mit Anlauf; die Planungszeiträume stehen in einer eigenen Tabelle."
)

# What the model assumes, in the words of a budget meeting (README, "How the model works", in full).
METHOD_NOTE = """<h2>So rechnet das Modell</h2>
<ul>
<li><b>Entwicklung:</b> Deutsch, Motorik, Gewicht, Schulfähigkeit, soziale und materielle Lage jedes Kindes
liegen auf einer Skala, die von der Geburt bis 18 ihre Bedeutung behält. Jede strebt zu einer Norm, die die
Lage der Familie setzt (SGB II, Familiensprache, Bildung der Eltern, Alleinerziehende, Sozialraumtyp);
Angebote verschieben den Weg des Kindes mit einer benannten Wirkungsgröße (Annahme, in der
Sensitivitätsanalyse variiert), ein Vorsprung verblasst nach der Nutzung nach und nach.</li>
<li><b>Teilhabe nach AWO-ISS:</b> Ein Problem in einer Lebenslage ist eine Lage des Kindes (materielle
Versorgung, soziale Kontakte, Gesundheit, Sprache und Schulfähigkeit), nie die Nichtnutzung einer Leistung.
Eine Leistung wirkt nur über ihre Wirkung auf diese Lage; auch Kinder außerhalb des SGB II können in jeder
Lebenslage Probleme haben. Drei oder mehr Probleme: multiple Deprivation.</li>
<li><b>Zugezogene Kinder</b> und die Kinder der Stadt zu Beginn kommen mit einer Vorgeschichte (Entwicklung,
Kitaeintritt, Kontakte), wie sie Kinder gleichen Alters, gleicher Armutslage und Familiensprache in der Stadt haben.
In jedem Alter ziehen so viele Kinder zu, wie fortziehen, dazu der Rückgang der Jahrgänge der Alterstabelle: die
Altersstruktur der Stadt bleibt erhalten (Annahme: die Tabelle ist ihr Gleichgewicht).</li>
<li><b>Ein Antrag auf U3-Betreuung:</b> Eine Familie, die auf einen Platz in der Kindertagespflege wartet, nimmt einen
freien U3-Kitaplatz in ihrem Sozialraum, und umgekehrt: Familien merken sich im Kita-Navigator (bis zu 15 Kitas)
und im Kindertagespflege-Navigator vor, um das Risiko zu senken (Rheinische Post 14.01.2022 und 03.2018); dass jede
wartende Familie die andere Platzart nimmt, ist eine Annahme.</li>
<li><b>Das Kitajahr:</b> Als unter drei zählt ein Kind, das nach dem 31. Oktober drei wird (Stichtag nach KiBiz):
im August fragt ein im November geborenes Kind (33 Monate) einen U3-Platz nach, ein im September oder Oktober
geborenes einen Ü3-Platz. Ein Kind behält seinen U3-Kitaplatz das Kitajahr über und wechselt im August mit Vorrang
in die Ü3-Gruppe; ein Kind aus der Kindertagespflege gibt seinen Platz frei, sobald es einen Ü3-Platz hat.</li>
<li><b>Armutsdynamik:</b> Alleinerziehende verlassen das SGB II langsamer (IAB-Kurzbericht 12/2009),
erwerbstätige Haushalte schneller (Annahme).</li>
<li><b>Warme Übergaben:</b> Jeder Kontakt mit einem Angebot, das übergibt, ist eine eigene Chance auf eine
Übergabe an das nächste Angebot; mehr Kontakte, mehr Übergaben.</li>
<li><b>Plausibilität:</b> Jede hervorgehobene Kennzahl des Status quo wird gegen ein veröffentlichtes Band
geprüft (<code>make calibrate</code> druckt alle; Quellen in <code>sim/data/</code>). Kalibrierung vom 8.12.2026: 41 von 41 Zielwerten in der Toleranz, alle 22 Kennzahlen in ihrem Band;
die multiple Deprivation von Kindern im SGB II (19,6 %) liegt im unteren Teil ihres Bandes (14,5-50 %).</li>
</ul>"""


# ---- tables --------------------------------------------------------------------------------------
def summary_table(c: Comparison) -> pd.DataFrame:
    """The one table a budget meeting reads: cost, reach, avoided cases, gap change, per scenario."""
    ce = c.cost_effectiveness().set_index("scenario")
    gap = c.value(AVOIDED_CASE, "poverty", "gap")
    deprived = c.value("multiple_deprivation", "poverty", "sgb2")
    rows = []
    public = c.mean_extra_cost("public")
    for name in c.names:
        r = ce.loc[name]
        rows.append({
            "Szenario": c.titles[name],
            "Mehrkosten Stadt Mio. EUR/Jahr": de_interval(r["extra_cost_eur"], r["extra_cost_eur_ci_low"], r["extra_cost_eur_ci_high"], 1, 1e-6),
            "Mehrkosten öffentlich Mio. EUR/Jahr": de(public.get(name, float("nan")) / 1e6, 1, sign=True),
            "zusätzlich erreichte Kinder/Jahr": de(r["extra_children_reached_per_year"], 0),
            "vermiedene Fälle/Jahr¹": de(r["avoided_cases_per_year"], 0),
            "EUR je zusätzlich erreichtem Kind": _ratio_text(r["cost_per_extra_child_reached_eur"], r["verdict_reached"], name),
            "EUR je vermiedenem Fall¹": _ratio_text(r["cost_per_avoided_case_eur"], r["verdict_avoided_case"], name),
            "Δ Abstand Deutsch (Pp.)": de_interval(gap.loc[name, "mean"], gap.loc[name, "ci_low"], gap.loc[name, "ci_high"], 1, 100),
            "Δ multiple Deprivation SGB II (Pp.)": de_interval(deprived.loc[name, "mean"], deprived.loc[name, "ci_low"],
                                                               deprived.loc[name, "ci_high"], 1, 100),
        })
    return pd.DataFrame(rows)


def _ratio_text(ratio: float, verdict: str, name: str = "") -> str:
    if name == BASELINE:
        return "–"
    return de(ratio, 0) if verdict == VERDICT_RATIO else verdict


def period_tables(c: Comparison) -> dict[str, pd.DataFrame]:
    """Per planning period: discounted extra cost (city, all public) and the cost per unit of each
    outcome with its 95% interval, or what can be said instead."""
    table = c.planning_periods()
    out = {}
    for period, part in table.groupby("period", sort=False):
        rows = []
        for name in c.names[1:]:
            mine = part[part["scenario"] == name]
            if mine.empty:
                continue
            city, pub = mine[mine["perspective"] == "city"], mine[mine["perspective"] == "public"]
            first_city, first_pub = city.iloc[0], pub.iloc[0]
            row = {"Szenario": c.titles[name],
                   "Mehrkosten Stadt Mio. EUR": de_interval(first_city["extra_cost_eur"], first_city["extra_cost_eur_ci_low"],
                                                            first_city["extra_cost_eur_ci_high"], 1, 1e-6),
                   "Mehrkosten öffentlich Mio. EUR": de_interval(first_pub["extra_cost_eur"], first_pub["extra_cost_eur_ci_low"],
                                                                 first_pub["extra_cost_eur_ci_high"], 1, 1e-6)}
            for outcome, head in OUTCOME_HEADS.items():
                r = city[city["outcome"] == outcome]
                if r.empty:
                    continue
                r = r.iloc[0]
                row[head] = (f"{de(r['cost_per_effect_eur'], 0)} [{de(r['cost_per_effect_eur_ci_low'], 0)}; "
                             f"{de(r['cost_per_effect_eur_ci_high'], 0)}]" if r["verdict"] == VERDICT_RATIO else r["verdict"])
            rows.append(row)
        out[period] = pd.DataFrame(rows)
    return out


def cost_line_table(c: Comparison) -> pd.DataFrame:
    """Extra cost per cost line and scenario (Mio. EUR a year, city and all public), the lines that move."""
    costs = c.costs()
    city = costs.groupby(["service_label", "scenario"])["extra_over_baseline_eur"].mean().unstack("scenario")
    pub = costs.groupby(["service_label", "scenario"])["public_extra_over_baseline_eur"].mean().unstack("scenario")
    names = [n for n in c.names if n != BASELINE]
    moving = city.index[(city[names].abs() > 5e4).any(axis=1) | (pub[names].abs() > 5e4).any(axis=1)]
    rows = []
    for line in moving:
        row = {"Kostenzeile": line}
        for name in names:
            row[c.titles[name]] = f"{de(city.loc[line, name] / 1e6, 2, sign=True)} ({de(pub.loc[line, name] / 1e6, 2, sign=True)})"
        rows.append(row)
    return pd.DataFrame(rows)


def payer_table() -> pd.DataFrame:
    """The unit costs and who pays them: what every euro of the report is made of."""
    table = load_unit_costs()
    rows = []
    for cost_id, r in table.iterrows():
        shares = ", ".join(f"{PAYER_LABELS[p]} {de(r[f'{p}_share'] * 100, 0)} %" for p in PAYER_LABELS if r[f"{p}_share"] > 0)
        rows.append({"Nr.": cost_id, "Kostensatz": r["item"], "EUR": de(r["value_eur"], 2 if r["value_eur"] < 10 else 0),
                     "je": r["per"], "Status": {"published": "veröffentlicht", "derived": "abgeleitet",
                                                  "assumption": "Annahme"}.get(r["status"], r["status"]),
                     "Quelle": r["source"], "Wer zahlt": shares, "Quelle der Anteile": r["payer_source"]})
    return pd.DataFrame(rows)


def _timing_text(scenario) -> str:
    schedule = scenario.schedule()
    parts = sorted({(t.start_year, t.build_up_years) for t in schedule.timing.values()}, key=lambda x: (x[0] or 0, x[1]))
    if not parts:
        return "–"
    texts = []
    for start, build in parts:
        text = f"ab {start}" if start else "von Beginn an"
        texts.append(text + (f", Aufbau über {build} Jahre" if build else ""))
    return "; ".join(texts)


def indicator_table(c: Comparison) -> pd.DataFrame:
    """Key indicators: level in the status quo and change per scenario, for SGB II, others and the gap."""
    levels, diffs = c.levels(), c.differences()
    rows = []
    for indicator in KEY_INDICATORS:
        for subgroup, label in (("sgb2", "SGB II"), ("non_sgb2", "nicht SGB II"), ("gap", "Abstand")):
            key = (levels["indicator"] == indicator) & (levels["subgroup_type"] == "poverty") & (levels["subgroup"] == subgroup)
            base = levels[key & (levels["scenario"] == BASELINE)]["mean"]
            row = {"Indikator": INDICATOR_LABELS_DE[indicator], "Gruppe": label,
                   "Status quo (%)": de(float(base.iloc[0]) * 100 if len(base) else float("nan"), 1)}
            dkey = (diffs["indicator"] == indicator) & (diffs["subgroup_type"] == "poverty") & (diffs["subgroup"] == subgroup)
            for name in c.names[1:]:
                d = diffs[dkey & (diffs["scenario"] == name)].iloc[0]
                row[c.titles[name]] = de_interval(d["mean"], d["ci_low"], d["ci_high"], 1, 100)
            rows.append(row)
    return pd.DataFrame(rows)


CAPACITY_UNITS = {"places": "Plätze", "cases": "Fälle gleichzeitig", "contacts_per_month": "Kontakte je Monat"}
FULL = 0.95  # a capacity used to 95 % or more, with children turned away, is the limit


def limit_of(row) -> str:
    """Why a capacity service reaches whom it reaches: its capacity, or who asks."""
    if row["used_share"] >= FULL and row["unserved"] >= 1:
        return "Kapazität: voll, Anfragen bleiben offen"
    if row["unserved"] >= 1:
        return "Kapazität stellenweise (offene Anfragen trotz freier Kapazität)"
    return "Nachfrage: nicht voll ausgelastet, mehr Kapazität erreicht niemanden mehr"


def capacity_table(c: Comparison) -> pd.DataFrame:
    """Per scenario and capacity-limited service: capacity, its use, who asked in vain and who did
    not ask (monthly averages of the years its levers act in full, city scale), and what limits the reach.
    A service given without application (plusKITA) is "asked for" by every child it is for: its
    label says so."""
    use = c.capacity_use()
    rows = []
    for _, row in use.iterrows():
        label = row["service_label"]
        if row["access"] == "automatic":
            label += " (ohne Antrag: nachgefragt = jedes Kind, für das es gedacht ist)"
        rows.append({"Szenario": c.titles.get(row["scenario"], row["scenario"]), "Angebot": label,
                     "Jahre": f"{row['from_year']}–{row['to_year']}",
                     "Kapazität": f"{de(row['capacity'], 0)} {CAPACITY_UNITS[row['capacity_kind']]}",
                     "genutzt": de(row["used"], 0),
                     "Auslastung": de(row["used_share"] * 100, 0) + " %" if pd.notna(row["used_share"]) else "–",
                     "nachgefragt, ohne Platz/Termin": de(row["unserved"], 0),
                     "im Alter und berechtigt, ohne Nachfrage": de(row["not_asking"], 0),
                     "Grenze der Reichweite": limit_of(row) if pd.notna(row["used_share"]) else "kein Angebot"})
    return pd.DataFrame(rows)


# ---- output --------------------------------------------------------------------------------------
def write_html(c: Comparison, folder: Path) -> Path:
    scenarios = "".join(f"<tr><td><b>{html.escape(s.title)}</b><br><code>{s.name}</code></td>"
                        f"<td>{html.escape(s.description)}</td><td>{html.escape(_timing_text(s))}</td></tr>"
                        for s in c.scenarios)
    periods = "".join(f"<h3>Planungszeitraum {period}</h3>{table.to_html(index=False, escape=True)}"
                      for period, table in period_tables(c).items())
    figures = "".join(
        f'<figure><img src="charts/{name}.png" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)} '
        f'<a href="charts/{name}.svg">SVG</a></figcaption></figure>' for name, caption in CHART_CAPTIONS.items())
    page = f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8"><title>Präventionskette: Szenarienvergleich</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1500px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }}
th, td {{ border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: right; vertical-align: top; }}
th {{ background: #eef2f5; }} td:first-child, th:first-child {{ text-align: left; }}
.note {{ background: #fff7e0; border-left: 4px solid #e0a800; padding: 0.8em 1em; }}
figure {{ margin: 2em 0; }} img {{ max-width: 100%; border: 1px solid #ddd; }}
figcaption {{ color: #555; }}
@page {{ size: A4 landscape; margin: 12mm 10mm; }}
@media print {{ body {{ margin: 0; max-width: none; font-size: 10pt; }} figure, tr {{ break-inside: avoid; }}
  h2 {{ break-after: avoid; }} }}
</style></head><body>
<h1>Präventionskette gegen Kinderarmut: Szenarienvergleich</h1>
<p>{html.escape(c.label())} · erstellt am {dt.date.today():%d.%m.%Y} · Rechenzeit {de(c.seconds / 60, 1)} Minuten</p>
<p class="note">{SYNTHETIC_NOTE}</p>
<h2>Das Wichtigste je Szenario</h2>
<p>Mittelwert über die Seeds, in eckigen Klammern das 95%-Intervall der gepaarten Differenz zum Status quo.
Kosten je Jahr für die ganze Stadt. ¹ Fall = ein Kind mit unzureichenden Deutschkenntnissen bei der
Schuleingangsuntersuchung (Annahme: der Fall, den der Haushalt zählt).</p>
{summary_table(c).to_html(index=False, escape=True)}
<h2>Kostenperspektive</h2>
<p>Alle Kosten sind zuerst <b>Kosten für den Haushalt der Stadt</b>: jeder Kostensatz trägt die Anteile von Stadt,
Land, Bund, Krankenkassen und Eltern/Trägern mit ihrer Quelle (Tabelle am Ende). Die zweite Sicht,
<b>alle öffentlichen Haushalte</b> (Stadt, Land, Bund, Krankenkassen), steht in Klammern oder in eigenen Spalten.
Plätze kosten je bereitgestelltem Platz, ob belegt oder nicht; neue Plätze zusätzlich ihre Investition als
Annuität (2 %, 50 Jahre: Annahme); eine Verlagerung von Plätzen verschiebt Plätze und ihr Budget.
Personal kostet je Vollzeitstelle, Besuche je Besuch, Leistungen je Kind und Jahr, in dem sie gezahlt werden.
Jeder Hebel hat einen Preis: Koordination warmer Übergänge je Kind und Übergang, Sprachmittlung je Erstkontakt
und mehrsprachiges Material, Bedarfsprüfung je Bewerbung, entgangene Elternbeiträge, Verwaltungskosten je
Antragsverfahren.</p>
<h2>Planungszeiträume: Kosten je Wirkung</h2>
<p>Summen über den Zeitraum, Kosten und Wirkungen abgezinst mit {de(DISCOUNT_RATE * 100, 0)} % je Jahr
(Annahme) auf den Beginn des Zeitraums. Kosten je Wirkung: Haushalt der Stadt, mit 95%-Bootstrap-Intervall über
die gepaarten Seeds. Jede Quote rechnet die <b>ganzen</b> Mehrkosten eines Szenarios einer einzigen Wirkung zu
(die anderen Wirkungen gibt es dazu); Wirkungen von Ausgaben der letzten Jahre eines Zeitraums fallen oft erst
danach an. „keine gesicherte Wirkung“: das 95%-Intervall der Wirkung schließt null ein, es gibt keine Quote;
„spart Geld und wirkt“: geringere Kosten bei gesicherter Wirkung.</p>
{periods}
<h2>Kosten je Hebel: Mehrkosten nach Kostenzeile</h2>
<p>Mio. EUR je Jahr (Mittel der Berichtsjahre), Haushalt der Stadt, in Klammern alle öffentlichen Haushalte;
nur Kostenzeilen, die sich um mehr als 50.000 EUR bewegen.</p>
{cost_line_table(c).to_html(index=False, escape=True)}
<h2>Kapazität und Nachfrage: warum die Reichweite eines Angebots nicht weiter wächst</h2>
<p>Monatsmittel der Jahre, in denen die Hebel eines Szenarios voll wirken (Spalte „Jahre“; beim Status quo alle
Berichtsjahre), hochgerechnet auf die Stadt. Ist die Kapazität nicht ausgeschöpft und bleibt
niemand ohne Platz oder Termin, begrenzt nicht die Zahl der Fachkräfte oder Plätze die Reichweite, sondern wer
anfragt; dann hilft mehr Kapazität nicht, eher Zugang (aufsuchend, mehrsprachig, warme Übergänge).</p>
{capacity_table(c).to_html(index=False, escape=True)}
<h2>Szenarien</h2><table><tr><th>Szenario</th><th>Was sich gegenüber dem Status quo ändert</th><th>Ab wann</th></tr>{scenarios}</table>
<h2>Grafiken</h2>{figures}
<h2>Indikatoren: Änderung gegenüber dem Status quo (Prozentpunkte)</h2>
{indicator_table(c).to_html(index=False, escape=True)}
{METHOD_NOTE}
<h2>Kostensätze und wer sie trägt</h2>
{payer_table().to_html(index=False, escape=True)}
<h2>Tabellen zum Weiterrechnen</h2>
<ul><li><a href="comparison.csv">comparison.csv</a>: alle Indikatoren, Gruppen, Niveaus und Differenzen (tidy)</li>
<li><a href="costs.csv">costs.csv</a>: Kosten je Szenario, Kostenzeile, Jahr und Kostenträger</li>
<li><a href="paths.csv">paths.csv</a>: Mehrkosten und Wirkungen je Kalenderjahr, auch aufsummiert und abgezinst</li>
<li><a href="cost_effectiveness.csv">cost_effectiveness.csv</a>: Mehrkosten, Reichweite, vermiedene Fälle (Mittel der Berichtsjahre)</li>
<li><a href="cost_effectiveness_periods.csv">cost_effectiveness_periods.csv</a>: Planungszeiträume, beide Perspektiven, fünf Wirkungen, Intervalle</li>
<li><a href="capacity.csv">capacity.csv</a>: Kapazität, Nutzung, offene Nachfrage und Kinder ohne Nachfrage je Szenario und Angebot</li>
<li><a href="unit_costs.csv">unit_costs.csv</a>: Kostensätze, Kostenträger und Quellen</li>
<li><a href="runs.parquet">runs.parquet</a>: jeder Lauf einzeln, mit Sozialräumen</li></ul>
</body></html>
"""
    return write_text(page, folder / "bericht.html")


def write_pdf(page: Path, pdf: Path) -> Path:
    """bericht.html printed to A4 landscape (its @page rule) by Debian's chromium, headless, offline."""
    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: bericht.pdf needs Debian's chromium (`make` installs it)")
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no state, no first-run dialogs
        done = subprocess.run(
            [str(CHROMIUM), *CHROMIUM_ARGS, "--headless", f"--user-data-dir={profile}", "--no-pdf-header-footer",
             "--run-all-compositor-stages-before-draw", f"--print-to-pdf={pdf}", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=PDF_TIMEOUT_SECONDS)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        raise RuntimeError(f"chromium could not print {page.name} to PDF: {done.stderr.strip()[-500:]}")
    return pdf


def write_report(c: Comparison, out_dir: Path, config: dict) -> Path:
    """Every file of the report; the folder is renamed into place only when complete."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        write_csv(c.tidy(), tmp / "comparison.csv")
        write_csv(c.costs(), tmp / "costs.csv")
        write_csv(c.cost_effectiveness(), tmp / "cost_effectiveness.csv")
        write_csv(c.paths(), tmp / "paths.csv")
        write_csv(c.planning_periods(), tmp / "cost_effectiveness_periods.csv")
        write_csv(c.capacity_use(), tmp / "capacity.csv")
        write_csv(load_unit_costs().reset_index(), tmp / "unit_costs.csv")
        write_parquet(c.runs, tmp / "runs.parquet")
        charts.make_all(c, tmp / "charts")
        write_pdf(write_html(c, tmp), tmp / "bericht.pdf")
        write_provenance(config, tmp / "provenance.yaml")
    return out_dir


def terminal_summary(c: Comparison, out_dir: Path) -> str:
    table = summary_table(c)[["Szenario", "Mehrkosten Stadt Mio. EUR/Jahr", "Mehrkosten öffentlich Mio. EUR/Jahr",
                              "vermiedene Fälle/Jahr¹", "Δ Abstand Deutsch (Pp.)"]]
    # Titles cut at a word, as a left-aligned index, so that the table fits one terminal screen.
    table = table.set_index(table.pop("Szenario").map(lambda t: textwrap.shorten(t, 40, placeholder=" …")))
    table.index.name = None
    lines = [f"Szenarienvergleich · {c.label()}", "",
             table.to_string(), "",
             "¹ Kinder mit unzureichenden Deutschkenntnissen bei der Schuleingangsuntersuchung; [95%-Intervall]",
             "Hebel ab 2027; Mittel der Jahre 2026 bis Ende, mit Anlauf. Planungszeiträume: bericht.html",
             f"Bericht: {out_dir / 'bericht.html'}  ·  Rechenzeit {de(c.seconds / 60, 1)} min"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description="Präventionskette-Sim: Szenarien vergleichen und Bericht schreiben")
    parser.add_argument("--scenarios", default=",".join(STANDARD_SET), help="comma-separated scenario names")
    parser.add_argument("--seeds", type=int, default=5, help="number of paired seeds (default 5)")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the city simulated (1.0 = full city)")
    parser.add_argument("--years", type=int, default=18)
    parser.add_argument("--burn-in", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "report")
    args = parser.parse_args(argv)
    for flag, value, low, high in (("--seeds", args.seeds, 1, 1000), ("--scale", args.scale, 0.001, MAX_SCALE),
                                   ("--years", args.years, 1, 60), ("--burn-in", args.burn_in, 0, 30),
                                   ("--workers", args.workers, 1, 256)):
        if not low <= value <= high:  # NaN fails too
            parser.error(f"{flag} {value} outside {low:g}..{high:g}; nothing was computed")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    comparison = compare(names, range(args.seeds), scale=args.scale, years=args.years, burn_in=args.burn_in,
                         workers=args.workers)
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    config["scenario_levers"] = {s.name: s.lever_changes for s in comparison.scenarios}
    config["levers"] = {s.name: s.levers.model_dump(mode="json") for s in comparison.scenarios}
    out = write_report(comparison, args.out, config)
    print(terminal_summary(comparison, out))
    return out


if __name__ == "__main__":
    catch_interrupts()
    main()
