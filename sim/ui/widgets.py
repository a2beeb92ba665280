"""Small building blocks shared by the pages: lever form, number fields, choices, figure + table."""

from __future__ import annotations

import base64
import html
import io
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

import ipyvuetify as v
import matplotlib.pyplot as plt
import pandas as pd
import solara
import solara.lab
import traitlets

from sim.analysis.de_format import de
from sim.inputs.levers import Levers
from sim.ui import lever_fields as lf

FIX_FIELDS = "Bitte die rot markierten Felder korrigieren; solange wird nichts gerechnet."


@solara.component
def NumberField(label: str, value: str, on_value: Callable[[str], None], error: str | None = None, key: str = ""):
    """A text field for a number; the problem with what was typed shows right under it."""
    solara.InputText(label, value=str(value), on_value=on_value, error=error or False,
                     classes=[f"feld-{key}"] if key else [])


@solara.component
def Choice(label: str, choices: dict[str, str], value: str, on_value: Callable[[str], None], key: str = ""):
    """A drop-down that shows German labels and hands back the value behind them."""
    items = [{"text": text, "value": v} for v, text in choices.items()]
    solara.v.Select(label=label, items=items, v_model=value, on_v_model=on_value, dense=True,
                    class_=f"feld-{key}" if key else "")


@solara.component
def LeverForm(base: Levers, values: solara.Reactive[dict], errors: dict[str, str], open_group: str | None = None):
    """Every lever the UI offers, grouped; values holds what the planner typed, on top of base."""

    def setter(key: str):
        return lambda value: values.set({**values.value, key: value})

    for group in lf.GROUPS:
        fields = [f for f in lf.FIELDS if f.group == group]
        n_errors = sum(1 for f in fields if f.key in errors)
        summary = group + (f" – {n_errors} Fehler" if n_errors else "")
        with solara.Details(summary=summary, expand=(group == open_group) or n_errors > 0):
            with solara.Column(gap="2px"):
                for f in fields:
                    value = values.value.get(f.key, lf.shown(base, f.key))
                    if f.kind == "number":
                        NumberField(f.label, value, setter(f.key), errors.get(f.key), key=f.key)
                    elif f.kind == "share":
                        solara.SliderFloat(f.label, value=float(value), on_value=setter(f.key), min=0.0, max=1.0,
                                           step=0.05, thumb_label="always")
                    else:
                        Choice(f.label, f.choices, value, setter(f.key), key=f.key)
    other = {k: v for k, v in base.model_dump().items() if k in ("place_shift", "fee_waiver") and v}
    if other:
        solara.Text("Aus dem Szenario übernommen (hier nicht änderbar): " + ", ".join(
            {"place_shift": "Verschiebung von Plätzen", "fee_waiver": "Gebührenbefreiungen"}[k] for k in other),
            style={"font-size": "0.85em", "color": "#555"})


PNG_DPI = 110


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
    return buffer.getvalue()


