"""The UI's pages as components, rendered without a browser (solara.render + reacton's finder).

Each test gets its own Solara kernel context, i.e. its own browser session: the pages' state
(`sim.ui.state`) starts fresh, as it does for every planner who opens the app.
"""

from __future__ import annotations

import time
import uuid

import ipyvuetify as v
import pytest
import solara
import solara.server.app  # noqa: F401  (ipywidgets' comms live in one kernel context each, as on the server)
import solara.server.starlette  # noqa: F401  (with the server loaded, solara.reactive keeps one value per session)
from ipywidgets import Widget
from solara.server import kernel
from solara.server.kernel_context import VirtualKernelContext

from sim.analysis.compare import compare
from sim.ui import budget, compare_page, compare_results, explore, state

TINY = {"scale": 0.01, "years": 2, "burn_in": 0}  # the standard levers start in 2027


def new_session(name: str) -> VirtualKernelContext:
    name = f"{name}-{uuid.uuid4().hex[:8]}"  # solara keeps contexts by id: never reuse one
    return VirtualKernelContext(id=name, kernel=kernel.Kernel(), session_id=name)


def close(context: VirtualKernelContext) -> None:
    with context:  # its widgets are closed through its own kernel
        context.close()


@pytest.fixture
def session():
    context = new_session("komponententest")
    try:
        with context:
            yield context
    finally:
        close(context)


@pytest.fixture
def render(session):
    """Render a page in this test's session; its widgets are closed afterwards."""
    opened = []

    def show(element):
        _, rc = solara.render(element, handle_error=False)
        opened.append(rc)
        return rc

    yield show
    for rc in opened:
        rc.close()


@pytest.fixture(scope="module")
def tiny_comparison():
    return compare(["baseline", "lotsen"], range(1), workers=1, progress=False, **TINY)


def type_into(rc, label: str, text: str) -> None:
    """Type into a text field and leave it, as a planner does (fields update on leaving or Enter)."""
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("focusout", None)


def page_items(rc):
    """Every widget and text on the page (reacton's finder stops at a match, so walk the tree here)."""
    seen, queue = set(), list(rc.find().widgets)
    while queue:
        item = queue.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (list, tuple)):
            queue += [x for x in item if isinstance(x, (Widget, list, tuple))]
            yield from (x for x in item if isinstance(x, str))
        elif isinstance(item, Widget):
            yield item
            for name in item.keys:
                value = getattr(item, name, None)
                if name in ("children", "items") or isinstance(value, (Widget, list, tuple)):
                    queue.append(value)
                if name in ("children",) and isinstance(value, str):
                    yield value


def page_text(rc) -> str:
    """Every text on the page: plain texts, alerts, buttons and rendered Markdown (as HTML)."""
    parts = []
    for item in page_items(rc):
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(template := getattr(item, "template", None), str) and "solara-markdown" in template:
            parts.append(template.split("<script>")[0])
    return "\n".join(parts)


def charts(rc, name: str) -> list:
    """The chart images called name (HTML img elements with their alt text, see widgets.ChartImage)."""
    return [w for w in page_items(rc)
            if isinstance(w, solara.widgets.HTML) and w.tag == "img" and w.attributes.get("class") == f"chart-{name}"]


def wait_for_chart(rc, name: str, timeout: float = 60.0):
    wait_until(lambda: charts(rc, name), timeout)
    (image,) = charts(rc, name)
    assert image.attributes["alt"].startswith("Diagramm: "), image.attributes["alt"]
    return image


def chart_source(rc, name: str) -> str:
    return wait_for_chart(rc, name, timeout=0).attributes["src"]


def field(rc, label: str):
    return rc.find(v.TextField, label=label).widget


def start_button(rc):
    return rc.find(v.Btn, children=["Vergleich starten"]).widget


def set_tiny_run(rc) -> None:
    for label, text in (("Stichprobe in % der Stadt (1 bis 20)", "1"), ("Seeds (1 bis 10)", "1"),
                        ("Jahre (1 bis 18)", "2"), ("Einschwingjahre (0 bis 6)", "0")):  # lotsen start in 2027
        type_into(rc, label, text)


def test_years_that_end_before_a_scenarios_start_are_refused_at_the_field(render):
    rc = render(compare_page.Page())
    set_tiny_run(rc)
    type_into(rc, "Jahre (1 bis 18)", "1")
    assert "Die Hebel von „Lotsinnen und Lotsen" in page_text(rc) and "beginnen 2027" in page_text(rc)
    start_button(rc).click()
    assert state.last_request.value is None, "nothing started"
    type_into(rc, "Jahre (1 bis 18)", "2")
    assert "Die Hebel von „Lotsinnen und Lotsen" not in page_text(rc)


