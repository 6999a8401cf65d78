"""Benchmarks of toolkit against the baselines a user would pick: ``python -m benchmarks``."""
