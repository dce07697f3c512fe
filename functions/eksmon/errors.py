"""The errors that end a command, each with its own exit code (docs/reference.md, "The command line").

They live apart from the modules that raise them so that anything -- the engine, account
resolution, settings, Kubernetes access, the CLI -- can raise or catch them without importing
the others.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names every bad key (exit code 2)."""


class ScanAborted(RuntimeError):
    """The scan could not run at all (no credentials, no region): exit code 3."""


__all__ = ["ConfigError", "ScanAborted"]
