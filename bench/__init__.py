"""Benchmarks, run on demand (``make bench``), never in CI.

Each suite is a module of this package with a ``run(context) -> list[Result]``;
``python -m bench`` runs them against a fresh database schema and prints one table.
"""
