r"""Ledger event kinds, the event value and the hash chain rule (docs/architecture.md §3.5).

Each event is chained to the previous one by

``hash = sha256(prev_hash + "\n" + canonical_json({"seq", "ts_ms", "kind", "payload"}))``

written as lowercase hex, with ``prev_hash`` of the first event equal to :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

#: ``prev_hash`` of the first event of every ledger.
GENESIS_HASH: Final = "0" * 64

#: A run started. Payload: session_id, mode, seed, config_hash, inputs (``sha256:<hex>`` of each
#: replayed file, or ``stream:<venue>``; never a path), strategy, livegate_version.
SESSION_STARTED: Final = "session_started"
#: A strategy asked for an order. Payload: client_order_id plus ``OrderIntent.to_record()``.
INTENT: Final = "intent"
#: The risk pipeline answered. Payload: client_order_id, approved, code (None when approved), detail, venue,
#: arrival (the quote the decision saw: bid, ask, mid as decimal strings, age_ms; None without a quote).
DECISION: Final = "decision"
#: Written immediately before the venue call. Payload: client_order_id, venue.
SUBMIT_REQUESTED: Final = "submit_requested"
#: A venue status report. Payload: client_order_id, status, venue_order_id, code, reason, filled_quantity.
ORDER_REPORT: Final = "order_report"
#: One execution. Payload: ``Fill.to_record()`` plus arrival_mid and slippage_bps (decimal strings, None
#: when the order has no arrival quote; positive slippage = cost), see :mod:`livegate.execution.quality`.
FILL: Final = "fill"
#: A cancel was asked for. Payload: client_order_id, reason.
CANCEL_REQUESTED: Final = "cancel_requested"
#: The kill switch moved. Payload: state, previous, reason, source, trigger_value, threshold.
TRADING_STATE_CHANGED: Final = "trading_state_changed"
#: Something unexpected that did not stop the run. Payload: kind, detail.
ANOMALY: Final = "anomaly"
#: A run ended. Payload: reason.
SESSION_ENDED: Final = "session_ended"
#: A crashed run continued (``livegate run --resume``). Payload: session_id, resume_index, next_seq, last_seq.
SESSION_RESUMED: Final = "session_resumed"
#: A reconciliation finished. Payload: trigger, venue, clean, drift, beyond_tolerance, resolved, balance_baseline.
RECONCILED: Final = "reconciled"
#: A fill's markout became known (issue 13): the first quote at or after ``horizon_ms`` past the fill.
#: Payload: client_order_id, fill_id, symbol, side, horizon_ms, fill_ts_ms, mid_at_fill, mid_after,
#: markout_bps (side sign x mid move in bps; positive = the market moved the fill's way).
MARKOUT: Final = "markout"
#: Inventory livegate did not make, found at startup and adopted as the starting inventory
#: (``[reconcile] on_unknown_inventory = "adopt"``). Payload: venue, positions (symbol -> signed
#: base quantity), balances (asset -> total), fills (``Fill.to_record()`` of earlier sessions'
#: leftover orders, imported once by venue trade id).
INVENTORY_ADOPTED: Final = "inventory_adopted"
#: An operator acted on the running session through its HTTP API (docs/operations.md). Payload:
#: action (kill, rearm, cancel-all, flatten), reason, source (``http``), actor, outcome.
OPERATOR_ACTION: Final = "operator_action"

#: Every kind the runtime writes; exports understand these.
KNOWN_KINDS: Final = frozenset(
    {
        SESSION_STARTED,
        INTENT,
        DECISION,
        SUBMIT_REQUESTED,
        ORDER_REPORT,
        FILL,
        CANCEL_REQUESTED,
        TRADING_STATE_CHANGED,
        ANOMALY,
        SESSION_ENDED,
        SESSION_RESUMED,
        RECONCILED,
        INVENTORY_ADOPTED,
        OPERATOR_ACTION,
        MARKOUT,
    }
)

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One durable, hash-chained ledger row.

    Parameters
    ----------
    seq:
        Position in the ledger, 1-based, without gaps.
    ts_ms:
        Clock time of the event, ms since the epoch.
    kind:
        Event kind, one of :data:`KNOWN_KINDS` for events the runtime writes.
    payload:
        JSON-ready content (str, int, bool, None, finite float, list, dict).
    prev_hash, hash:
        Hex sha256 of the previous event and of this event (see module docstring).
    """

    seq: int
    ts_ms: int
    kind: str
    payload: dict[str, object]
    prev_hash: str
    hash: str


