"""`make bench` itself: its quick mode runs every part once at small sizes and writes a complete report.

The figures are not checked here (speed is measured by the benchmark, not asserted in timed
tests); what is checked is that every figure the README table quotes is there and sensible.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "experiments" / "benchmark.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_writes_every_figure_and_the_chart(tmp_path):
    bench = load_benchmark()
    out = tmp_path / "benchmarks.json"
    report = bench.main(["--quick", "--out", str(out)])
    assert out.exists() and out.with_suffix(".png").stat().st_size > 10_000
    points = report["scaling"]["points"]
    assert [p["scale"] for p in points] == [0.02, 0.05]
    assert all(p["total_s"] > 0 and p["peak_mib"] > 50 and p["months"] == 288 for p in points)
    assert points[1]["children_start"] > points[0]["children_start"]
    side = report["speedup"][0]["median"]
    assert side["engine_s"] > 0 and side["reference_s"] > 0 and side["speedup"] == side["reference_s"] / side["engine_s"]
    assert report["sweep"]["runs"][0]["runs"] == 4  # 2 scenarios × 2 seeds, every one finished
    assert report["ui_default"]["median"]["first_chart_s"] <= report["ui_default"]["median"]["total_s"]
    assert report["machine_reference"]["median"]["total_s"] > 0
    ui = report["ui_default"]["median"]
    assert ui["first_chart_s"] <= ui["all_tabs_s"] <= ui["total_s"]
    step = report["explore_step"]["median"]
    assert 0 < step["step_s"] <= step["slowest_step_s"]
    assert report["quarter_city"]["total_s"] > 0
    # Every target of issues 16 and 17 is judged, against the day's machine reference where it is a time.
    verdicts = report["verdicts"]
    assert {"full city 18 + 6 years, × machine reference", "quarter city 4 + 6 years, × machine reference",
            "full city: peak MiB", "UI default comparison: first chart, s (target for the day)",
            "UI default comparison: every tab's chart, s (target for the day)",
            "Erkunden: one Step at 2 %, s (target for the day)"} <= set(verdicts)
    assert all(isinstance(v["met"], bool) for v in verdicts.values())
    table = bench.markdown_table(report)
    for row in ("full city", "peak memory", "scaling exponent", "speed-up", "sweep throughput", "UI default", "machine reference",
                "quarter city", "Erkunden", "| target (issues 16 and 17) |"):
        assert row in table, row
