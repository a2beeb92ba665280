"""Präventionskette-Sim: agent-based simulator of a municipal prevention chain against child poverty."""

import os

# The engine's matrix products are small; BLAS threads only fight with the process pool for
# the cores. Set before numpy is first imported through this package.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
