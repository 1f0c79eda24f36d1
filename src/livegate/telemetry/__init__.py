"""Versioned JSON-lines telemetry and its contract checker (docs/architecture.md §4).

Layer L2: imports only :mod:`livegate.domain`, :mod:`livegate.config`, the stdlib and jsonschema.
"""

from livegate.telemetry.check import CHECK_OK, CHECK_UNREADABLE, CHECK_VIOLATION, CheckResult, check_telemetry
from livegate.telemetry.schema import TELEMETRY_SCHEMA_VERSION, load_schema
from livegate.telemetry.writer import TelemetryWriter

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
