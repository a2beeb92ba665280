"""A per-agent reference implementation of the engine's monthly rules, written for clarity.

The engine (`sim/`) keeps the population as arrays and steps each mechanism over all children at
once. This package does the same months the slow, obvious way: every household and every child is
a plain `mesa.Agent` with its own attributes and its own `step()`, every service is a provider
agent that goes through the children one by one, and the model loops over them in Python.

It serves two purposes:

- an oracle for the vectorised engine: on small cities, over many seeds, both give the same
  indicator distributions within statistical tolerance (`tests/test_reference.py`);
- the honest baseline for the speed-up in `experiments/benchmark.py`.

It reads the same inputs (Sozialraum table, service catalogue, parameters, levers) through sim's
loaders and shares the declared constants, but none of the engine's control flow. It draws its own
random numbers (Mesa's `model.random` and `model.rng`), so it matches the engine in distribution,
not bit for bit. Costs and the per-Sozialraum breakdown are left out: it counts indicators for all
children and by poverty status.
"""

from reference.model import ReferenceModel

__all__ = ["ReferenceModel"]