def smallest_text_px(fig) -> float:
    """The height of the figure's smallest visible text in pixels of its PNG (after it was drawn)."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) * PNG_DPI / 72 if sizes else 0.0


def figure_alt(fig) -> str:
    """A chart's text alternative from its own titles (suptitle, then each panel's title)."""
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) is not None else []
    titles += [ax.get_title() for ax in fig.axes]
    titles = [t.replace("\n", " ").strip() for t in titles if t and t.strip()]
    return "Diagramm: " + ("; ".join(dict.fromkeys(titles)) if titles else "ohne Titel")


@dataclass(frozen=True)
class Drawing:
    png: bytes
    alt: str
    smallest_text_px: float = 0.0  # at the PNG's own size; the page scales it with the image

    @property
    def width_px(self) -> int:
        return int.from_bytes(self.png[16:20], "big")  # the PNG header (IHDR) holds the width


def drawing_of(fig) -> Drawing:
    png = png_bytes(fig)
    return Drawing(png, figure_alt(fig), smallest_text_px(fig))


@solara.component
def ChartImage(drawing: Drawing, name: str, note_for_alt: str = ""):
    """A chart as an image with its text alternative (WCAG 1.1.1); solara.Image has no alt."""
    source = "data:image/png;base64," + base64.b64encode(drawing.png).decode("ascii")
    alt = drawing.alt + (f". {note_for_alt}" if note_for_alt else "")
    # data-smallest-text-px lets the browser test measure the text a planner sees (WCAG 1.4.4).
    solara.HTML(tag="img", attributes={"src": source, "alt": alt, "data-smallest-text-px": f"{drawing.smallest_text_px:.2f}"},
                classes=[f"chart-{name}"], style=f"width: 100%; max-width: {drawing.width_px}px")  # never blown up


# pyplot keeps global state: one figure at a time across all sessions' drawing threads.
_draw_lock = threading.Lock()


def draw_png(make_figure: Callable[[], object]) -> Drawing:
    with _draw_lock:
        fig = make_figure()
        try:
            return drawing_of(fig)
        finally:
            plt.close(fig)


# Charts drawn ahead, in one quiet background thread, before their tab is opened: keyed by the
# chart's name and dependencies as FigureWithTable has them (dependencies hold id() of the result).
# The thread touches no reactive state, so the page does not re-render while a planner types (an
# eagerly built tab would). Each entry keeps its result object alive, so that no later result can
# be given the same id() while the entry exists.
_drawn_ahead: dict[tuple, tuple[object, Drawing]] = {}
_drawn_ahead_lock = threading.Lock()  # sessions draw ahead in threads of their own
_DRAWN_AHEAD_KEPT = 12  # the charts of the last four comparisons; the oldest go first


def drawn_ahead(name: str, dependencies: list | None) -> Drawing | None:
    entry = _drawn_ahead.get((name, *(dependencies or [])))
    return entry[1] if entry else None


def draw_ahead(charts: list[tuple[str, list, Callable[[], object]]], owner: object) -> threading.Thread:
    """Draw these charts (name, dependencies, make_figure) of the result `owner` one after another
    in the background."""
    def work():
        for name, dependencies, make_figure in charts:
            key = (name, *dependencies)
            if key in _drawn_ahead:
                continue
            try:
                drawing = draw_png(make_figure)
            except Exception:  # the tab draws it again when opened, and shows the error there
                continue
            with _drawn_ahead_lock:
                _drawn_ahead[key] = (owner, drawing)
                while len(_drawn_ahead) > _DRAWN_AHEAD_KEPT:
                    _drawn_ahead.pop(next(iter(_drawn_ahead)))

    thread = threading.Thread(target=work, name="charts-ahead", daemon=True)
    thread.start()
    return thread


def _whole_numbers_as_integers(table: pd.DataFrame) -> pd.DataFrame:
    """Columns of floats that are all whole numbers (counts) as integers, so no "1767,0" appears."""
    out = table.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values) and values.dropna().apply(float.is_integer).all():
            out[column] = values.astype("Int64")
    return out


def csv_bytes(table: pd.DataFrame) -> bytes:
    # Semicolon and decimal comma: opens correctly in a German spreadsheet program.
    return _whole_numbers_as_integers(table).to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


_NUMBER_CELL = re.compile(r"[+\-\u2212]?\d|–$")  # "+1,1 [0,9; 1,3]", "1 490", "64 %", "–"


def table_html(table: pd.DataFrame) -> str:
    """A table as a planner reads it: German numbers (counts as integers), no row numbers; columns of
    numbers aligned right, columns of words left."""
    shown = _whole_numbers_as_integers(table)
    for column in shown.columns:
        values = shown[column]
        if pd.api.types.is_integer_dtype(values):
            shown[column] = [de(v, 0) for v in values]
        elif pd.api.types.is_float_dtype(values):
            shown[column] = [de(v, 2) for v in values]
    cells = shown.astype(object).where(shown.notna(), "–").astype(str)
    numeric = [bool(len(cells)) and all(_NUMBER_CELL.match(x.strip()) for x in cells[c]) for c in cells.columns]
    attr = [' class="zahl"' if n else "" for n in numeric]
    head = "".join(f"<th{a}>{html.escape(str(c))}</th>" for c, a in zip(cells.columns, attr))
    rows = "".join("<tr>" + "".join(f"<td{a}>{html.escape(x)}</td>" for x, a in zip(row, attr)) + "</tr>"
                   for row in cells.itertuples(index=False))
    return f'<table class="tabelle"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


class ScrollIntoView(v.VuetifyTemplate):
    """Brings itself into view once it is shown: a result that appears below the fold is scrolled to
    (give it a new key for every new result)."""

    template = traitlets.Unicode("""
