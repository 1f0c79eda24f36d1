"""The finished part of a fold checkpoint, built when first asked for (issue 14 item 7).

A resume needs the orders still working, the positions, the counters, the applied fill
keys (to count a repeated fill once) and this trading day's approved intents; it needs
the session's finished orders, their order entries, intents and fills only when one of
them is looked up (a late fill, a status echo, ``livegate ledger export``). Building all
of them is what made a resume cost seconds per million ledger events. The containers
here keep the checkpoint's columns and build an item the first time it is asked for:

* :class:`Archive` — client order id -> order or order entry: one item built per lookup
  by id; reading the mapping as a whole builds every item, in fold order.
* :class:`ArchivedList` — the approved intents or the applied fills in fold order:
  appending builds nothing; reading an item or iterating builds them all;
  :meth:`ArchivedList.select` builds only the items whose key (an intent's time) passes.
* :class:`ArchivedFills` — the applied fills, whose venue trade ids are read from the
  columns without building a fill (:meth:`ArchivedFills.ids`).

An item is built from the checkpoint's columns, which are the state at the checkpoint: an
item nobody looked up was never changed since, so building it later gives what a full
fold gives (the equivalence tests: ``tests/recovery/test_recovery_archive.py``). Every
column is checked when the checkpoint is read, before anything is built, so a build
never fails later.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, MutableSequence, ValuesView
from contextlib import contextmanager
from itertools import compress
from typing import Any, TypeVar, overload

from livegate.domain.orders import Fill

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
        for cid, item in super().items():
            dict.__setitem__(twin, cid, copy(item))
        return twin

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


class ArchivedList(MutableSequence[V]):
    """A sequence whose first ``count`` items (the checkpoint's) are built when it is first read.

    Not a ``list`` subclass on purpose: C code that reads a list's storage directly (the
    JSON encoder, ``str.join``) would see only the items appended after the checkpoint;
    this type is refused there instead.

    Parameters
    ----------
    count:
        Number of archived items.
    build:
        Builds the archived item at a position (0-based).
    keys:
        Per archived item, an integer key (an intent's time, ms since the epoch) that
        :meth:`select` filters on without building the item; None: built to be asked.
    build_many:
        Builds the archived items at a list of positions at once, as ``build`` would one
        by one (:meth:`select` uses it); None: ``build`` per item.
    """

    __slots__ = ("_build", "_build_many", "_count", "_items", "_keys")

    def __init__(
        self,
        count: int,
        build: Callable[[int], V],
        keys: list[int] | None = None,
        build_many: Callable[[list[int]], list[V]] | None = None,
    ) -> None:
        self._count = count
        self._build = build
        self._keys = keys
        self._build_many = build_many
        self._items: list[V] = []

    def _all(self) -> list[V]:
        if self._count:
            with gc_paused():
                self._items[0:0] = [self._build(i) for i in range(self._count)]
            self._count = 0
        return self._items

    @property
    def archived(self) -> int:
        """Return how many archived items are still unbuilt (0 once the list was read)."""
        return self._count

    def fork(self) -> ArchivedList[V]:
        """Return an independent copy (items are shared: they are immutable)."""
        twin = type(self).__new__(type(self))
        twin._count, twin._build, twin._keys, twin._items = self._count, self._build, self._keys, list(self._items)
        twin._build_many = self._build_many
        return twin

    def select(self, keep: Callable[[int], bool], key_of: Callable[[V], int]) -> list[V]:
        """Return, in order, the items whose key passes ``keep``, building only those.

        The key of an archived item comes from ``keys`` (built and asked when there are
        none), of any other item from ``key_of``.
        """
        keys, build = self._keys, self._build
        out: list[V] = []
        with gc_paused():
            if keys is not None:
                kept = list(compress(range(self._count), map(keep, keys[: self._count])))
                out = list(map(build, kept)) if self._build_many is None else self._build_many(kept)
            else:
                for i in range(self._count):
                    item = build(i)
                    if keep(key_of(item)):
                        out.append(item)
        out += [item for item in self._items if keep(key_of(item))]
        return out

    def __len__(self) -> int:
        return self._count + len(self._items)

    @overload
    def __getitem__(self, index: int) -> V: ...

    @overload
    def __getitem__(self, index: slice) -> MutableSequence[V]: ...

    def __getitem__(self, index: int | slice) -> V | MutableSequence[V]:
        return self._all()[index]

    @overload
    def __setitem__(self, index: int, value: V) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[V]) -> None: ...

    def __setitem__(self, index: Any, value: Any) -> None:
        self._all()[index] = value

    def __delitem__(self, index: int | slice) -> None:
        del self._all()[index]

    def insert(self, index: int, value: V) -> None:
        """Insert ``value`` before ``index``, as ``list.insert``."""
        self._all().insert(index, value)

    def append(self, value: V) -> None:
        """Append ``value`` (builds nothing)."""
        self._items.append(value)

    def extend(self, values: Iterable[V]) -> None:
        """Append ``values`` (builds nothing)."""
        self._items.extend(values)

    def __iter__(self) -> Iterator[V]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ArchivedList):
            return self._all() == other._all()
        if isinstance(other, list):
            return self._all() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._all()!r})"


class ArchivedFills(ArchivedList[Fill]):
    """The applied fills in fold order, their venue trade ids and venues readable without building a fill.

    Parameters
    ----------
    count, build:
        As :class:`ArchivedList`.
    fill_ids, venues:
        The archived fills' venue trade ids and venue names, in order.
    """

    __slots__ = ("_fill_ids", "_venues")

    def __init__(self, count: int, build: Callable[[int], Fill], fill_ids: list[str], venues: list[str]) -> None:
        super().__init__(count, build)
        self._fill_ids, self._venues = fill_ids, venues

    def fork(self) -> ArchivedFills:
        """Return an independent copy (fills are shared: they are immutable)."""
        twin = super().fork()
        assert isinstance(twin, ArchivedFills)
        twin._fill_ids, twin._venues = self._fill_ids, self._venues
        return twin

    def ids(self, start: int = 0, venue: str | None = None, stop: int | None = None) -> list[str]:
        """Return the venue trade ids of the fills at positions ``start`` to ``stop`` (None: the end), in order.

        Only those of ``venue`` and venue-less ones when ``venue`` is given; no fill is built.
        """
        archived = self._count
        end = len(self) if stop is None else min(stop, len(self))
        out: list[str] = []
        if start < archived:
            upto = min(archived, end)
            fids, venues = self._fill_ids[start:upto], self._venues[start:upto]
            out = fids if venue is None else [f for f, v in zip(fids, venues, strict=True) if v in (venue, "")]
        tail = self._items[max(0, start - archived) : max(0, end - archived)]
        out += [f.fill_id for f in tail if venue is None or f.venue in (venue, "")]
        return out
