"""The main job: compare the standard scenarios and write the report for a budget meeting.

    python -m sim.report                                   # `make run`: standard set, 5 seeds, full city
    python -m sim.report --scenarios baseline,lotsen --seeds 3 --scale 0.2 --out results/mein_vergleich

Writes into results/report/ (the folder appears only when complete): bericht.html with the five
charts (charts/*.png and *.svg), comparison.csv (tidy: scenario, indicator, subgroup, quantity,
seed statistic), costs.csv (EUR per scenario, service and year), cost_effectiveness.csv,
runs.parquet (every run's indicators, Sozialräume included) and provenance.yaml. Then prints a
one-screen summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import textwrap
from pathlib import Path

import pandas as pd

from sim import charts
from sim.compare import AVOIDED_CASE, BASELINE, STANDARD_SET, Comparison, compare
from sim.de_format import de, de_interval
from sim.indicators import INDICATOR_LABELS_DE
from sim.model import MAX_SCALE
from sim.results import atomic_directory, write_csv, write_parquet, write_provenance, write_text

RESULTS = Path(__file__).resolve().parent.parent / "results"
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
    "5_budget_angebote": "Jährliche Kosten nach Angebot (Stadt Düsseldorf, synthetisch).",
}
SYNTHETIC_NOTE = (
    "Alle Ergebnisse beruhen auf einem <b>synthetischen Düsseldorf</b>: Sozialräume, Kinderzahlen und Plätze "
    "sind aus veröffentlichten Stadtwerten erzeugt, nicht aus Melderegisterdaten. Wirkungsgrößen, Barrieren und "
    "Übergaben sind kalibrierte Annahmen (siehe README und conf/params/fitted.yaml). Die Hebel wirken ab Beginn "
    "der Einschwingzeit; die Zahlen zeigen den eingeschwungenen Zustand, nicht den Aufbaupfad."
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
Kitaeintritt, Kontakte), wie sie Kinder gleichen Alters, gleicher Armutslage und Familiensprache in der Stadt haben.</li>
<li><b>Armutsdynamik:</b> Alleinerziehende verlassen das SGB II langsamer (IAB-Kurzbericht 12/2009),
erwerbstätige Haushalte schneller (Annahme).</li>
<li><b>Warme Übergaben:</b> Jeder Kontakt mit einem Angebot, das übergibt, ist eine eigene Chance auf eine
Übergabe an das nächste Angebot; mehr Kontakte, mehr Übergaben.</li>
<li><b>Plausibilität:</b> Jede hervorgehobene Kennzahl des Status quo liegt in einem veröffentlichten Band
(<code>make calibrate</code> druckt alle; Quellen in <code>sim/data/</code>).</li>
</ul>"""


# ---- tables --------------------------------------------------------------------------------------
def summary_table(c: Comparison) -> pd.DataFrame:
    """The one table a budget meeting reads: cost, reach, avoided cases, gap change, per scenario."""
    ce = c.cost_effectiveness().set_index("scenario")
    gap = c.value(AVOIDED_CASE, "poverty", "gap")
    deprived = c.value("multiple_deprivation", "poverty", "sgb2")
    rows = []
    for name in c.names:
        r = ce.loc[name]
        rows.append({
            "Szenario": c.titles[name],
            "Mehrkosten Mio. EUR/Jahr": de_interval(r["extra_cost_eur"], r["extra_cost_eur_ci_low"], r["extra_cost_eur_ci_high"], 1, 1e-6),
            "zusätzlich erreichte Kinder/Jahr": de(r["extra_children_reached_per_year"], 0),
            "vermiedene Fälle/Jahr¹": de(r["avoided_cases_per_year"], 0),
            "EUR je zusätzlich erreichtem Kind": de(r["cost_per_extra_child_reached_eur"], 0),
            "EUR je vermiedenem Fall¹": de(r["cost_per_avoided_case_eur"], 0),
            "Δ Abstand Deutsch (Pp.)": de_interval(gap.loc[name, "mean"], gap.loc[name, "ci_low"], gap.loc[name, "ci_high"], 1, 100),
            "Δ multiple Deprivation SGB II (Pp.)": de_interval(deprived.loc[name, "mean"], deprived.loc[name, "ci_low"],
                                                               deprived.loc[name, "ci_high"], 1, 100),
        })
    return pd.DataFrame(rows)


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


