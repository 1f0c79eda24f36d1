"""The telemetry JSON Schema shipped in the package, and what it says per kind (docs/architecture.md §4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Final

#: Version written in every line; bump it when a field is removed or retyped.
TELEMETRY_SCHEMA_VERSION: Final = 1

SCHEMA_RESOURCE: Final = "telemetry.schema.json"

#: Keys the writer sets on every line; callers may not pass them as fields.
RESERVED_FIELDS: Final = frozenset({"schema_version", "t", "kind", "ts_ms"})


@dataclass(frozen=True, slots=True)
class SchemaSummary:
    """What the writer checks cheaply before a line is written.

    Parameters
    ----------
    kinds:
        Every kind the schema knows.
    required:
        Required fields per kind, beyond the common ones.
    """

    kinds: frozenset[str]
    required: dict[str, tuple[str, ...]]


def load_schema() -> dict[str, object]:
    """Return the telemetry JSON Schema (draft 2020-12) from the package data.

    Raises
    ------
    FileNotFoundError
        If the package was installed without its data files.
    """
    text = resources.files("livegate.telemetry").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


def summarize_schema(schema: dict[str, object]) -> SchemaSummary:
    """Extract the known kinds and the per-kind required fields from ``schema``.

    Raises
    ------
    ValueError
        If the schema does not have the ``properties.kind.enum`` / ``allOf`` if-then layout.
    """
    kinds = _list(_path(schema, "properties", "kind", "enum"))
    required: dict[str, tuple[str, ...]] = {}
    for rule in _list(schema.get("allOf", [])):
        kind = _path(rule, "if", "properties", "kind", "const")
        required[str(kind)] = tuple(str(name) for name in _list(_path(rule, "then", "required")))
    return SchemaSummary(kinds=frozenset(str(k) for k in kinds), required=required)


def _path(obj: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            raise ValueError(f"telemetry schema has an unexpected layout: no {'.'.join(keys)}")
        obj = obj[key]
    return obj


def _list(obj: object) -> list[object]:
    if not isinstance(obj, list):
        raise ValueError(f"telemetry schema has an unexpected layout: {obj!r} is not a list")
    return obj
