"""Hydra sweeps: the configuration schema and checks, the hooks after a sweep, its tables and charts."""
