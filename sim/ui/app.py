"""The app: three pages, German titles, one tab each.

    solara run sim.ui.app --host 127.0.0.1        (or `make ui`, `python -m sim.ui`)
"""

from __future__ import annotations

import ipyvuetify as v
import solara
import solara.lab
import traitlets

from sim.ui import budget, compare_page, explore

TITLE = "Präventionskette-Sim · synthetisches Düsseldorf"
# The project's own styles: tables that fit their card, a focus that can be seen, and text colours
# with a contrast of at least 4.5:1 on white (WCAG 2.1 AA) for errors, notices and inactive tabs
# (Vuetify's orange, green and blue alert texts reach 2.2:1 to 3.7:1; axe cannot judge them, as their
# tint is a pseudo element, so the e2e test measures them itself).
CSS = """
.tabelle { border-collapse: collapse; font-size: 0.9em; margin: 0.3em 0 0.8em 0; }
.tabelle th, .tabelle td { border-bottom: 1px solid #d0d7de; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
.tabelle th { background: #eef2f5; font-weight: 600; }
.tabelle .zahl { text-align: right; }
.tabelle td.zahl { white-space: nowrap; }
.v-btn:focus-visible, .v-tab:focus-visible, input:focus-visible, .v-input--selection-controls__ripple:focus-visible,
a:focus-visible { outline: 3px solid #1a4f8b !important; outline-offset: 2px; }
.error--text, .v-messages.error--text { color: #b00020 !important; caret-color: #b00020 !important; }
.v-alert.warning--text { color: #8a4600 !important; }
.v-alert.success--text { color: #1b5e20 !important; }
.v-alert.info--text { color: #0b4f8a !important; }
.v-alert .solara-markdown, .v-alert .solara-markdown p, .v-alert .solara-markdown li { color: inherit; }
.v-tabs > .v-tabs-bar .v-tab:not(.v-tab--active) { color: rgba(0, 0, 0, 0.74) !important; }
.theme--dark.v-tabs > .v-tabs-bar .v-tab:not(.v-tab--active) { color: rgba(255, 255, 255, 0.85) !important; }
"""


class GermanPage(v.VuetifyTemplate):
    """Marks the page as German (`<html lang="de">`) for screen readers and hyphenation, and mends
    what the libraries' markup gets wrong for WCAG 2.1 AA (axe-core finds each in the e2e test):
    Solara's page template forbids zooming and has no lang attribute; its app bar has icon buttons
    without a name; Vuetify 2 puts aria-expanded on the expansion panel's div instead of its header
    button and role=button on a select's frame around its own input. A tiny Vue component fixes
    these once mounted and again whenever the page changes."""

    template = traitlets.Unicode("""
<template><span style="display: none"></span></template>
<script>
const ICON_NAMES = {"mdi-menu": "Menü ein- oder ausblenden", "mdi-fullscreen": "Vollbild",
                    "mdi-fullscreen-exit": "Vollbild beenden"};
// Mesa's SolaraViz labels its controls in English; the fixed ones read in German here.
const MESA_LABELS = {"Controls": "Steuerung (Mesa)", "Play Interval (ms)": "Pause zwischen zwei Monaten (ms)",
                     "Render Interval (steps)": "Monate je Bildaktualisierung", "Use Threads": "In eigenem Thread rechnen",
                     "Increase play interval to avoid skipping plots": "Längere Pause wählen, damit keine Grafik fehlt",
                     "Information": "Stand", "Page 0": "Diagramme"};
function translate(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const german = MESA_LABELS[node.nodeValue.trim()];
    if (german) node.nodeValue = german;
  }
  // Mesa's "Model Parameters" card is empty here (the settings are in the card above it).
  root.querySelectorAll(".v-card").forEach(card => {
    const title = card.querySelector(".v-card__title");
    if (title && title.textContent.trim() === "Model Parameters") card.style.display = "none";
  });
}
function mend(root) {
  translate(root);
  root.querySelectorAll(".v-expansion-panel[aria-expanded]").forEach(panel => {
    const header = panel.querySelector(":scope > .v-expansion-panel-header");
    if (header) header.setAttribute("aria-expanded", panel.getAttribute("aria-expanded"));
    panel.removeAttribute("aria-expanded");
  });
  // Vue patches only what changed: once opened, a select's frame gets aria-expanded back without its role.
  root.querySelectorAll(".v-input__slot[role=button], .v-input__slot[aria-expanded], .v-input__slot[aria-owns]").forEach(slot => {
    // The select's own input becomes the combobox; the frame around it stays a plain div.
    const input = slot.querySelector("input");
    if (input) {
      input.setAttribute("role", "combobox");
      for (const a of ["aria-expanded", "aria-haspopup", "aria-owns"]) {
        if (slot.hasAttribute(a)) input.setAttribute(a === "aria-owns" ? "aria-controls" : a, slot.getAttribute(a));
      }
    }
    for (const a of ["role", "aria-expanded", "aria-haspopup", "aria-owns"]) slot.removeAttribute(a);
  });
  root.querySelectorAll("[role=progressbar]:not([aria-label])").forEach(bar => bar.setAttribute("aria-label", "Wird berechnet"));
  root.querySelectorAll("button.v-btn--icon:not([aria-label])").forEach(button => {
    if (button.textContent.trim()) return;
    const icon = button.querySelector("i.v-icon");
    const name = icon && [...icon.classList].map(c => ICON_NAMES[c]).find(Boolean);
    button.setAttribute("aria-label", name || (button.classList.contains("v-app-bar__nav-icon")
                                                ? ICON_NAMES["mdi-menu"] : "Schaltfläche"));
  });
}
module.exports = {
  mounted() {
    document.documentElement.setAttribute("lang", "de");
    const viewport = document.querySelector("meta[name=viewport]");
    if (viewport) viewport.setAttribute("content", "width=device-width, initial-scale=1");  // zoom allowed
    mend(document);
    let queued = false;  // one mend per animation frame, however many changes came
    this.observer = new MutationObserver(() => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; mend(document); });
    });
    this.observer.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true,
                                          attributeFilter: ["aria-expanded", "role"]});
  },
  destroyed() { if (this.observer) this.observer.disconnect(); },
};
</script>
""").tag(sync=True)


@solara.component
def Layout(children=[]):  # noqa: B006 - Solara's layout signature
    route, all_routes = solara.use_route()
    router = solara.use_router()
    index = all_routes.index(route) if route in all_routes else 0
    paths = [solara.resolve_path(r, level=0) for r in all_routes]

    def go(i: int) -> None:
        router.push(paths[i])

    with solara.AppLayout(title=TITLE) as main:
        with solara.AppBar():
            with solara.lab.Tabs(value=index, on_value=go, align="center"):
                for r in all_routes:
                    solara.lab.Tab(r.label, classes=[f"seite-{r.path.strip('/') or 'erkunden'}"])
        # The style and the lang marker go inside the page's column: AppLayout would take a
        # first child of its own for the sidebar.
        solara.Column(children=[solara.Style(CSS), GermanPage.element(), *children], style={"width": "100%"})
    return main


routes = [
    solara.Route(path="/", component=explore.Page, label="Erkunden", layout=Layout),
    solara.Route(path="vergleichen", component=compare_page.Page, label="Vergleichen"),
    solara.Route(path="budget", component=budget.Page, label="Budget"),
]