_CANONICAL_ENCODE: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
"""``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``, built once."""


def canonical_json(value: object) -> str:
    """Return the canonical JSON text of ``value`` used for hashing and storage.

    Keys sorted, no whitespace, UTF-8 characters kept as is, NaN and infinities refused.

    Raises
    ------
    TypeError
        If ``value`` holds a type JSON cannot carry (see :func:`check_payload`).
    ValueError
        If ``value`` holds a non-finite float.
    """
    return _CANONICAL_ENCODE(value)


def chain_hash(prev_hash: str, seq: int, ts_ms: int, kind: str, payload: Mapping[str, object]) -> str:
    """Return the hex sha256 that chains an event to ``prev_hash``.

    Raises
    ------
    ValueError
        If the payload holds text that UTF-8 cannot encode (lone surrogates) or a non-finite float.
    """
    body = canonical_json({"seq": seq, "ts_ms": ts_ms, "kind": kind, "payload": payload})
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


def encode_payload(payload: Mapping[str, object]) -> bytes:
    """Return the canonical JSON of ``payload`` as UTF-8: the one encoding stored and hashed.

    The same checks as :func:`check_payload`, without a decoded copy.

    Raises
    ------
    TypeError
        If a value (or key) has a type the ledger does not store, naming its path.
    ValueError
        If a float is NaN or infinite, or a string holds a lone surrogate.
    """
    return encode_payload_plain(payload)[0]


def encode_payload_plain(payload: Mapping[str, object]) -> tuple[bytes, bool]:
    """Return :func:`encode_payload` of ``payload`` and whether it reads back as an equal value.

    The flag is True for a dict of only exact dicts (str keys), lists, str, int, bool, None
    and finite floats: ``json.loads`` of the text would equal ``payload``, so a caller can
    hand out ``payload`` itself instead of decoding the text again.

    Raises
    ------
    TypeError, ValueError
        As :func:`encode_payload`.
    """
    if type(payload) is dict and _exact_json(payload):
        try:
            return _EXACT_ENCODE(payload), True
        except UnicodeEncodeError:
            pass  # a lone surrogate: refused below, with the message canonical_json's text gives
    if not isinstance(payload, Mapping):
        raise TypeError(f"ledger payload must be a mapping, got {type(payload).__name__}")
    plain = type(payload) is dict and _plain_json(payload)
    if not plain:  # anything the quick walk does not vouch for gets the walk that names its path
        _check_value(payload, "payload")
    try:
        return canonical_json(payload).encode("utf-8"), plain
    except UnicodeEncodeError as exc:
        raise ValueError(f"ledger payload holds text that is not valid UTF-8: {exc}") from exc


def chain_hash_encoded(prev_hash: str, seq: int, ts_ms: int, kind: str, payload_utf8: bytes) -> str:
    """Return :func:`chain_hash` from the payload's canonical UTF-8 text, without encoding it again.

    ``canonical_json({"seq", "ts_ms", "kind", "payload"})`` sorts the keys (kind, payload,
    seq, ts_ms) and writes ``kind`` (a checked snake_case name) and the two ints as is, so
    the text around the payload is built directly; the digest is the same.
    """
    digest = hashlib.sha256(f'{prev_hash}\n{{"kind":"{kind}","payload":'.encode())
    digest.update(payload_utf8)
    digest.update(f',"seq":{seq:d},"ts_ms":{ts_ms:d}}}'.encode())
    return digest.hexdigest()


def check_kind(kind: object) -> str:
    """Return ``kind`` when it is a lowercase snake_case name of at most 64 characters.

    Raises
    ------
    ValueError
        If ``kind`` is not such a name.
    """
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise ValueError(f"ledger event kind must be lowercase snake_case, got {kind!r}")
    return kind


