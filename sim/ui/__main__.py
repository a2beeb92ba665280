"""`python -m sim.ui [--host 127.0.0.1] [--port 8765]`: serve the planners' UI (what `make ui` runs).

It listens on 127.0.0.1 unless told otherwise, so only this computer reaches it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import warnings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def solara_args(host: str, port: int) -> list[str]:
    # --no-check-version: no request to the package index at start (offline, city intranets).
    return ["run", "sim.ui.app", "--host", host, "--port", str(port), "--production", "--no-open",
            "--no-check-version", "--log-level", "warning"]


def quiet_environment(env: dict | None = None) -> dict:
    """The UI sends nothing out of the machine.

    Solara's usage statistics (Mixpanel) and its banner are off, and its JavaScript and CSS come from the
    solara-assets package; for a file that package lacks (KaTeX, for formulas, which the UI does
    not use) the server would ask a public CDN, so the CDN address points at a closed local port.
    """
    env = dict(os.environ if env is None else env)
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    env.setdefault("SOLARA_ASSETS_CDN", "http://127.0.0.1:9/")
    # No "This website runs on Solara" over the pages' footnotes; the browser tab says what it is.
    env.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    env.setdefault("SOLARA_THEME_TITLE", "Präventionskette-Sim")
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.ui", description="Oberfläche für Planerinnen und Planer")
    parser.add_argument("--host", default=DEFAULT_HOST, help="Adresse (Vorgabe 127.0.0.1: nur dieser Rechner)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    print(f"Präventionskette-Sim: Oberfläche unter http://{args.host}:{args.port}/  (Beenden mit Strg+C)", flush=True)
    os.environ.update(quiet_environment())
    # Larger comparisons use a process pool. Forking this multi-threaded server could copy a lock
    # another session's thread holds; a fork server starts workers from a clean process instead.
    multiprocessing.set_start_method("forkserver", force=True)
    warnings.filterwarnings("ignore", message=".*use_state` found despite early return.*")  # inside Mesa's SolaraViz
    from solara.__main__ import main as solara_main

    sys.argv = ["solara", *solara_args(args.host, args.port)]
    solara_main()


if __name__ == "__main__":
    main()
