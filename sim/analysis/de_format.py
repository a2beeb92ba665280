"""German number formatting for every text planners read: decimal comma, thin space between thousands.

Kept apart from sim.report so that a caller (the benchmark chart) can use it without importing the
report's chart style.
"""

from __future__ import annotations

import pandas as pd


def de(value: float, digits: int = 1, sign: bool = False) -> str:
    """A number for reading: decimal comma, thin space between thousands, and a true minus sign
    (U+2212), as the charts write it. Downloads keep the hyphen a spreadsheet reads (widgets.csv_bytes)."""
    if value is None or pd.isna(value):
        return "–"
    value = round(float(value), digits) + 0.0  # no "-0" for a tiny negative number
    text = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    return text.replace(",", "\u202f").replace(".", ",").replace("-", "\u2212")


def de_interval(mean: float, lo: float, hi: float, digits: int = 1, scale: float = 1.0) -> str:
    if pd.isna(lo):
        return de(mean * scale, digits, sign=True)
    return f"{de(mean * scale, digits, sign=True)} [{de(lo * scale, digits)}; {de(hi * scale, digits)}]"


def de_share(fraction: float) -> str:
    """A share of the city as a German writes it: "2 %", "0,5 %" (a decimal only where needed)."""
    percent = fraction * 100
    return f"{de(percent, 0 if percent == round(percent) else 1)} %"
