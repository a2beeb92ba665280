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
# with a contrast of at least 4.5:1 on white (WCAG 2.1 AA) for errors and inactive tabs.
CSS = """
.tabelle { border-collapse: collapse; font-size: 0.9em; margin: 0.3em 0 0.8em 0; }
.tabelle th, .tabelle td { border-bottom: 1px solid #d0d7de; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
.tabelle th { background: #eef2f5; font-weight: 600; }
.tabelle td:first-child, .tabelle th:first-child { text-align: left; }
.v-btn:focus-visible, .v-tab:focus-visible, input:focus-visible, .v-input--selection-controls__ripple:focus-visible,
a:focus-visible { outline: 3px solid #1a4f8b !important; outline-offset: 2px; }
.error--text, .v-messages.error--text { color: #b00020 !important; caret-color: #b00020 !important; }
.v-tabs > .v-tabs-bar .v-tab:not(.v-tab--active) { color: rgba(0, 0, 0, 0.74) !important; }
.theme--dark.v-tabs > .v-tabs-bar .v-tab:not(.v-tab--active) { color: rgba(255, 255, 255, 0.85) !important; }
"""


class GermanPage(v.VuetifyTemplate):
    """Marks the page as German (`<html lang="de">`) for screen readers and hyphenation: Solara's
    page template has no lang attribute, so a tiny Vue component sets it once mounted."""

    template = traitlets.Unicode("""
<template><span style="display: none"></span></template>
<script>
module.exports = { mounted() { document.documentElement.setAttribute("lang", "de"); } };
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
