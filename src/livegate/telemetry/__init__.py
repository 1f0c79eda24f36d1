"""Versioned JSON-lines telemetry and its contract checker (docs/architecture.md §4).

Layer L2: imports only :mod:`livegate.domain`, :mod:`livegate.config`, the stdlib and jsonschema.
The names below load their module on first use: a session writes telemetry without
importing the checker (and jsonschema, ~0.1 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livegate.telemetry.check import CHECK_OK, CHECK_UNREADABLE, CHECK_VIOLATION, CheckResult, check_telemetry
    from livegate.telemetry.schema import TELEMETRY_SCHEMA_VERSION, load_schema
    from livegate.telemetry.writer import TelemetryWriter

_HOMES = {
    "CHECK_OK": "check",
    "CHECK_UNREADABLE": "check",
    "CHECK_VIOLATION": "check",
    "CheckResult": "check",
    "check_telemetry": "check",
    "TELEMETRY_SCHEMA_VERSION": "schema",
    "load_schema": "schema",
    "TelemetryWriter": "writer",
}

__all__ = [
    "CHECK_OK",
    "CHECK_UNREADABLE",
    "CHECK_VIOLATION",
    "TELEMETRY_SCHEMA_VERSION",
    "CheckResult",
    "TelemetryWriter",
    "check_telemetry",
    "load_schema",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` (PEP 562); AttributeError for other names."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"livegate.telemetry.{home}"), name)
