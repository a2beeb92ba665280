"""The planners' web UI (Solara): Erkunden, Vergleichen, Budget.

`make ui` (or `python -m sim.ui`) serves it on 127.0.0.1. The UI holds no model logic: it builds
`PreventionChainModel`s and calls `sim.analysis.compare.compare`, `sim.analysis.charts` and `sim.report` exactly as
the command line does. Every browser tab is its own Solara session with its own state.
"""
