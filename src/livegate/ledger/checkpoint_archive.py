"""The finished part of a fold checkpoint, built when first asked for (issue 14 item 7).

A resume needs the orders still working, the positions, the counters, the applied fill
keys (to count a repeated fill once) and this trading day's approved intents; it needs
the session's finished orders, their order entries, intents and fills only when one of
them is looked up (a late fill, a status echo, ``livegate ledger export``). Building all
of them is what made a resume cost seconds per million ledger events. The containers
here keep the checkpoint's columns and build an item the first time it is asked for:

* :class:`Archive` — client order id -> order or order entry: one item built per lookup
  by id; reading the mapping as a whole builds every item, in fold order.
* :class:`~livegate.ledger.checkpoint_lists.ArchivedList` and
  :class:`~livegate.ledger.checkpoint_lists.ArchivedFills` — the approved intents and the
  applied fills in fold order (:mod:`livegate.ledger.checkpoint_lists`).

An item is built from the checkpoint's columns, which are the state at the checkpoint: an
item nobody looked up was never changed since, so building it later gives what a full
fold gives (the equivalence tests: ``tests/recovery/test_recovery_archive.py``). Every
column is checked when the checkpoint is read, before anything is built, so a build
never fails later.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from itertools import repeat
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from livegate.ledger.checkpoint_rows import StoredRows

V = TypeVar("V")
_MISSING: Any = object()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a fold builds its objects (restored on exit).

    A fold or a checkpoint read creates millions of objects without reference cycles; the
    collector would otherwise walk the growing heap again and again (about half the time
    of a large fold). Objects are still freed by reference counting meanwhile.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Archive(dict[str, V]):
    """Client order id -> item, the checkpoint's items built on first lookup.

    Parameters
    ----------
    order:
        The client order ids of the checkpoint's items, in fold order.
    build:
        Builds the item at a position of ``order``.

    Raises
    ------
    ValueError
        If ``order`` holds a client order id twice.
    """

    def __init__(self, order: list[str], build: Callable[[int], V]) -> None:
        super().__init__()
        self._order = order
        self._index: dict[str, int] | None = dict(zip(order, range(len(order)), strict=True))
        if len(self._index) != len(order):
            raise ValueError("checkpoint items repeat a client order id")
        self._build = build
        #: The checkpoint's items as rows for a new checkpoint (set by the decoder; None: none).
        self.stored: StoredRows | None = None

    @property
    def archived(self) -> bool:
        """Return True while some checkpoint items may still be unbuilt."""
        return self._index is not None

    def preset(self, cid: str, item: V) -> None:
        """Hold ``item`` as the already built item of the archived ``cid`` (builds nothing else).

        Raises
        ------
        KeyError
            If ``cid`` is not one of the checkpoint's items.
        """
        if self._index is None or cid not in self._index:
            raise KeyError(cid)
        super().__setitem__(cid, item)

    def fork(self, copy: Callable[[V], V]) -> Archive[V]:
        """Return an independent copy: items built so far are copied with ``copy``, the rest stay unbuilt.

        An unbuilt item was never handed out, so it still equals its columns: both copies
        build it from them when asked.
        """
        twin: Archive[V] = Archive.__new__(Archive)
        twin._order, twin._index, twin._build = self._order, self._index, self._build
        twin.stored = self.stored
        for cid, item in super().items():
            dict.__setitem__(twin, cid, copy(item))
        return twin

    def walk(self) -> Iterator[tuple[V | None, int]]:
        """Yield ``(item, -1)`` per built item and ``(None, position)`` per unbuilt one, in fold order.

        Builds nothing: the order :meth:`values` gives, for a reader that can use an
        unbuilt item's columns (:class:`livegate.ledger.checkpoint_rows.StoredRows`).
        """
        index = self._index
        if index is None:
            yield from zip(super().values(), repeat(-1))
            return
        get = super().get
        for position, cid in enumerate(self._order):
            item = get(cid, _MISSING)
            yield (None, position) if item is _MISSING else (item, -1)
        for cid, item in super().items():
            if cid not in index:
                yield item, -1

    def _one(self, cid: str) -> V | None:
        """Return the item of ``cid`` (built now if archived and not built yet), or None."""
        item = super().get(cid, _MISSING)
        if item is not _MISSING:
            return item  # type: ignore[no-any-return]
        if self._index is None or cid not in self._index:
            return None
        built = self._build(self._index[cid])
        super().__setitem__(cid, built)
        return built

    def _all(self) -> None:
        """Build every archived item and put the mapping in fold order (archived ones first, as folded)."""
        if self._index is None:
            return
        later = [(cid, e) for cid, e in super().items() if cid not in self._index]
        archived = [(cid, self[cid]) for cid in self._order]
        self._index = None
        super().clear()
        for cid, item in [*archived, *later]:
            super().__setitem__(cid, item)

    def get(self, cid: str, default: Any = None) -> Any:
        """Return the item of ``cid`` (built now if archived), or ``default``."""
        item = self._one(cid)
        return default if item is None else item

    def __getitem__(self, cid: str) -> V:
        item = self._one(cid)
        if item is None:
            raise KeyError(cid)
        return item

    def __contains__(self, cid: object) -> bool:
        if super().__contains__(cid):
            return True
        return self._index is not None and cid in self._index

    def __setitem__(self, cid: str, item: V) -> None:
        if self._index is not None and cid in self._index:
            self._all()
        super().__setitem__(cid, item)

    def __len__(self) -> int:
        self._all()
        return super().__len__()

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        """Return the client order ids in fold order (builds every item)."""
        self._all()
        return super().keys()

    def values(self) -> ValuesView[V]:  # type: ignore[override]
        """Return the items in fold order (builds every item)."""
        self._all()
        return super().values()

    def items(self) -> ItemsView[str, V]:  # type: ignore[override]
        """Return (client order id, item) pairs in fold order (builds every item)."""
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

    def copy(self) -> dict[str, V]:
        """Return a plain dict of every item, in fold order."""
        self._all()
        return dict(super().items())

    def pop(self, *args: Any) -> Any:
        """Remove and return an item, as ``dict.pop``."""
        self._all()
        return super().pop(*args)

    def popitem(self) -> tuple[str, V]:
        """Remove and return the last item, as ``dict.popitem``."""
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
        """Remove every item, archived ones included."""
        self._index = None
        super().clear()
