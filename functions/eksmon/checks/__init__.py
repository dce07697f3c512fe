"""Checks: pure functions of (snapshot, thresholds, now) -> problems. One module per check.

Every module here is imported by ``eksmon.registry.load()``; a module registers its check with
``@check(...)``. Modules whose name starts with ``_`` hold shared helpers only.
"""
