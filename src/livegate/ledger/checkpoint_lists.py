"""The fold's lists of a checkpoint, built when first read (issue 14 item 7).

* :class:`ArchivedList` — the approved intents or the applied fills in fold order:
  appending builds nothing; reading an item or iterating builds them all;
  :meth:`ArchivedList.select` builds only the items whose key (an intent's time) passes.
* :class:`ArchivedFills` — the applied fills, whose venue trade ids are read from the
  columns without building a fill (:meth:`ArchivedFills.ids`).

Why they are built late, and why building late gives what a full fold gives:
:mod:`livegate.ledger.checkpoint_archive`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableSequence
from itertools import compress, repeat
from typing import TYPE_CHECKING, Any, TypeVar, overload

from livegate.domain.orders import Fill
from livegate.ledger.checkpoint_archive import gc_paused

if TYPE_CHECKING:
    from livegate.ledger.checkpoint_rows import StoredRows

V = TypeVar("V")


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

    __slots__ = ("_build", "_build_many", "_count", "_items", "_keys", "stored")

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
        #: The checkpoint's items as rows for a new checkpoint (set by the decoder; None: none).
        self.stored: StoredRows | None = None

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
        twin._build_many, twin.stored = self._build_many, self.stored
        return twin

    def walk(self) -> Iterator[tuple[V | None, int]]:
        """Yield ``(None, position)`` per unbuilt archived item, then ``(item, -1)`` per other item, in order.

        Builds nothing (see :meth:`livegate.ledger.checkpoint_archive.Archive.walk`).
        """
        yield from zip(repeat(None), range(self._count))
        yield from zip(self._items, repeat(-1))

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
