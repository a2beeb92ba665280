"""Global sensitivity analysis of the uncertain parameters (Morris elementary effects, SALib).

    python -m sim.run experiment=sensitivity          # runs the design, then this script
    python experiments/sensitivity.py results/multirun/sensitivity   # analyse again

Outputs (poor/non-poor gap in insufficient German at school entry and in multiple deprivation)
in `<sweep>/sensitivity/`: `indices.csv` (mu*, its 95 % interval, mu, sigma per parameter and
output, in percentage points of the gap over the parameter's range) and the chart
`morris_indizes.png/.svg`. The design and the parameter ranges: conf/experiment/sensitivity.yaml.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis.results import write_csv, write_provenance  # noqa: E402
from sim.collect import collect, sweep_provenance  # noqa: E402
from sim.inputs.yamlio import safe_load  # noqa: E402
from sim.paths import RESULTS  # noqa: E402
from sim.sweeps.hydra_conf import design_sample  # noqa: E402
from sim.sweeps.sweep_charts import CITY, plt, save  # noqa: E402

OUTPUTS = {
    "insufficient_german_at_school_entry": "Abstand unzureichende Deutschkenntnisse (Schuleingang)",
    "multiple_deprivation": "Abstand multiple Deprivation (AWO-ISS)",
}
LABELS = {
    "development.german_effect_multiplier_other_language": ("Wirkung Kita auf Deutsch (andere Familiensprache)", "Effektstärke"),
    "development.risk.german.sgb2": ("Armutsrisiko für Deutsch (Verschiebung der Norm, SD)", "Effektstärke"),
    "development.effect_scale.material": ("Wirkung der Angebote auf die materielle Lage", "Effektstärke"),
    "development.effect_scale.social": ("Wirkung der Angebote auf die soziale Lage", "Effektstärke"),
    "development.persistence_per_year.german": ("Beharrung Deutsch (je Jahr)", "Entwicklung"),
    "development.persistence_per_year.school": ("Beharrung Schulfähigkeit (je Jahr)", "Entwicklung"),
    "takeup.handover_strength": ("Stärke der warmen Übergabe", "Effektstärke"),
    "takeup.outreach_strength": ("Stärke der aufsuchenden Arbeit", "Effektstärke"),
    "takeup.elasticity.information": ("Elastizität Information", "Barriere"),
    "takeup.elasticity.stigma_trust": ("Elastizität Stigma/Vertrauen", "Barriere"),
    "takeup.elasticity.language": ("Elastizität Sprache", "Barriere"),
    "takeup.elasticity.application_effort": ("Elastizität Antragsaufwand", "Barriere"),
    "takeup.elasticity.cost": ("Elastizität Kosten", "Barriere"),
    "demography.sgb2_exit_per_year": ("Austritt aus SGB II je Jahr", "Armutsdynamik"),
    "demography.low_income_exit_per_year": ("Austritt aus Niedrigeinkommen je Jahr", "Armutsdynamik"),
    "demography.trait_correlation": ("Korrelation Armut–Merkmale", "Armutsdynamik"),
}
COLOURS = {"Effektstärke": "#1f5fa8", "Barriere": "#d08a1f", "Armutsdynamik": "#4d9a4d", "Entwicklung": "#7a4d9a"}


def analyse(sweep_dir: Path) -> Path:
    from SALib.analyze import morris

    collected = collect(sweep_dir, charts=False)
    runs = pd.read_parquet(collected / "runs.parquet")
    first = next(Path(sweep_dir).rglob("result/config.yaml"))
    design = safe_load(first.read_text(encoding="utf-8"))["design"]
    problem, sample = design_sample(design)
    gaps = runs[(runs["subgroup_type"] == "poverty") & (runs["subgroup"] == "gap")]
    rows = []
    for output, label in OUTPUTS.items():
        y = gaps[gaps["indicator"] == output].assign(row=lambda t: t["design.row"].astype(int)).set_index("row")["value"]
        missing = sorted(set(range(len(sample))) - set(y.index))
        if missing:
            raise SystemExit(f"{len(missing)} Zeilen des Designs fehlen (z. B. {missing[:5]}): Sweep erneut starten")
        result = morris.analyze(problem, sample, 100 * y.sort_index().to_numpy(float), num_levels=design["levels"],
                                seed=design["seed"])
        for i, name in enumerate(problem["names"]):
            rows.append({"output": output, "output_label": label, "parameter": name,
                         "parameter_label": LABELS.get(name, (name, ""))[0], "group": LABELS.get(name, ("", "andere"))[1],
                         "mu_star": result["mu_star"][i], "mu_star_conf": result["mu_star_conf"][i],
                         "mu": result["mu"][i], "sigma": result["sigma"][i]})
    indices = pd.DataFrame(rows)
    out = Path(sweep_dir) / "sensitivity"
    out.mkdir(parents=True, exist_ok=True)
    write_csv(indices, out / "indices.csv")
    write_provenance({**sweep_provenance(Path(sweep_dir), out), "analysis": "experiments/sensitivity.py"},
                     out / "provenance.yaml", fill_params=False)
    chart(indices, design, len(sample), out)
    print(indices.sort_values(["output", "mu_star"], ascending=[True, False])
          .to_string(index=False, columns=["output", "parameter", "mu_star", "mu_star_conf", "sigma"]))
    print(f"\nSensitivitätsanalyse -> {out}")
    return out


def chart(indices: pd.DataFrame, design: dict, n_runs: int, out: Path) -> None:
    fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(15, 6.5), sharey=True)
    order = indices.groupby("parameter")["mu_star"].max().sort_values().index
    for ax, (output, label) in zip(np.atleast_1d(axes), OUTPUTS.items()):
        part = indices[indices["output"] == output].set_index("parameter").reindex(order)
        y = np.arange(len(part))
        ax.barh(y, part["mu_star"], xerr=part["mu_star_conf"], color=[COLOURS.get(g, "grey") for g in part["group"]],
                capsize=2)
        ax.plot(part["sigma"], y, "k|", markersize=12, label="σ (Wechselwirkung/Nichtlinearität)")
        ax.set_yticks(y, part["parameter_label"], fontsize=9)
        ax.set_xlabel("μ* (Prozentpunkte des Abstands über die Spannweite)")
        ax.set_title(label, fontsize=11)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    fig.legend(handles, list(COLOURS), loc="lower right", ncol=3, fontsize=9)
    fig.suptitle(f"Globale Sensitivität (Morris, {design['trajectories']} Trajektorien, {n_runs} Läufe, ein Seed) – "
                 f"{CITY}", fontsize=12, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save(fig, out, "morris_indizes")


if __name__ == "__main__":
    analyse(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS / "multirun" / "sensitivity")