<template><span class="nach-oben-gerollt"></span></template>
<script>
module.exports = { mounted() { this.$el.scrollIntoView({ behavior: "smooth", block: "start" }); } };
</script>
""").tag(sync=True)


class BrowserStorage(v.VuetifyTemplate):
    """One entry of the browser's localStorage, kept in sync with `value`: on mounting, a saved
    entry is handed to Python; after that every new value is saved. Nothing leaves the browser."""

    key = traitlets.Unicode("").tag(sync=True)
    value = traitlets.Unicode("").tag(sync=True)
    template = traitlets.Unicode("""
<template><span style="display: none"></span></template>
<script>
module.exports = {
  mounted() {
    const saved = window.localStorage.getItem(this.key);
    if (saved !== null && saved !== this.value) { this.value = saved; }
  },
  watch: { value(now) { window.localStorage.setItem(this.key, now); } },
};
</script>
""").tag(sync=True)


@solara.component
def KeptSettings(key: str, value: str, on_value: Callable[[str], None]):
    """Settings that survive a reload of the page in this browser."""
    BrowserStorage.element(key=key, value=value, on_value=on_value)


@solara.component
def Table(table: pd.DataFrame, classes: list[str] | None = None):
    """A whole table inside its card, scrolling sideways when it is wider than the page (no column cut)."""
    # tabindex: a table that scrolls sideways can be scrolled with the keyboard too (WCAG 2.1.1).
    solara.HTML(tag="div", unsafe_innerHTML=table_html(table), classes=["tabelle-rahmen", *(classes or [])],
                style={"overflow-x": "auto", "max-width": "100%"},
                attributes={"tabindex": "0", "role": "region", "aria-label": "Tabelle"})


@solara.component
def FigureWithTable(make_figure: Callable[[], object], table: pd.DataFrame, name: str, note: str = "",
                    dependencies: list | None = None, show_table: bool = True):
    """A chart, the numbers behind it as a table (unless the page shows them already), both as files.

    The chart is drawn in a thread (about a second each), so the page stays usable meanwhile.
    """
    drawing = solara.lab.use_task(lambda: drawn_ahead(name, dependencies) or draw_png(make_figure),
                                  dependencies=dependencies or [])
    if drawing.error:
        solara.Error(f"Die Grafik konnte nicht gezeichnet werden: {drawing.exception}")
    elif drawing.value is None or drawing.pending:
        with solara.Div(classes=[f"chart-{name}-laedt"]):
            solara.ProgressLinear(True)
            solara.Text("Grafik wird gezeichnet …", style={"font-size": "0.85em"})
    else:
        ChartImage(drawing.value, name, "Die Zahlen stehen in der Tabelle darunter." if show_table else "")
    if note:
        solara.Text(note, style={"font-size": "0.85em", "color": "#555"})
    with solara.Row():
        if drawing.value is not None and not drawing.pending:
            solara.FileDownload(drawing.value.png, filename=f"{name}.png", label="Grafik als PNG", mime_type="image/png")
        solara.FileDownload(csv_bytes(table), filename=f"{name}.csv", label="Tabelle als CSV", mime_type="text/csv")
    if show_table:
        with solara.Div(classes=[f"tabelle-{name}"]):
            Table(table)
