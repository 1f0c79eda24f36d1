"""Buffered writer of ``telemetry.jsonl`` (docs/architecture.md §4); telemetry is not the book of record."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TextIO

from livegate.telemetry.schema import (
    RESERVED_FIELDS,
    TELEMETRY_SCHEMA_VERSION,
    SchemaSummary,
    load_schema,
    summarize_schema,
)

#: Lines written between flushes to the OS by default.
DEFAULT_FLUSH_EVERY_LINES = 256


class TelemetryWriter:
    """Write one JSON object per line: ``schema_version``, ``t``, ``kind``, ``ts_ms``, then the fields.

    ``t`` starts at 1 and grows by one per line. Lines are buffered and handed to the OS
    every ``flush_every_lines`` lines and on :meth:`flush` / :meth:`close` (a session
    flushes at every heartbeat).

    A write error (disk full, file system gone) does not raise from :meth:`emit`: it is
    kept in :attr:`error`, later lines are dropped, and the session's storage check turns
    it into a halt (fail closed without losing the caller's own work).

    Parameters
    ----------
    path:
        File to create (truncated if it exists, unless ``append``).
    flush_every_lines:
        Lines between flushes, >= 1.
    append:
        Keep an existing file and continue its ``t`` sequence (for a resumed run).

    Raises
    ------
    ValueError
        If ``flush_every_lines`` < 1.
    OSError
        If the file cannot be opened.
    """

    __slots__ = (
        "_checked", "_encode", "_file", "_flush_every", "_hb_usd", "_path", "_pending", "_summary", "_t", "error",
    )  # fmt: skip

    def __init__(self, path: Path, *, flush_every_lines: int = DEFAULT_FLUSH_EVERY_LINES, append: bool = False) -> None:
        if flush_every_lines < 1:
            raise ValueError(f"flush_every_lines must be >= 1, got {flush_every_lines}")
        self._path = path
        self._flush_every = flush_every_lines
        self._summary: SchemaSummary = summarize_schema(load_schema())
        #: Per kind, the field names of the last line that passed the schema checks.
        self._checked: dict[str, frozenset[str]] = {}
        self._t = _last_t(path) if append and path.exists() else 0
        self._pending = 0
        #: The last heartbeat's two USD floats and their text: the same float objects again reuse the text.
        self._hb_usd: tuple[float, float, str] | None = None
        self._encode = _LineEncoder()
        #: The first write error as text, ``""`` while every write succeeded.
        self.error = ""
        self._file: TextIO | None = path.open("a" if append else "w", encoding="utf-8", newline="\n")

    @property
    def path(self) -> Path:
        """Return the telemetry file path."""
        return self._path

    @property
    def last_t(self) -> int:
        """Return the ``t`` of the last line written, 0 before the first."""
        return self._t

    def emit(self, kind: str, ts_ms: int, /, **fields: object) -> None:
        """Write one telemetry line.

        Parameters
        ----------
        kind:
            A kind the shipped schema knows (e.g. ``fill``, ``heartbeat``).
        ts_ms:
            Clock time, ms since the epoch.
        **fields:
            Line content. ``Decimal`` becomes ``float``; enums become their values; nested
            lists and dicts are allowed. Do not pass ``schema_version``, ``t``, ``kind`` or
            ``ts_ms``: an anomaly's own kind goes in ``anomaly_kind``.

        Raises
        ------
        ValueError
            If the kind is unknown, a field the schema requires for it is missing, a field is
            reserved, a number is NaN or infinite, or the writer is closed.
        TypeError
            If ``ts_ms`` is not an int or a field value is not JSON-ready.
        """
        if self._file is None:
            raise ValueError(f"telemetry writer for {self._path} is closed")
        if type(ts_ms) is not int:
            raise TypeError(f"ts_ms must be an int of ms since the epoch, got {type(ts_ms).__name__}")
        checked = self._checked.get(kind)
        if checked is None or checked != fields.keys():  # the same field names as last time: checked then
            self._check_fields(kind, fields)
            self._checked[kind] = frozenset(fields)
        line: dict[str, object] = {
            "schema_version": TELEMETRY_SCHEMA_VERSION,
            "t": self._t + 1,
            "kind": kind,
            "ts_ms": ts_ms,
        }
        line.update(fields)
        try:  # one encoding pass; Decimals become floats on the way
            text = self._encode(line) + "\n"
        except (TypeError, ValueError):  # name the field at fault (or convert what the fast pass could not)
            for name, value in fields.items():
                line[name] = _jsonable(value, name)
            text = _ENCODE(line) + "\n"
        self._write(text)

    def emit_heartbeat(
        self,
        ts_ms: int,
        *,
        quotes_processed: int,
        trades_processed: int,
        intents: int,
        fills: int,
        open_orders: int,
        pnl_total_usd: float,
        drawdown_usd: float,
    ) -> None:
        """Write one ``heartbeat`` line: the line :meth:`emit` writes for these fields, in this order.

        A session writes one per second of event time (a day's replay: 86,400), so the line
        is formatted directly rather than through the JSON encoder (about a third of the
        instructions; the same text: ints as JSON writes them, floats as their ``repr``).
        The USD figures' text is kept: passed the very same float objects as the last line
        (:class:`FloatOf` hands back the same object while a figure is unchanged), the line
        reuses it instead of formatting both again.

        Raises
        ------
        ValueError
            If the writer is closed or a USD figure is not finite.
        TypeError
            If a count or ``ts_ms`` is not an int, or a USD figure not a float.
        """
        plain = (
            type(ts_ms) is int
            and type(quotes_processed) is int
            and type(trades_processed) is int
            and type(intents) is int
            and type(fills) is int
            and type(open_orders) is int
            and type(pnl_total_usd) is float
            and type(drawdown_usd) is float
        )
        if not plain:
            self.emit(
                "heartbeat", ts_ms, quotes_processed=quotes_processed, trades_processed=trades_processed,
                intents=intents, fills=fills, open_orders=open_orders, pnl_total_usd=pnl_total_usd,
                drawdown_usd=drawdown_usd,
            )  # fmt: skip  # the general path says what is wrong (or converts what it can)
            return
        if self._file is None:
            raise ValueError(f"telemetry writer for {self._path} is closed")
        usd = self._hb_usd
        if usd is not None and usd[0] is pnl_total_usd and usd[1] is drawdown_usd:
            tail = usd[2]  # the very float objects of the last line (a float never changes): its text
        else:
            if not (math.isfinite(pnl_total_usd) and math.isfinite(drawdown_usd)):
                raise ValueError(f"telemetry heartbeat USD figures are not finite ({pnl_total_usd}, {drawdown_usd})")
            tail = f'"pnl_total_usd":{pnl_total_usd!r},"drawdown_usd":{drawdown_usd!r}}}\n'
            self._hb_usd = (pnl_total_usd, drawdown_usd, tail)
        self._write(
            f'{{"schema_version":{TELEMETRY_SCHEMA_VERSION},"t":{self._t + 1},"kind":"heartbeat","ts_ms":{ts_ms},'
            f'"quotes_processed":{quotes_processed},"trades_processed":{trades_processed},"intents":{intents},'
            f'"fills":{fills},"open_orders":{open_orders},{tail}'
        )

    def _write(self, text: str) -> None:
        """Write one encoded line (errors go to :attr:`error`, later lines are dropped)."""
        if self.error or self._file is None:
            return
        try:
            self._file.write(text)
        except OSError as exc:
            self.error = f"{self._path}: {exc}"
            return
        self._t += 1
        self._pending += 1
        if self._pending >= self._flush_every:
            self.flush()

    def _check_fields(self, kind: str, fields: Mapping[str, object]) -> None:
        """Raise ValueError when ``kind`` is unknown or ``fields`` name a reserved field or lack a required one."""
        if kind not in self._summary.kinds:
            raise ValueError(f"unknown telemetry kind {kind!r}; known: {sorted(self._summary.kinds)}")
        reserved = RESERVED_FIELDS.intersection(fields)
        if reserved:
            hint = "; put an anomaly's own kind in anomaly_kind" if "kind" in reserved else ""
            raise ValueError(f"telemetry fields {sorted(reserved)} are reserved (set by the writer){hint}")
        missing = [name for name in self._summary.required.get(kind, ()) if name not in fields]
        if missing:
            raise ValueError(f"telemetry {kind} line lacks required fields {missing}")

    def flush(self) -> None:
        """Hand buffered lines to the OS (no fsync: telemetry is not the book of record); errors go to :attr:`error`."""
        if self._file is not None and not self.error:
            try:
                self._file.flush()
            except OSError as exc:
                self.error = f"{self._path}: {exc}"
        self._pending = 0

    def close(self) -> None:
        """Flush and close; closing twice is harmless; errors go to :attr:`error`."""
        if self._file is not None:
            self.flush()
            handle, self._file = self._file, None
            try:
                handle.close()
            except OSError as exc:
                self.error = self.error or f"{self._path}: {exc}"

    def __enter__(self) -> TelemetryWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class FloatOf:
    """``float(value)`` of a Decimal that changes now and then, converted once per change.

    While the value equals the last one (sign of a zero included: ``-0`` and ``0`` give
    different floats) the same float object is returned, so
    :meth:`TelemetryWriter.emit_heartbeat` can reuse its text by identity. A heartbeat's
    PnL and drawdown stay the same between two fills while the session holds no position.
    """

    __slots__ = ("_number", "_value")

    def __init__(self) -> None:
        self._value: Decimal | None = None
        self._number = 0.0

    def __call__(self, value: Decimal) -> float:
        """Return ``float(value)``: the last float object while ``value`` is unchanged."""
        last = self._value
        if last is not None and value == last and (value or value.is_signed() is last.is_signed()):
            return self._number
        self._value = value
        self._number = number = float(value)
        return number


def _decimal_as_float(value: object) -> object:
    """``default`` of the one-pass encoder: a Decimal becomes a float; anything else goes to :func:`_jsonable`."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_decimal_as_float)
_ENCODE = _ENCODER.encode
"""Encode a line once: NaN or infinity, or a type JSON cannot carry, raises and the slow pass names the field."""


class _LineEncoder:
    """``_ENCODE`` without building the C encoder again for every line (the same text).

    :meth:`json.JSONEncoder.encode` makes a new C encoder (``json.encoder.c_make_encoder``)
    per call; this one is made once, with the same settings and its own circular-reference
    ``markers``. A failed pass leaves the containers it was in held by ``markers``, so the
    encoder is made again after any error (they are freed). Without the C accelerator
    every line takes ``_ENCODE``.
    """

    __slots__ = ("_encode",)

    def __init__(self) -> None:
        self._encode = self._make()

    @staticmethod
    def _make() -> Callable[[object, int], Sequence[str]] | None:
        make = getattr(json.encoder, "c_make_encoder", None)  # the C accelerator is optional in CPython
        if make is None:
            return None
        e = _ENCODER
        try:  # an internal of the json module: another Python may take other arguments
            encode: Callable[[object, int], Sequence[str]] = make(
                {}, e.default, json.encoder.encode_basestring, e.indent, e.key_separator, e.item_separator,
                e.sort_keys, e.skipkeys, e.allow_nan,
            )  # fmt: skip
        except TypeError:
            return None  # every line takes _ENCODE
        return encode

    def __call__(self, line: dict[str, object]) -> str:
        """Return the JSON text of ``line``; raises as ``_ENCODE`` does."""
        encode = self._encode
        if encode is None:
            return _ENCODE(line)
        try:
            return "".join(encode(line, 0))
        except BaseException:
            self._encode = self._make()  # drop markers a failed pass may have left
            raise


def _jsonable(value: object, where: str) -> object:
    """Return ``value`` with Decimals as floats, after checking every number is finite."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, Decimal | float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"telemetry field {where} is not finite ({value})")
        return number
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{where}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"telemetry field {where} has type {type(value).__name__}, which JSON cannot carry")


def _last_t(path: Path) -> int:
    """Return the largest ``t`` in an existing telemetry file (0 when none is readable)."""
    last = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for text in handle:
            try:
                record = json.loads(text)
            except ValueError:
                continue
            t = record.get("t") if isinstance(record, dict) else None
            if isinstance(t, int) and not isinstance(t, bool):
                last = max(last, t)
    return last
