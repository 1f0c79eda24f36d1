"""Check a ``telemetry.jsonl`` file against the shipped contract (``livegate check-telemetry``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator

from livegate.telemetry.schema import load_schema

#: Exit codes of ``livegate check-telemetry`` (docs/architecture.md §4).
CHECK_OK = 0
CHECK_VIOLATION = 1
CHECK_UNREADABLE = 2

#: Errors reported before the checker only counts the remaining lines.
DEFAULT_MAX_ERRORS = 10


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Outcome of :func:`check_telemetry`.

    Parameters
    ----------
    code:
        0 valid, 1 contract violation, 2 missing or unreadable file.
    errors:
        The first errors, each starting with ``line <n>:`` (1-based) when tied to a line.
    lines:
        Lines in the file.
    """

    code: int
    errors: list[str] = field(default_factory=list)
    lines: int = 0


def check_telemetry(path: Path, *, max_errors: int = DEFAULT_MAX_ERRORS) -> CheckResult:
    """Validate every line of a telemetry file.

    A line violates the contract when it is not a JSON object, repeats a key, holds
    ``NaN``/``Infinity`` or a number too large for a finite float, fails the JSON Schema
    (draft 2020-12, shipped as ``telemetry.schema.json``), or its ``t`` is not greater
    than the previous line's.

    Parameters
    ----------
    path:
        The ``telemetry.jsonl`` file.
    max_errors:
        Errors to collect before the rest of the file is only counted.

    Returns
    -------
    CheckResult
        Code 0, 1 or 2 with the errors found; this function does not raise for bad input.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return CheckResult(CHECK_UNREADABLE, [f"cannot read {path}: {exc.strerror or exc}"], 0)
    validator = Draft202012Validator(load_schema())
    errors: list[str] = []
    previous_t: int | float | None = None
    lines = raw.splitlines()
    for number, data in enumerate(lines, start=1):
        if len(errors) >= max_errors:
            break
        record, problem = _parse(data)
        if problem is not None:
            errors.append(f"line {number}: {problem}")
            continue
        for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(part) for part in error.absolute_path) or "(line)"
            errors.append(f"line {number}: {where}: {error.message}")
        t = record.get("t")
        if isinstance(t, int | float) and not isinstance(t, bool):
            if previous_t is not None and t <= previous_t:
                errors.append(f"line {number}: t={t} is not greater than the previous t={previous_t}")
            previous_t = t
    code = CHECK_VIOLATION if errors else CHECK_OK
    return CheckResult(code, errors[:max_errors], len(lines))


def _parse(data: bytes) -> tuple[dict[str, object], str | None]:
    """Return the object on one line, or a description of why it is not a contract line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {}, f"not UTF-8 ({exc.reason} at byte {exc.start})"
    if not text.strip():
        return {}, "empty line"
    try:
        record = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except ValueError as exc:
        return {}, f"not valid JSON ({exc})"
    if not isinstance(record, dict):
        return {}, f"not a JSON object but {type(record).__name__}"
    return record, None


def _refuse_constant(token: str) -> object:
    raise ValueError(f"non-finite number {token} is not allowed")


def _finite_float(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise ValueError(f"number {token} does not fit a finite float")
    return number


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    record: dict[str, object] = {}
    for key, value in pairs:
        if key in record:
            raise ValueError(f"duplicate key {key!r}")
        record[key] = value
    return record
