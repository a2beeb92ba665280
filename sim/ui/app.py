"""The app: three pages, German titles, one tab each.

    solara run sim.ui.app --host 127.0.0.1        (or `make ui`, `python -m sim.ui`)
"""

from __future__ import annotations

import solara
import solara.lab

from sim.ui import budget, compare_page, explore

TITLE = "Präventionskette-Sim · synthetisches Düsseldorf"


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
        solara.Column(children=children, style={"width": "100%"})
    return main


routes = [
    solara.Route(path="/", component=explore.Page, label="Erkunden", layout=Layout),
    solara.Route(path="vergleichen", component=compare_page.Page, label="Vergleichen"),
    solara.Route(path="budget", component=budget.Page, label="Budget"),
]