#: ``ts_ms`` must be below this: SQLite's INTEGER is a signed 64-bit number.
TS_MS_LIMIT: Final = 2**63


def check_ts_ms(ts_ms: object) -> int:
    """Return ``ts_ms`` when it is a non-negative int that fits SQLite's 64-bit INTEGER.

    Raises
    ------
    TypeError
        If ``ts_ms`` is not an int (bools are refused).
    ValueError
        If it is negative or does not fit in 63 bits.
    """
    if not isinstance(ts_ms, int) or isinstance(ts_ms, bool):
        raise TypeError(f"ts_ms must be an int of ms since the epoch, got {type(ts_ms).__name__}")
    if not 0 <= ts_ms < TS_MS_LIMIT:
        raise ValueError(f"ts_ms out of range: {ts_ms}")
    return ts_ms


def check_payload(payload: Mapping[str, object]) -> dict[str, object]:
    """Return a plain-dict copy of ``payload`` after checking every value is JSON-safe.

    Allowed: str, int, bool, None, finite float, list/tuple and dict with str keys.
    ``Decimal`` is refused on purpose: callers pass money as exact strings (``str(d)``),
    so an amount never turns into a float by accident.

    Raises
    ------
    TypeError
        If a value (or key) has another type, naming its path, e.g. ``payload.fills[2].price``.
    ValueError
        If a float is NaN or infinite, or a string holds a lone surrogate.
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"ledger payload must be a mapping, got {type(payload).__name__}")
    _check_value(payload, "payload")
    text = canonical_json(payload)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"ledger payload holds text that is not valid UTF-8: {exc}") from exc
    loaded: dict[str, object] = json.loads(text)
    return loaded


#: Exact types the quick walk accepts as they are (subclasses such as enums take the full check).
_PLAIN_SCALARS: Final = frozenset({str, int, bool, type(None)})


_EXACT_ENCODE: Final = msgspec.json.Encoder(order="sorted").encode
"""UTF-8 canonical JSON of a value :func:`_exact_json` vouches for, straight to bytes.

For exact dicts (str keys), lists, str, int (any size), bool and None, msgspec's sorted,
compact output is byte for byte ``canonical_json(value).encode("utf-8")``: keys sorted by
code point, the same escapes for quotes, backslashes and control characters, every other
character as is. Floats are left out: their text differs (msgspec writes ``1e16``,
:mod:`json` ``1e+16``). Checked over every code point and real ledgers by
``tests/ledger/test_ledger_exact_encode.py``.
"""


def _exact_json(value: object) -> bool:
    """Return True when ``value`` is built only of exact dict (str keys), list, str, int, bool and None (no float)."""
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _PLAIN_SCALARS and not _exact_json(item)):
                return False
        return True
    if type(value) is list:
        return all(type(item) in _PLAIN_SCALARS or _exact_json(item) for item in value)
    return type(value) in _PLAIN_SCALARS


def _plain_json(value: object) -> bool:
    """Return True when ``value`` is built only of exact dict (str keys), list, str, int, bool, None, finite float.

    The quick form of :func:`_check_value` (no path strings built): False does not mean
    invalid, only that the full check must decide and name what is wrong.
    """
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str or (type(item) not in _PLAIN_SCALARS and not _plain_json(item)):
                return False
        return True
    if kind is list:  # a tuple takes the full check (it is stored, and read back, as a list)
        return all(type(item) in _PLAIN_SCALARS or _plain_json(item) for item in value)  # type: ignore[attr-defined]
    return False


def _check_value(value: object, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is a non-finite float ({value!r}); the ledger stores finite numbers only")
        return
    if isinstance(value, Decimal):
        raise TypeError(f"{where} is a Decimal ({value}); pass money as an exact string, e.g. str(amount)")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a non-str key {key!r}")
            _check_value(item, f"{where}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]")
        return
    raise TypeError(f"{where} has type {type(value).__name__}, which the ledger does not store")
