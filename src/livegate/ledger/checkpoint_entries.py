"""The order entries of a fold checkpoint, built when first asked for (issue 14 item 7).

A resume needs few of a long ledger's order entries (they feed ``livegate ledger export``,
not trading): building every one of them would cost about a sixth of the resume. A
:class:`ArchivedEntries` keeps the checkpoint's columns, builds an entry the first time
its client order id is looked up, and builds all of them, in fold order, as soon as the
mapping is read as a whole. Either way a reader sees exactly the dict of a full fold.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from typing import Any

from livegate.ledger.fold import OrderEntry

_MISSING: Any = object()


class ArchivedEntries(dict[str, OrderEntry]):
    """Client order id -> :class:`OrderEntry`, the checkpoint's entries built on first use.

    Parameters
    ----------
    order:
        The client order ids of the checkpoint's entries, in fold order.
    build:
        Builds the entry at a position of ``order``.

    Raises
    ------
    ValueError
        If ``order`` holds a client order id twice.
    """

    def __init__(self, order: list[str], build: Callable[[int], OrderEntry]) -> None:
        super().__init__()
        self._order = order
        self._index: dict[str, int] | None = {cid: i for i, cid in enumerate(order)}
        if len(self._index) != len(order):
            raise ValueError("checkpoint entries repeat a client order id")
        self._build = build

    def _one(self, cid: str) -> OrderEntry | None:
        """Return the entry of ``cid`` (built now if archived and not built yet), or None."""
        entry = super().get(cid, _MISSING)
        if entry is not _MISSING:
            return entry  # type: ignore[no-any-return]
        if self._index is None or cid not in self._index:
            return None
        built = self._build(self._index[cid])
        super().__setitem__(cid, built)
        return built

    def _all(self) -> None:
        """Build every archived entry and put the mapping in fold order (archived ones first, as folded)."""
        if self._index is None:
            return
        later = [(cid, e) for cid, e in super().items() if cid not in self._index]
        archived = [(cid, self[cid]) for cid in self._order]
        self._index = None
        super().clear()
        for cid, entry in [*archived, *later]:
            super().__setitem__(cid, entry)

    def get(self, cid: str, default: Any = None) -> Any:
        """Return the entry of ``cid`` (built now if archived), or ``default``."""
        entry = self._one(cid)
        return default if entry is None else entry

    def __getitem__(self, cid: str) -> OrderEntry:
        entry = self._one(cid)
        if entry is None:
            raise KeyError(cid)
        return entry

    def __contains__(self, cid: object) -> bool:
        if super().__contains__(cid):
            return True
        return self._index is not None and cid in self._index

    def __setitem__(self, cid: str, entry: OrderEntry) -> None:
        if self._index is not None and cid in self._index:
            self._all()
        super().__setitem__(cid, entry)

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        """Return the client order ids in fold order (builds every entry)."""
        self._all()
        return super().keys()

    def values(self) -> ValuesView[OrderEntry]:  # type: ignore[override]
        """Return the entries in fold order (builds every entry)."""
        self._all()
        return super().values()

    def items(self) -> ItemsView[str, OrderEntry]:  # type: ignore[override]
        """Return (client order id, entry) pairs in fold order (builds every entry)."""
        self._all()
        return super().items()

    def __eq__(self, other: object) -> bool:
        self._all()
        return super().__eq__(other)

    __hash__ = None

    def __repr__(self) -> str:
        self._all()
        return super().__repr__()

    def __reduce__(self) -> Any:
        self._all()
        return (dict, (dict(super().items()),))

    def __reversed__(self) -> Iterator[str]:
        self._all()
        return super().__reversed__()

    def __or__(self, other: Any) -> Any:
        self._all()
        return dict(super().items()) | other

    def __ior__(self, other: Any) -> Any:
        self._all()
        return super().__ior__(other)

    def copy(self) -> dict[str, OrderEntry]:
        """Return a plain dict of every entry, in fold order."""
        self._all()
        return dict(super().items())

    def pop(self, *args: Any) -> Any:
        """Remove and return an entry, as ``dict.pop``."""
        self._all()
        return super().pop(*args)

    def popitem(self) -> tuple[str, OrderEntry]:
        """Remove and return the last entry, as ``dict.popitem``."""
        self._all()
        return super().popitem()

    def setdefault(self, cid: str, default: Any = None) -> Any:
        """As ``dict.setdefault``."""
        self._all()
        return super().setdefault(cid, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """As ``dict.update``."""
        self._all()
        super().update(*args, **kwargs)

    def __delitem__(self, cid: str) -> None:
        self._all()
        super().__delitem__(cid)

    def clear(self) -> None:
        """Remove every entry, archived ones included."""
        self._index = None
        super().clear()
