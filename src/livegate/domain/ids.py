"""Deterministic identifiers (docs/architecture.md §3.6)."""

from __future__ import annotations

import hashlib
import re

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$")
#: ``lg`` + 10 hex digits of session id + ``-`` + 4 hex digits of strategy tag + ``-`` + base-36 sequence.
_LIVEGATE_ID_RE = re.compile(r"^lg[0-9a-f]{10}-[0-9a-f]{4}-[0-9a-z]+$")


def session_id_for(*parts: str) -> str:
    """Derive a 10-hex-digit session id from stable inputs (seed, config hash, inputs)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:10]


def strategy_tag(strategy_name: str) -> str:
    """Return a 4-character tag that stands for the strategy inside client order ids."""
    return hashlib.sha256(strategy_name.encode()).hexdigest()[:4]


def client_order_id(session_id: str, strategy_name: str, intent_seq: int) -> str:
    """Return the client order id for intent ``intent_seq`` of a session and strategy.

    The id is ``lg<session>-<tag>-<seq base 36>``: at most 36 characters of
    ``[A-Za-z0-9-]``, which fits Binance ``newClientOrderId`` (36, ``^[.A-Z:/a-z0-9_-]{1,36}$``),
    Alpaca ``client_order_id`` (128) and IB ``orderRef``.

    Raises
    ------
    ValueError
        If ``intent_seq`` is negative.
    """
    if intent_seq < 0:
        raise ValueError(f"intent_seq must be >= 0, got {intent_seq}")
    cid = f"lg{session_id}-{strategy_tag(strategy_name)}-{_base36(intent_seq)}"
    if not _CLIENT_ID_RE.match(cid):
        raise ValueError(f"client order id {cid!r} does not fit venue rules")
    return cid


def is_livegate_client_id(client_order_id: str) -> bool:
    """Return True for a client order id livegate made (:func:`client_order_id`: ``lg<session>-<tag>-<seq>``).

    Any other id on the account is an outside order (typed into the venue's web UI or sent
    by another program): livegate neither applies its reports nor cancels it in a halt.
    """
    return bool(_LIVEGATE_ID_RE.match(client_order_id))


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if value == 0:
        return "0"
    out = []
    while value:
        value, rem = divmod(value, 36)
        out.append(digits[rem])
    return "".join(reversed(out))