def in_app_layout(page):
    """A page inside an app layout: its sidebar (controls, Mesa's Step button) is only shown there."""
    return solara.AppLayout(children=[page()])


def wait_until(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


# ---- Vergleichen ----------------------------------------------------------------------------
def test_a_sample_above_the_bound_is_refused_at_the_field_and_nothing_can_start(render):
    rc = render(compare_page.Page())
    type_into(rc, "Stichprobe in % der Stadt (1 bis 20)", "50")
    scale = field(rc, "Stichprobe in % der Stadt (1 bis 20)")
    assert scale.error and scale.messages == ["Erlaubt: 1 bis 20"]
    assert start_button(rc).disabled
    assert "Bitte die rot markierten Felder korrigieren; solange wird nichts gerechnet." in page_text(rc)


def test_too_many_seeds_and_text_instead_of_a_number_are_named_at_their_fields(render):
    rc = render(compare_page.Page())
    type_into(rc, "Seeds (1 bis 10)", "11")
    type_into(rc, "Jahre (1 bis 18)", "drei")
    assert field(rc, "Seeds (1 bis 10)").messages == ["Erlaubt: 1 bis 10"]
    assert field(rc, "Jahre (1 bis 18)").messages == ["Bitte eine Zahl eingeben, z. B. 20, 2,5 oder 1.000"]
    assert start_button(rc).disabled
    type_into(rc, "Stichprobe in % der Stadt (1 bis 20)", "2.5")  # a dot that is no thousands separator
    assert "mehrdeutig" in field(rc, "Stichprobe in % der Stadt (1 bis 20)").messages[0]


def test_an_invalid_lever_in_the_edited_copy_blocks_the_run(render):
    rc = render(compare_page.Page())
    rc.find(v.Checkbox, label="Die bearbeitete Kopie mitvergleichen").widget.v_model = True
    type_into(rc, "Lotsinnen und Lotsen, VZÄ (0 bis 500)", "5000")
    assert field(rc, "Lotsinnen und Lotsen, VZÄ (0 bis 500)").messages == ["Zu groß: höchstens 500"]
    assert start_button(rc).disabled


def test_a_comparison_runs_in_the_background_and_shows_its_charts_with_numbers(render):
    rc = render(compare_page.Page())
    set_tiny_run(rc)
    start_button(rc).click()
    rc.find(v.Html, class_="vergleich-ergebnis").wait_for(timeout=60)
    result = state.latest()
    assert result.names == ["baseline", "lotsen"] and result.seeds == [0] and result.scale == 0.01
    assert "synthetisches Düsseldorf · 1 Seed ·" in page_text(rc)
    assert "Wirkung auf einen Blick" in page_text(rc)
    wait_for_chart(rc, "abstand_arm_nicht_arm")
    # The other tabs' charts are drawn ahead in the background, before any tab is opened (the tabs
    # stay lazy: no re-render of the page while a planner types), and a tab opened shows its chart
    # from there at once.
    from sim.ui import widgets

    for name in ("kette_reichweite", "waermebild_raeume"):
        wait_until(lambda: widgets.drawn_ahead(name, [id(result)]) is not None, 60)
        assert not charts(rc, name)  # not built: its tab was never opened
    rc.find(v.Tabs).widget.v_model = 1  # "Reichweite je Lebensphase"
    import base64

    ahead = widgets.drawn_ahead("kette_reichweite", [id(result)])
    shown = wait_for_chart(rc, "kette_reichweite", timeout=5).attributes["src"]
    assert shown == "data:image/png;base64," + base64.b64encode(ahead.png).decode("ascii")
    # Why the Lotsen reach whom they reach: their caseload and what of it is used, in the scenario's row.
    capacity = compare_results.capacity_table(result).set_index(["Szenario", "Angebot"])
    lotse = capacity.loc[(result.titles["lotsen"], "Lotsin / Lotse (Geburtsklinik und Familienzentrum)")]
    assert lotse["Kapazität"].endswith("Kontakte je Monat") and lotse["Grenze der Reichweite"]


def test_a_running_comparison_can_be_cancelled_and_the_ui_stays_usable(render):
    rc = render(compare_page.Page())
    # Long enough (six runs of 18 years, about 6 s) that it is still running when cancelled.
    type_into(rc, "Seeds (1 bis 10)", "3")
    type_into(rc, "Jahre (1 bis 18)", "18")
    start_button(rc).click()
    rc.find(v.Btn, children=["Abbrechen"]).wait_for(timeout=30)
    type_into(rc, "Einschwingjahre (0 bis 6)", "2")  # the form still answers while it computes
    assert state.burn_in_text.value == "2"
    rc.find(v.Btn, children=["Abbrechen"]).widget.click()
    wait_until(lambda: "Abgebrochen; es gilt weiter das vorige Ergebnis." in page_text(rc), timeout=30)
    assert state.latest() is None
    # The cancel came while it computed: fewer runs were done than asked.
    done = state.progress.value
    assert done.total == 6 and done.done < done.total, f"the comparison had finished before it was cancelled ({done})"


def test_the_edited_copy_is_compared_under_its_own_title(render):
    rc = render(compare_page.Page())
    set_tiny_run(rc)
    rc.find(v.Checkbox, label="Die bearbeitete Kopie mitvergleichen").widget.v_model = True
    type_into(rc, "Titel (deutsch)", "Viele Lotsen")
    type_into(rc, "Lotsinnen und Lotsen, VZÄ (0 bis 500)", "200")
    start_button(rc).click()
    rc.find(v.Html, class_="vergleich-ergebnis").wait_for(timeout=60)
    result = state.latest()
    assert result.titles["mein_szenario"] == "Viele Lotsen"
    assert next(s for s in result.scenarios if s.name == "mein_szenario").levers.lotse_fte == 200


def test_two_sessions_keep_their_own_settings_and_results():
    first, second = new_session("erste"), new_session("zweite")
    with first:
        state.seeds_text.set("7")
        state.history.set(("ein Ergebnis",))
    with second:
        assert state.seeds_text.value == state.DEFAULT_SEEDS and state.latest() is None
    with first:
        assert state.seeds_text.value == "7" and state.latest() == "ein Ergebnis"
    close(first)
    close(second)


# ---- Budget ----------------------------------------------------------------------------------
def test_budget_without_a_comparison_explains_where_to_start(render):
    rc = render(budget.Page())
    assert "Noch kein Vergleich gerechnet" in page_text(rc)


def test_budget_shows_costs_cost_per_child_and_offers_png_and_csv(render, tiny_comparison):
    state.history.set((tiny_comparison,))
    rc = render(budget.Page())
    table = budget.effectiveness_table(tiny_comparison)
    assert {"EUR je zusätzlich erreichtem Kind", "EUR je vermiedenem Fall", "Mehrkosten Mio. EUR/Jahr"} <= set(table.columns)
    lotsen = table.set_index("Szenario").loc[tiny_comparison.titles["lotsen"]]
    assert lotsen["Mehrkosten Mio. EUR/Jahr"] > 0
    wait_for_chart(rc, "budget_angebote_jahre")
    wait_for_chart(rc, "kosten_wirkung")
    text = page_text(rc)
    assert "Grafik als PNG" in text and "Tabelle als CSV" in text and "synthetisches Düsseldorf · 1 Seed ·" in text
    by_year = budget.cost_by_service_and_year(tiny_comparison)
    assert "Mehrkosten je Jahr ggü. Status quo (Mio. EUR)" in by_year.columns and (by_year.iloc[:, 2] >= 0).all()
    public = budget.cost_by_service_and_year(tiny_comparison, "public")
    assert public.iloc[:, 2].sum() > by_year.iloc[:, 2].sum(), "all public budgets pay more than the city alone"
    assert "Planungszeitraum 2027-2027" in text and "Haushalt der Stadt" in text
    wait_for_chart(rc, "pfad_jahre")


# ---- Erkunden --------------------------------------------------------------------------------
def test_explore_steps_the_live_model_and_inspects_a_child(render):
    rc = render(in_app_layout(explore.Page))
    wait_for_chart(rc, "monatsreihen", timeout=0)
    wait_for_chart(rc, "karte", timeout=0)
    before = chart_source(rc, "monatsreihen")
    shown = rc.find(v.Select, label="Kind").widget.v_model
    step = rc.find(v.Btn, children=["Step"]).widget
    step.click()
    step.click()
    wait_until(lambda: "Step: 2" in page_text(rc), timeout=30)
    assert chart_source(rc, "monatsreihen") != before
    assert "Weg durch die Kette" in page_text(rc) and "Lebensphase" in str(rc.find().widgets)
    kinder = rc.find(v.Select, label="Kind").widget
    assert kinder.items and all(item["text"].startswith("Kind ") for item in kinder.items)
    # The child shown before the steps is still shown (the sample is drawn anew each month).
    assert kinder.v_model == shown and shown is not None


def test_explore_refuses_a_sample_above_the_bound(render):
    rc = render(in_app_layout(explore.Page))
    type_into(rc, "Stichprobe: Anteil der Stadt in % (1 bis 20)", "30")
    assert field(rc, "Stichprobe: Anteil der Stadt in % (1 bis 20)").messages == ["Erlaubt: 1 bis 20"]
    assert rc.find(v.Btn, children=["Übernehmen"]).widget.disabled


def test_explore_rebuilds_the_model_with_a_changed_lever(render):
    rc = render(in_app_layout(explore.Page))
    type_into(rc, "Lotsinnen und Lotsen, VZÄ (0 bis 500)", "30")
    type_into(rc, "Seed (Zufallszahl, 0 bis 9999)", "4")
    rc.find(v.Btn, children=["Übernehmen"]).widget.click()
    applied = state.explore_applied.value
    assert applied["levers"].lotse_fte == 30 and applied["seed"] == 4 and applied["scale"] == state.EXPLORE_DEFAULT_SCALE
    wait_until(lambda: "mit geänderten Hebeln · synthetisches Düsseldorf · Stichprobe 2 % · Seed 4" in page_text(rc))


def test_the_page_starts_from_the_question_and_the_horizon_says_what_it_cannot_measure_yet(render):
    rc = render(compare_page.Page())
    assert {"1. Ihre Frage", "2. Szenarien", "4. Rechnen"} <= set(page_text(rc).splitlines())  # order: e2e test
    question = rc.find(v.Select, label="Was wollen Sie wissen?").widget
    question.v_model = "schuleingang"
    assert state.question.value == "schuleingang"
    # the default 3 years end in 2028: school entry cannot show children who grew up with the levers
    assert "Noch nicht messbar bis 2028" in page_text(rc) and "erst ab 2033" in page_text(rc)
    rc.find(v.Btn, children=["bis 2030"]).widget.click()
    assert state.years_text.value == "5" and state.burn_in_text.value == "1"
    assert "Noch nicht messbar bis 2030" in page_text(rc)
    rc.find(v.Btn, children=["langfristig (bis 2040)"]).widget.click()
    assert state.years_text.value == "15"
    assert "Noch nicht messbar" not in page_text(rc) and "lässt sich in diesen Jahren messen" in page_text(rc)
    # Negative control: reach is measured at once, so even the default 3 years can answer it.
    question.v_model = "erreichen"
    type_into(rc, "Jahre (1 bis 18)", "3")
    assert "Noch nicht messbar" not in page_text(rc)


def test_the_verdict_answers_the_question_for_the_chosen_children_and_waits_where_it_cannot_measure(tiny_comparison):
    table = compare_results.verdict_table(tiny_comparison, "alle", "beide")  # 2026-2027, Lotsen from 2027
    by = table.set_index(["Indikator", "Gruppe"])["Urteil"]
    assert by[("Schuleingang: unzureichende Deutschkenntnisse", "SGB II")] == "noch nicht messbar (ab 2033)"
    assert by[("Mit 18 ohne Ausbildung, Arbeit oder Schule (NEET)", "alle Kinder")] == "noch nicht messbar (ab 2045)"
    assert not by[("Kette erreicht: alle Kinder 0-17", "alle Kinder")].startswith("noch nicht")
    sgb2 = compare_results.verdict_table(tiny_comparison, "erreichen", "sgb2")
    assert list(sgb2["Gruppe"]) == ["SGB II"] and list(sgb2["Indikator"]) == ["Kette erreicht: alle Kinder 0-17"]
    # What the Lotsen cost, in words, and what limits their reach (their caseload changed).
    cost = compare_results.cost_answer(tiny_comparison)["lotsen"]
    assert cost.startswith("Mehrkosten für den Haushalt der Stadt: im Jahr 2027 +") and "2026–2027 zusammen" in cost
    limits = compare_results.capacity_answer(tiny_comparison)["lotsen"]
    assert len(limits) == 1 and limits[0].startswith("Lotsin / Lotse") and "Grenze der Reichweite:" in limits[0]


def test_capacity_figures_are_those_of_the_years_the_levers_act_in_full(tiny_comparison):
    """The capacity a planner reads for a scenario is that of the years its levers act in full (the
    Lotsen from 2027), not a mean with the status-quo years before the start, which would show 20
    FTE as fewer; the status quo's figures cover every reported year."""
    use = tiny_comparison.capacity_use().set_index(["scenario", "service"])
    lotse, base = use.loc[("lotsen", "lotse")], use.loc[("baseline", "lotse")]
    assert (lotse["from_year"], lotse["to_year"]) == (2027, 2027) and (base["from_year"], base["to_year"]) == (2026, 2027)
    runs = tiny_comparison.run_capacity
    per_year = runs[(runs["scenario"] == "lotsen") & (runs["service"] == "lotse")].groupby("year")["capacity"].mean()
    assert lotse["capacity"] == pytest.approx(per_year[2027])
    assert per_year[2026] < 0.5 * per_year[2027]  # before the start: the status quo's FTE; a mean of both years hides the lever
    row = compare_results.capacity_table(tiny_comparison).set_index(["Szenario", "Angebot"])
    assert row.loc[(tiny_comparison.titles["lotsen"], "Lotsin / Lotse (Geburtsklinik und Familienzentrum)"), "Jahre"] == "2027–2027"


def _smallest_text_on_screen(fig, display_px: float) -> float:
    """The smallest text of a figure in CSS pixels when its PNG is shown display_px wide."""
    from PIL import Image
    import io

    from sim.ui.widgets import png_bytes, smallest_text_px

    natural = Image.open(io.BytesIO(png_bytes(fig))).size[0]
    return smallest_text_px(fig) * display_px / natural


def test_erkunden_charts_have_text_of_at_least_11_px_at_the_default_size(monkeypatch):
    from sim.engine.model import PreventionChainModel
    from sim.ui import citymap

    model = PreventionChainModel("baseline", seed=0, scale=0.01, years=2, burn_in_years=0)
    for _ in range(3):
        model.step()
    drawn = {}
    monkeypatch.setattr(explore, "drawing_of", lambda fig: drawn.setdefault("monatsreihen", fig))
    monkeypatch.setattr(explore, "ChartImage", lambda *args, **kwargs: None)
    explore.MonthlyCharts(model)
    drawn["karte"] = citymap.schematic_map(citymap.live_values(model, "sgb2_share"), model.city, "Kinder in SGB-II-Haushalten", "%",
                                           subtitle="synthetisches Düsseldorf · Monat 2026-03 · ein Seed (0)")
    for name, fig in drawn.items():
        assert _smallest_text_on_screen(fig, explore.CHART_DISPLAY_PX) >= explore.MIN_TEXT_PX, name
    # Negative control: the map as it was drawn before (7.5 in wide, 9 pt) falls below 11 px.
    old = drawn["karte"]
    old.set_size_inches(7.5, 7)
    assert _smallest_text_on_screen(old, explore.CHART_DISPLAY_PX) < explore.MIN_TEXT_PX


def test_every_chart_image_has_a_text_alternative_from_its_titles():
    from matplotlib.figure import Figure

    from sim.ui.widgets import figure_alt

    fig = Figure()
    fig.suptitle("Monatsreihen")
    fig.subplots(1, 2)[0].set_title("U3-Warteliste")
    assert figure_alt(fig) == "Diagramm: Monatsreihen; U3-Warteliste"
    assert figure_alt(Figure()) == "Diagramm: ohne Titel"


def test_chart_ticks_are_german_and_the_path_names_each_year_once(tiny_comparison):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import AutoLocator

    from sim.analysis import charts

    axis_fig, ax = plt.subplots()
    ax.plot([100_200, 100_800], [-2_500, 3_500])
    ax.xaxis.set_major_formatter(charts.GermanTicks())
    ax.yaxis.set_major_formatter(charts.GermanTicks())
    axis_fig.canvas.draw()
    assert "100\u202f500" in [t.get_text() for t in ax.get_xticklabels()]  # not "100500"
    assert "\u22122\u202f000" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(axis_fig)

    fig = charts.path_chart(tiny_comparison)  # two years, 2026 and 2027
    try:
        fig.canvas.draw()
        years = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
        assert years and len(years) == len(set(years)), years
        # Negative control: matplotlib's own locator puts ticks between the years, named alike.
        fig.axes[0].xaxis.set_major_locator(AutoLocator())
        fig.canvas.draw()
        years = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
        assert len(years) > len(set(years)), years
    finally:
        plt.close(fig)