# ---- output --------------------------------------------------------------------------------------
def write_html(c: Comparison, folder: Path) -> Path:
    scenarios = "".join(f"<tr><td><b>{html.escape(s.title)}</b><br><code>{s.name}</code></td>"
                        f"<td>{html.escape(s.description)}</td></tr>" for s in c.scenarios)
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
</style></head><body>
<h1>Präventionskette gegen Kinderarmut: Szenarienvergleich</h1>
<p>{html.escape(c.label())} · erstellt am {dt.date.today():%d.%m.%Y} · Rechenzeit {de(c.seconds / 60, 1)} Minuten</p>
<p class="note">{SYNTHETIC_NOTE}</p>
<h2>Das Wichtigste je Szenario</h2>
<p>Mittelwert über die Seeds, in eckigen Klammern das 95%-Intervall der gepaarten Differenz zum Status quo.
Kosten je Jahr für die ganze Stadt. ¹ Fall = ein Kind mit unzureichenden Deutschkenntnissen bei der
Schuleingangsuntersuchung (Annahme: der Fall, den der Haushalt zählt).</p>
{summary_table(c).to_html(index=False, escape=True)}
<h2>Szenarien</h2><table><tr><th>Szenario</th><th>Was sich gegenüber dem Status quo ändert</th></tr>{scenarios}</table>
<h2>Grafiken</h2>{figures}
<h2>Indikatoren: Änderung gegenüber dem Status quo (Prozentpunkte)</h2>
{indicator_table(c).to_html(index=False, escape=True)}
{METHOD_NOTE}
<h2>Tabellen zum Weiterrechnen</h2>
<ul><li><a href="comparison.csv">comparison.csv</a>: alle Indikatoren, Gruppen, Niveaus und Differenzen (tidy)</li>
<li><a href="costs.csv">costs.csv</a>: Kosten je Szenario, Angebot und Jahr</li>
<li><a href="cost_effectiveness.csv">cost_effectiveness.csv</a>: Mehrkosten, Reichweite, vermiedene Fälle</li>
<li><a href="runs.parquet">runs.parquet</a>: jeder Lauf einzeln, mit Sozialräumen</li></ul>
</body></html>
"""
    return write_text(page, folder / "bericht.html")


def write_report(c: Comparison, out_dir: Path, config: dict) -> Path:
    """Every file of the report; the folder is renamed into place only when complete."""
    out_dir = Path(out_dir)
    with atomic_directory(out_dir) as tmp:
        write_csv(c.tidy(), tmp / "comparison.csv")
        write_csv(c.costs(), tmp / "costs.csv")
        write_csv(c.cost_effectiveness(), tmp / "cost_effectiveness.csv")
        write_parquet(c.runs, tmp / "runs.parquet")
        charts.make_all(c, tmp / "charts")
        write_html(c, tmp)
        write_provenance(config, tmp / "provenance.yaml")
    return out_dir


def terminal_summary(c: Comparison, out_dir: Path) -> str:
    table = summary_table(c)[["Szenario", "Mehrkosten Mio. EUR/Jahr", "zusätzlich erreichte Kinder/Jahr",
                              "vermiedene Fälle/Jahr¹", "Δ Abstand Deutsch (Pp.)"]]
    # Titles cut at a word, as a left-aligned index, so that the table fits one terminal screen.
    table = table.set_index(table.pop("Szenario").map(lambda t: textwrap.shorten(t, 40, placeholder=" …")))
    table.index.name = None
    lines = [f"Szenarienvergleich · {c.label()}", "",
             table.to_string(), "",
             "¹ Kinder mit unzureichenden Deutschkenntnissen bei der Schuleingangsuntersuchung; [95%-Intervall]",
             f"Bericht: {out_dir / 'bericht.html'}  ·  Rechenzeit {c.seconds / 60:.1f} min"]
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
    main()
