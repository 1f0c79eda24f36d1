"""Read a CSV(.gz) as bytes in pieces of whole lines, with the line numbers of text-mode reading.

The CSV readers used to iterate a text-mode file line by line; a chunk of plain rows now
comes as one ``bytes`` value (:func:`line_chunks`: about :data:`READ_BYTES` at a time, cut
after its last newline, the rest carried into the next piece), checked and split in a
few C passes. A chunk the fast paths do not take is turned back into the lines a
text-mode file gives (:func:`text_lines`), so the row-by-row readers see what they saw
before: the same lines, the same line numbers, the same errors.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from io import StringIO
from typing import NamedTuple, Protocol

import msgspec

from livegate.domain.market import Quote, Trade

__all__ = ["READ_BYTES", "Part", "groups_of_lines", "ints_of", "line_chunks", "split_header", "text_lines"]

READ_BYTES = 1 << 16
"""Bytes read at a time: about 900 quote rows, whose fields (about 6,300 objects) stay in the CPU caches.

Measured on the 1M-quote benchmark file (split, Decimal look-ups): 64 KiB pieces took
0.52-0.59 s, 1 MiB pieces 0.99-1.03 s (stop 21, PERF_NOTES.md).
"""


class BinaryReader(Protocol):
    """A binary file: an ``open(..., "rb")`` file or a :class:`gzip.GzipFile`."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def split_header(raw: BinaryReader) -> tuple[str, bytes]:
    r"""Read the first line of ``raw``; return (its text, the bytes read past its end).

    The line ends where a text-mode file (``newline=""``) ends it: at ``\n``, ``\r\n``
    or a lone ``\r``; a lone ``\r`` leaves the rest of the bytes :meth:`readline` read,
    to be read before anything else (``line_chunks(raw, rest)``).

    Raises
    ------
    UnicodeDecodeError
        The line is not UTF-8 (the caller translates it, as for a text-mode file).
    """
    first = raw.readline()
    cr = first.find(b"\r")
    rest = b""
    if 0 <= cr < len(first) - 1 and first[cr + 1] != 0x0A:  # a lone carriage return ends the line
        first, rest = first[: cr + 1], first[cr + 1 :]
    return first.decode("utf-8"), rest


def line_chunks(raw: BinaryReader, rest: bytes = b"", size: int = READ_BYTES) -> Iterator[bytes]:
    r"""Yield the bytes of ``raw`` (after ``rest``) in pieces ending with ``\n`` (the file's last may not).

    Each piece is about ``size`` bytes: a read, cut after its last newline, the tail carried
    into the next piece (a line longer than ``size`` makes a longer piece). Joined, the
    pieces are ``rest`` and every byte read, in order; no piece is empty.
    """
    pending = [rest] if rest else []
    while block := raw.read(size):
        cut = block.rfind(b"\n") + 1
        if not cut:
            pending.append(block)  # no line ends here: carry it all
            continue
        if pending:
            pending.append(block[:cut])
            yield b"".join(pending)
        else:
            yield block[:cut]
        pending = [block[cut:]] if cut < len(block) else []
    if pending:
        yield b"".join(pending)


def text_lines(data: bytes) -> list[str]:
    r"""Return the lines a text-mode file (UTF-8, ``newline=""``) gives for ``data``, ends kept.

    Lines end at ``\n``, ``\r\n`` or a lone ``\r`` (:class:`io.TextIOWrapper`'s universal
    newlines, which :class:`io.StringIO` shares), nowhere else.

    Raises
    ------
    UnicodeDecodeError
        ``data`` is not UTF-8.
    """
    return StringIO(data.decode("utf-8"), newline="").readlines()


_INTS = msgspec.json.Decoder(list[int])


def ints_of(fields: list[bytes]) -> list[int]:
    """Return ``[int(field) for field in fields]``: one JSON decode when every field is a JSON integer.

    A field JSON does not read as one integer (a leading zero or ``+``, an underscore, an
    exponent, a byte JSON does not take as space...) leaves the whole list to :func:`int`,
    so the result, or the :class:`ValueError`, is always :func:`int`'s.
    ``tests/marketdata/test_line_chunks.py`` checks this against :func:`int` with hypothesis.

    Raises
    ------
    ValueError
        A field is not an integer to :func:`int`.
    """
    try:
        values = _INTS.decode(b"[%b]" % b",".join(fields))
    except msgspec.DecodeError:
        return list(map(int, fields))
    if len(values) != len(fields):  # cannot happen (no field holds a comma); checked all the same
        return list(map(int, fields))
    return values


class Part(NamedTuple):
    """Consecutive lines of a file: parsed (``events``, one per line) or as text (``lines``); one is empty."""

    events: list[Quote | Trade]
    lines: list[str]


def groups_of_lines(parts: Iterable[Part], size: int) -> Iterator[list[Part]]:
    """Yield the lines of ``parts`` in groups of exactly ``size`` lines (the last group may be shorter).

    Each group is given as its parts, in order (a part cut where a group ends). The readers
    keep the line groups (and so the event lists they yield) they had when they read
    ``size`` text lines at a time, whatever the size of the pieces read.
    """
    held: deque[Part] = deque()
    count = 0
    for part in parts:
        if part.events or part.lines:
            held.append(part)
            count += len(part.events) + len(part.lines)
        while count >= size:
            yield _take(held, size)
            count -= size
    if count:
        yield _take(held, count)


def _take(held: deque[Part], size: int) -> list[Part]:
    """Remove the first ``size`` lines of ``held`` (holding at least that many) and return them as parts."""
    group: list[Part] = []
    while size:
        events, lines = held[0]
        length = len(events) + len(lines)
        if length <= size:
            group.append(held.popleft())
            size -= length
        else:
            group.append(Part(events[:size], lines[:size]))
            held[0] = Part(events[size:], lines[size:])
            size = 0
    return group
