"""The confidence level of every interval over seeds, and the t-interval itself, defined once
(the comparison, the sweep collection and the bootstrap of cost per effect use them)."""

from __future__ import annotations

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


def t_half_width(sd, n):
    """Half width of the CONFIDENCE t-interval of a mean over n seeds; NaN for fewer than two."""
    n = np.asarray(n)
    t = stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1))
    return np.where(n > 1, t * np.asarray(sd) / np.sqrt(np.maximum(n, 1)), np.nan)
