"""A read checkpoint's items as the rows a new checkpoint writes, without building them (issue 14 item 2).

The checkpoint job (:mod:`livegate.ledger.checkpoint_job`) reads the last checkpoint,
folds the events after it and writes a new one. Most of what it writes is the finished
orders, entries, intents and fills it read and never looked at: still unbuilt in their
archives (:mod:`livegate.ledger.checkpoint_archive`). Building each one only to write it
back took more memory than the rest of the job (about 1 KB per order kept until the
file was written). :class:`StoredRows` gives, for an item at a position of the
checkpoint's tables, the row :func:`livegate.ledger.checkpoint_encode.encode_body` would
write for the item built from it, read straight from the decoded columns.

Why the rows are the same: an item is built by setting its fields to the column values at
its position (:mod:`livegate.ledger.checkpoint_decode`), and the encoder writes each field
as text (``str`` of a ``Decimal`` gives back the text it was read from, exponent
included). An intent is named by its position in the checkpoint's intent table until it is
built; the encoder numbers intents by identity, so an intent that was built is named by
its object (:meth:`StoredRows.intent`) and the numbering comes out as when every item is
built. ``tests/recovery/test_checkpoint_passthrough.py`` compares the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from livegate.domain.orders import OrderIntent

Row = tuple[Any, ...]


class StoredRows:
    """The decoded columns of one checkpoint, read back as encoder rows (decimals as text, enums as values).

    Parameters
    ----------
    intent_columns:
        The intent table's columns (``INTENT_COLUMNS`` order) and ``built``, the intents
        built so far by position (None where not built).
    order_columns, entry_columns, decision_columns, fill_columns:
        The other tables' decoded columns, in their ``*_COLUMNS`` order.
    decision_at:
        Position in the decision table of the decision of the entry at a position.
    approved:
        The approved intents, as positions in the intent table.
    """

    __slots__ = (
        "_approved", "_built", "_decision_at", "_decisions", "_entries", "_fills", "_intents", "_orders", "_texts",
    )  # fmt: skip

    def __init__(
        self,
        intent_columns: Sequence[Sequence[Any]],
        built: list[OrderIntent | None],
        order_columns: Sequence[Sequence[Any]],
        entry_columns: Sequence[Sequence[Any]],
        decision_columns: Sequence[Sequence[Any]],
        decision_at: list[int],
        fill_columns: Sequence[Sequence[Any]],
        approved: list[int],
    ) -> None:
        self._intents, self._built = intent_columns, built
        self._orders, self._entries, self._decisions = order_columns, entry_columns, decision_columns
        self._decision_at, self._fills, self._approved = decision_at, fill_columns, approved
        #: The text of each decimal read, by the object's id: the columns share one ``Decimal`` per
        #: distinct text (``checkpoint_columns.Decimals``), so rows share one text per value too.
        self._texts: dict[int, str] = {}

    def _text(self, value: Decimal) -> str:
        """Return ``str(value)``, one string object per decimal object of the columns."""
        text = self._texts.get(id(value))
        if text is None:
            text = self._texts[id(value)] = str(value)
        return text

    def intent(self, ref: int) -> OrderIntent | int:
        """Return the intent at ``ref`` if it was built (the object the fold shares), else ``ref``."""
        built = self._built[ref]
        return ref if built is None else built

    def intent_row(self, ref: int) -> Row:
        """Return the intent table's row of the unbuilt intent at ``ref``."""
        sym, side, qty, otype, price, tif, post, reduce, strategy, seq, ts, flat, rth = (c[ref] for c in self._intents)
        text = self._text
        return (sym, side.value, text(qty), otype.value, "" if price is None else text(price), tif.value, post,
                reduce, strategy, seq, ts, flat, rth)  # fmt: skip

    def order_row(self, i: int, intent_ref: Callable[[OrderIntent | int], int]) -> Row:
        """Return the order table's row of the unbuilt order at ``i`` (``intent_ref`` numbers its intent)."""
        cid, ref, venue, status, filled, notional, venue_order_id, reason, updated = (c[i] for c in self._orders)
        return (cid, intent_ref(self.intent(ref)), venue, status.value, self._text(filled), self._text(notional),
                venue_order_id, reason, updated)  # fmt: skip

    def entry_row(self, i: int, intent_ref: Callable[[OrderIntent | int], int]) -> Row:
        """Return the entry table's row of the unbuilt entry at ``i`` (its intent numbered by ``intent_ref``)."""
        cid, first_ts, ref, decided, venue, venue_order_id, last_status, fees = (c[i] for c in self._entries)
        return (cid, first_ts, -1 if ref == -1 else intent_ref(self.intent(ref)), decided, venue, venue_order_id,
                last_status, self._text(fees))  # fmt: skip

    def decision_row(self, i: int) -> Row | None:
        """Return the decision table's row of the unbuilt entry at ``i``'s decision (None: it has none)."""
        if not self._entries[3][i]:
            return None
        k = self._decision_at[i]
        cid, approved, code, detail, venue, bid, ask, mid, age = (c[k] for c in self._decisions)
        if bid is None:
            return (cid, approved, code, detail, venue, "", "", "", 0)
        text = self._text
        return (cid, approved, code, detail, venue, text(bid), text(ask), text(mid), age)

    def fill_row(self, i: int) -> Row:
        """Return the fill table's row of the unbuilt fill at ``i``."""
        cid, fid, sym, side, price, qty, fee, liquidity, ts, venue, asset, in_asset = (c[i] for c in self._fills)
        text = self._text
        return (cid, fid, sym, side.value, text(price), text(qty), text(fee), liquidity.value, ts, venue, asset,
                text(in_asset))  # fmt: skip

    def approved_intent(self, i: int) -> OrderIntent | int:
        """Return the approved intent at position ``i`` of the approved list (see :meth:`intent`)."""
        return self.intent(self._approved[i])
