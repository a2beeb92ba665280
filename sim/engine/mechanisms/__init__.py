"""One module per mechanism; each has a `step(model, t)` that works on whole arrays."""
