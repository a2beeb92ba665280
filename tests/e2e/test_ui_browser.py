"""The planners' UI in a real headless Chromium: what a planner does, and five planners at once.

Both tests use tiny runs (1 % of the city, one seed, one year), so that they finish in seconds
on two busy cores; what they check does not depend on the size.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import expect

from sim.inputs.scenario import SCENARIO_DIR
from sim.ui.compare_results import CHAIN_CHART, HEATMAP_CHART
from sim.ui.explore import MIN_TEXT_PX

TINY = {"scale": "1", "seeds": "1", "years": "2", "burn_in": "0"}  # the standard levers start in 2027
RESULT = ".vergleich-ergebnis"
SLOW = 120_000  # ms: a comparison waits for a free compute slot behind the other sessions'


# ---- what a planner does, as browser steps ----------------------------------------------------
def open_page(browser, url: str, outside: list[str] | None = None, height: int = 1600, context=None):
    """A new tab; Solara gives every tab its own session (kernel, state, websocket)."""
    context = context or browser.new_context(viewport={"width": 1400, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    if outside is not None:
        page.on("request", lambda request: outside.append(request.url) if leaves_machine(request.url) else None)
    page.goto(url)
    return page


def leaves_machine(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in ("data", "blob", "about") and parsed.hostname not in ("127.0.0.1", "localhost")


def type_into(page, key: str, text: str) -> None:
    field = page.locator(f".feld-{key} input").first
    field.fill(text)
    field.press("Enter")  # fields take a value on Enter or when left


def run_settings(page, settings: dict[str, str]) -> None:
    page.locator(".vergleich-starten").wait_for()  # the form is there and wired up
    for key, text in settings.items():
        type_into(page, key, text)
    page.get_by_text(f"× {settings['seeds']} Seeds =").wait_for()  # the server has the values


def edit_copy(page, title: str, lotse_fte: str) -> None:
    if not page.get_by_role("checkbox", name="Die bearbeitete Kopie mitvergleichen").is_checked():
        page.get_by_text("Die bearbeitete Kopie mitvergleichen").click()
    type_into(page, "kopie-titel", title)
    type_into(page, "lotse_fte", lotse_fte)


def choose(page, key: str, text: str) -> None:
    """Pick an entry of a drop-down (Vuetify's select: click the field, then the option)."""
    page.locator(f".feld-{key}").click()
    page.get_by_role("option", name=text).click()
    expect(page.locator(f".feld-{key}")).to_contain_text(text)


def start(page) -> None:
    button = page.locator(".vergleich-starten")
    expect(button).to_be_enabled()  # the server has taken every typed value
    button.click()


def result_row(page, title: str) -> list[str]:
    """The cells of one scenario's row in the result table (first cell: the scenario)."""
    row = page.locator(f"{RESULT} tr", has_text=title).first
    row.wait_for(timeout=SLOW)
    return row.locator("td").all_inner_texts()


def extra_cost(page, title: str) -> float:
    """Mehrkosten Mio. EUR/Jahr of one scenario, as the table shows it ("+12,9")."""
    text = result_row(page, title)[1]
    return float(re.match(r"[+−-]?[\d\u202f]+(,\d+)?", text.strip()).group(0).replace("\u202f", "").replace(",", "."))


def assert_german_csv(text: str) -> None:
    """kosten_wirkung.csv as a German spreadsheet reads it: semicolons, decimal commas, counts as integers."""
    rows = [line.split(";") for line in text.strip().splitlines()]
    header, lotsen = rows[0], next(r for r in rows if r[0].startswith("Lotsinnen und Lotsen"))
    cell = dict(zip(header, lotsen))
    assert re.fullmatch(r"-?\d+,\d\d", cell["Mehrkosten Mio. EUR/Jahr"]), cell  # "0,93", not "0.93"
    assert re.fullmatch(r"-?\d+", cell["zusätzlich erreichte Kinder/Jahr"]), cell  # "925", not "925,0"
    assert not any(re.fullmatch(r"-?\d+\.\d+", c) for r in rows for c in r), "a decimal point in the CSV"


AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"  # `make` installs it (npm ci)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def serious_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA rules on the page: the serious and critical findings that stand in
    two runs half a second apart. The page mends Vuetify's ARIA once per animation frame
    (app.GermanPage), so a finding caught while Solara re-renders a widget is gone in the second
    run; a real fault is in both."""
    assert AXE.exists(), f"{AXE} is missing: `make` installs axe-core with npm (tests/e2e/package-lock.json)"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    runs = []
    for _ in range(2):
        runs.append(page.evaluate("""async tags => {
            await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .flatMap(v => v.nodes.map(n => `${v.id} (${v.impact}): ${n.target.join(" ")}`));
        }""", WCAG_AA))
        page.wait_for_timeout(500)
    return sorted(set(runs[0]) & set(runs[1]))


def low_contrast_notices(page) -> list[str]:
    """Texts in notices (Vuetify's alerts) with less than 4.5:1 against their tinted background
    (WCAG 1.4.3). axe leaves them "incomplete", as Vuetify draws the tint in a pseudo element."""
    return page.evaluate("""() => {
      const rgb = s => s.match(/[\\d.]+/g).map(Number);
      const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                         return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
      return [...document.querySelectorAll('.v-alert')].filter(a => a.offsetParent !== null).flatMap(alert => {
        const tint = getComputedStyle(alert, '::before');
        const o = parseFloat(tint.opacity || '0') * (rgb(tint.backgroundColor)[3] ?? 1);
        const bg = rgb(tint.backgroundColor).slice(0, 3).map(v => o * v + (1 - o) * 255);  // on the white page
        const holders = [...alert.querySelectorAll('*')].filter(el =>
          [...el.childNodes].some(n => n.nodeType === 3 && n.nodeValue.trim()));
        return holders.flatMap(el => {
          const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(bg)].sort((x, y) => y - x);
          const ratio = (a + 0.05) / (b + 0.05);
          return ratio < 4.5 ? [`${alert.className.split(' ').pop()}: ${ratio.toFixed(2)}`] : [];
        });
      });
    }""")


def chart(page, name: str):
    image = page.locator(f"img.chart-{name}")
    image.wait_for(timeout=SLOW)
    return image


def smallest_chart_text(page) -> dict[str, float]:
    """The smallest text of each chart shown, in CSS pixels: its size in the PNG (the page's
    data-smallest-text-px) scaled by how wide the image is drawn."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('img[data-smallest-text-px]')]
        .filter(img => img.offsetParent !== null && img.naturalWidth > 0)
        .map(img => [img.className, img.clientWidth / img.naturalWidth * parseFloat(img.dataset.smallestTextPx)]))""")


def assert_chart_text_readable(page, expected: set[str]) -> None:
    """Every chart shown has text of at least MIN_TEXT_PX CSS pixels at 1400 px width, and a chart
    whose name starts with each of `expected` is among them."""
    sizes = smallest_chart_text(page)
    assert all(any(name.startswith(e) for name in sizes) for e in expected), (expected, sizes)
    small = {name: round(px, 1) for name, px in sizes.items() if px < MIN_TEXT_PX}
    assert not small, f"chart text below {MIN_TEXT_PX} px: {small}"


# ---- the tests ----------------------------------------------------------------------------------
def test_a_planner_changes_a_lever_compares_and_reads_the_budget(server, browser, screenshots):
    url, process = server
    outside: list[str] = []
    page = open_page(browser, url, outside)

    # Erkunden: Mesa's SolaraViz steps the live model; the map and the inspector come with it.
    page.get_by_role("button", name="Step").click()
    page.get_by_role("button", name="Step").click()
    page.get_by_text("Step: 2").wait_for()
    chart(page, "karte")
    page.get_by_text("Weg durch die Kette").wait_for()
    page.screenshot(path=screenshots / "erkunden.png")
    assert_chart_text_readable(page, {"chart-monatsreihen", "chart-karte"})
    assert page.evaluate("document.documentElement.lang") == "de"
    assert page.get_by_text("This website runs on Solara").count() == 0
    assert page.locator("img.chart-karte").get_attribute("alt").startswith("Diagramm: ")
    assert page.get_by_text("Steuerung (Mesa)").count() == 1 and page.get_by_text("Use Threads").count() == 0
    assert serious_violations(page) == []

    # Vergleichen begins with the question: what to know, for which children, by when.
    page.get_by_role("tab", name="Vergleichen").click()
    page.locator(".vergleich-starten").wait_for()
    boxes = [page.locator(f".vergleich-{card}").bounding_box()["y"] for card in ("frage", "szenarien", "rechnen")]
    assert boxes[0] < boxes[1] and boxes[0] < boxes[2], boxes
    choose(page, "frage", "Kommen Kinder besser vorbereitet in die Schule? (Deutsch, Sportverein)")
    page.get_by_role("button", name="bis 2030").click()
    expect(page.locator(".feld-years input").first).to_have_value("5")
    # The too-short warning, before anything runs: school entry cannot show the levers by 2030 ...
    expect(page.locator(".vergleich-messbar")).to_contain_text("Noch nicht messbar bis 2030")
    expect(page.locator(".vergleich-messbar")).to_contain_text("erst ab 2033")
    assert low_contrast_notices(page) == []
    # Negative control: Vuetify's own orange (2.2:1) on the same notice is found.
    page.evaluate("""() => { const notice = document.querySelector('.vergleich-messbar');
        notice.querySelectorAll('*').forEach(el => el.style.transition = 'none');  // no colour fading in between
        notice.style.transition = 'none'; notice.style.setProperty('color', '#fb8c00', 'important'); }""")
    assert low_contrast_notices(page) and low_contrast_notices(page)[0].startswith("vergleich-messbar")
    page.evaluate("document.querySelector('.vergleich-messbar').style.removeProperty('color')")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="langfristig (bis 2040)").click()
    expect(page.locator(".feld-years input").first).to_have_value("15")
    expect(page.locator(".vergleich-messbar")).to_contain_text("lässt sich in diesen Jahren messen")  # ... by 2040 it can
    # a first comparison (status quo and Lotsen), tiny
    run_settings(page, TINY)
    expect(page.locator(".vergleich-messbar")).to_contain_text("Noch nicht messbar bis 2027")
    start(page)
    result_row(page, "Lotsinnen und Lotsen")
    # The verdict answers the question: not measurable yet, rather than "unclear" or "no change".
    verdicts = page.locator(".vergleich-urteil td:last-child").all_inner_texts()
    assert verdicts and set(verdicts) == {"noch nicht messbar (ab 2033)"}, verdicts
    page.locator(".vergleich-antwort", has_text="Mehrkosten für den Haushalt der Stadt").wait_for()
    expect(page.locator(".vergleich-fertig")).to_be_in_viewport(timeout=10_000)  # the result comes into view
    page.get_by_text("synthetisches Düsseldorf · 1 Seed · 1 % der Stadt · 2 Jahre").first.wait_for()
    numbers_before = page.locator(RESULT).inner_text()
    chart_before = chart(page, "abstand_arm_nicht_arm").screenshot()

    # ... a wrong value stops everything at its field ...
    edit_copy(page, "Mehr Lotsen (Test)", "viele")
    page.get_by_text("Bitte eine Zahl eingeben, z. B. 20, 2,5 oder 1.000").wait_for()
    expect(page.locator(".vergleich-starten")).to_be_disabled()
    # German number entry: "1.000" is a thousand (too many Lotsen), "2.5" is ambiguous and refused.
    type_into(page, "lotse_fte", "1.000")
    page.get_by_text("Zu groß: höchstens 500").wait_for()
    type_into(page, "lotse_fte", "2.5")
    page.get_by_text("„2.5“ ist mehrdeutig").first.wait_for()
    expect(page.locator(".vergleich-starten")).to_be_disabled()

    # ... then a lever changed in the edited copy and a second comparison.
    type_into(page, "lotse_fte", "200")
    start(page)
    assert extra_cost(page, "Mehr Lotsen (Test)") > extra_cost(page, "Lotsinnen und Lotsen") > 0
    page.get_by_text("Gegenüber dem vorigen Vergleich").wait_for()
    page.locator(".vergleich-urteil", has_text="Urteil").wait_for()  # the plain verdict per indicator
    assert page.locator(RESULT).inner_text() != numbers_before
    assert chart(page, "abstand_arm_nicht_arm").screenshot() != chart_before
    page.screenshot(path=screenshots / "vergleichen.png")
    assert_chart_text_readable(page, {"chart-abstand_arm_nicht_arm"})
    for tab, name in (("Reichweite je Lebensphase", CHAIN_CHART), ("Karte (schematisch)", "karte_"),
                      ("Stadtbezirke und Sozialraumtypen", HEATMAP_CHART)):
        page.get_by_role("tab", name=tab).click()
        page.locator(f"img[class*='chart-{name}']").first.wait_for(timeout=SLOW)
        assert_chart_text_readable(page, {f"chart-{name}"})
    page.get_by_role("tab", name="Abstand arm / nicht arm").click()
    assert serious_violations(page) == []  # with the result: verdict, tables, charts
    assert low_contrast_notices(page) == []  # the green "Ergebnis fertig" too

    # Saving under a standard scenario's name is refused at the field; the file stays as it was.
    standard = (SCENARIO_DIR / "lotsen.yaml").read_bytes()
    type_into(page, "kopie-name", "lotsen")
    page.get_by_text("„lotsen“ gibt es schon als Szenario").first.wait_for()
    page.locator(".vergleich-speichern").click()
    page.get_by_text("Bitte die rot markierten Felder korrigieren").first.wait_for()
    assert (SCENARIO_DIR / "lotsen.yaml").read_bytes() == standard

    # Budget: costs, cost per child, charts as PNG and tables as CSV.
    page.get_by_role("tab", name="Budget").click()
    page.locator(".budget-wirkung", has_text="Mehr Lotsen (Test)").wait_for()
    chart(page, "budget_angebote_jahre")
    with page.expect_download() as table:
        page.get_by_role("button", name="Tabelle als CSV").first.click()
    assert_german_csv(open(table.value.path(), encoding="utf-8-sig").read())
    with page.expect_download() as image:
        page.get_by_role("button", name="Grafik als PNG").first.click()
    assert open(image.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    page.screenshot(path=screenshots / "budget.png")
    assert_chart_text_readable(page, {"chart-kosten_wirkung", "chart-pfad_jahre", "chart-kumuliert", "chart-budget_angebote_jahre"})
    assert serious_violations(page) == []
    # Negative control: a button without a name that stays on the page is found in both runs.
    page.evaluate("document.body.appendChild(Object.assign(document.createElement('button'), {id: 'ohne-namen'}))")
    assert any(v.startswith("button-name (critical): #ohne-namen") for v in serious_violations(page))
    page.evaluate("document.getElementById('ohne-namen').remove()")

    # A reload keeps what was typed on Vergleichen (in this browser); results are recomputed.
    page.get_by_role("tab", name="Vergleichen").click()
    page.locator(".vergleich-starten").wait_for()
    page.reload()
    expect(page.locator(".feld-years input").first).to_have_value(TINY["years"])
    expect(page.locator(".feld-scale input").first).to_have_value(TINY["scale"])
    expect(page.locator(".feld-kopie-name input").first).to_have_value("lotsen")
    expect(page.locator(".feld-frage")).to_contain_text("Kommen Kinder besser vorbereitet in die Schule?")
    assert "make run" not in page.inner_text("body")  # no developer's command in a planner's page

    assert process.poll() is None
    assert outside == [], f"requests left the machine: {outside[:5]}"
    page.context.close()


def test_a_finished_result_comes_into_view_in_a_laptop_window(server, browser):
    """At 1400 × 900 the result starts below the fold; when it is ready the page scrolls to it."""
    url, _ = server
    page = open_page(browser, url + "vergleichen", height=900)
    run_settings(page, TINY)
    form_top = page.locator(".vergleich-rechnen").bounding_box()["y"]
    start(page)
    expect(page.locator(".vergleich-fertig")).to_be_in_viewport(timeout=SLOW)
    page.wait_for_timeout(1000)  # the smooth scroll
    assert page.locator(".vergleich-rechnen").bounding_box()["y"] < form_top - 100, "the page scrolled to the result"


def test_five_planners_compare_at_once_and_each_sees_only_their_own_result(server, browser):
    url, process = server
    lotse_fte = [40, 80, 120, 160, 200]
    tabs = browser.new_context(viewport={"width": 1400, "height": 1000})  # one browser, five sessions
    pages = [open_page(browser, url + "vergleichen", context=tabs) for _ in lotse_fte]
    for k, (page, fte) in enumerate(zip(pages, lotse_fte)):
        run_settings(page, TINY)
        page.get_by_text("Lotsinnen und Lotsen in Geburtskliniken").click()  # only status quo and the copy
        edit_copy(page, f"Sitzung {k}", str(fte))
    for page in pages:  # all five start before any is done
        start(page)
    costs = []
    for k, page in enumerate(pages):
        costs.append(extra_cost(page, f"Sitzung {k}"))
        table = page.locator(RESULT).inner_text()
        assert [j for j in range(len(pages)) if f"Sitzung {j}" in table] == [k]
    assert costs == sorted(costs) and len(set(costs)) == len(costs), costs  # each its own lever value
    assert process.poll() is None
    fresh = open_page(browser, url, context=tabs)
    fresh.get_by_role("button", name="Step").wait_for()  # the server still serves a new session
    tabs.close()
