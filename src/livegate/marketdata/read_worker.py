"""Read one replay input in a second process, so the session's process only runs the session.

A replay spends about a third of its time reading: splitting rows, parsing prices into
``Decimal``, checking each row, and holding the reorder window. On a machine with a
second core that work can run beside the session. :class:`InputReader` starts
``python -m livegate.marketdata.read_worker`` for one input file; the child runs the same
reader and reorder window as the session would
(:func:`~livegate.marketdata.normalized.quote_blocks` and the others,
:func:`~livegate.marketdata.reorder.windowed`) and writes what they yield to a pipe:

* each block, encoded by :class:`~livegate.marketdata.block_codec.BlockEncoder`;
* before a block, what the file's :class:`~livegate.marketdata.sources.SourceTally` and
  late count gained since the last one (bad rows, counts);
* first, a ready mark (a child that cannot start leaves the file to the session);
* at the end: an end mark, or the :class:`~livegate.domain.errors.DataError` the reader
  raised (its message), or the traceback of anything else.

The parent yields the same lists, fills the same tally at the same points and raises the
same ``DataError`` after the same events, so a session cannot tell the two apart (the
tests compare them). The pipe holds a bounded amount (the child waits while it is full),
so memory stays bounded in both processes. A child whose parent went away finds its pipe
closed and exits.

Frame: kind (1 byte), payload length (8 bytes, little-endian), payload.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, BinaryIO

from livegate.domain.errors import DataError
from livegate.marketdata.binance_raw import capture_blocks
from livegate.marketdata.block_codec import BlockDecoder, BlockEncoder, SerialDecimal
from livegate.marketdata.normalized import Block, quote_blocks, trade_blocks
from livegate.marketdata.reorder import windowed
from livegate.marketdata.sources import PositiveDecimals, SourceTally

__all__ = ["READERS", "InputReader", "main"]

log = logging.getLogger("livegate")

READERS: dict[str, Callable[..., Iterator[Block]]] = {
    "quotes": quote_blocks,
    "trades": trade_blocks,
    "capture": capture_blocks,
}
"""The reader of each kind of input, by the name the child is given."""

_HEADER = struct.Struct("<BQ")
_READY, _BLOCK, _TALLY, _END, _DATA_ERROR, _CRASH = range(1, 7)
_ENDING_SECS = 5.0
"""How long a child that closed its pipe may take to exit before it is killed (s)."""
_PIPE_BYTES = 1 << 20
"""Pipe capacity asked for (Linux ``F_SETPIPE_SZ``; 1 MiB is the default ``pipe-max-size``): about 7 blocks ahead."""


class InputReader:
    """One input file read by a child process; :meth:`blocks` yields what it read.

    Parameters
    ----------
    kind:
        ``"quotes"``, ``"trades"`` or ``"capture"`` (:data:`READERS`).
    path:
        The input file.
    venue:
        Copied into every event's ``venue``.
    window_ms:
        The reorder window (ms of exchange time).
    python:
        The interpreter the child runs on (this one).

    Raises
    ------
    OSError
        The child could not be started (the caller reads the file itself instead).
    """

    def __init__(self, kind: str, path: Path, *, venue: str, window_ms: int, python: str = sys.executable) -> None:
        if kind not in READERS:
            raise ValueError(f"unknown input kind {kind!r}; expected one of {', '.join(READERS)}")
        self.path = path
        self._errors = tempfile.TemporaryFile()  # a file, not a pipe: the child can never block on it
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self._child = subprocess.Popen(  # noqa: S603 (our own interpreter and module, arguments as a list)
                [python, "-m", __name__, kind, str(path), venue, str(window_ms)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=env,
            )
        except OSError:
            self._errors.close()
            raise
        assert self._child.stdout is not None
        self._out: IO[bytes] = self._child.stdout
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._out.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._child.pid

    def start(self, recv_offset_ms: int) -> None:
        """Let the child read, moving receive-clock event times by ``recv_offset_ms`` (known after the scan)."""
        stdin = self._child.stdin
        if stdin is None:
            return
        try:
            stdin.write(f"{recv_offset_ms}\n".encode())
        except BrokenPipeError:
            pass  # the child is gone: blocks() reports it (or reads the file here)
        finally:
            with contextlib.suppress(OSError):
                stdin.close()
            self._child.stdin = None

    def blocks(
        self, tally: SourceTally, late: list[int], source: int, here: Callable[[], Iterator[Block]]
    ) -> Iterator[Block]:
        """Yield the child's blocks; fill ``tally`` and ``late[source]`` as it read them.

        A child that ends before it is ready (it could not start Python or import
        livegate) leaves the file to ``here``, which reads it in this process (logged as a
        warning): nothing of the file was handed out yet, so the replay is the same.

        Raises
        ------
        DataError
            The reader raised it (same message), or the child ended or failed without
            finishing the file (its exit code and last output named).
        """
        decoder = BlockDecoder()
        try:
            frame = self._frame()
            if frame is None or frame[0] != _READY:
                log.warning(
                    "%s: the reader process did not start (%s); reading the file here", self.path, self._ended()
                )
                self.close()
                yield from here()
                return
            while frame := self._frame():
                kind, payload = frame
                if kind == _BLOCK:
                    yield decoder.decode(payload)
                elif kind == _TALLY:
                    _apply(pickle.loads(payload), tally, late, source)  # noqa: S301 (our own child's output)
                elif kind == _END:
                    return
                elif kind == _DATA_ERROR:
                    raise DataError(payload.decode())
                else:
                    raise DataError(f"{self.path}: the reader process failed:\n{payload.decode(errors='replace')}")
            raise DataError(f"{self.path}: the reader process ended ({self._ended()}) before the end of the file")
        finally:
            self.close()

    def close(self) -> None:
        """Stop the child (if still running) and release its pipes; safe to call twice."""
        if self._child.stdin is not None:
            with contextlib.suppress(OSError):
                self._child.stdin.close()
            self._child.stdin = None
        if self._child.poll() is None:
            self._child.kill()
        self._child.wait()
        self._out.close()
        self._errors.close()

    def _frame(self) -> tuple[int, bytes] | None:
        """Return the next frame, or None when the pipe ended first."""
        head = self._out.read(_HEADER.size)
        if len(head) == _HEADER.size:
            kind, size = _HEADER.unpack(head)
            payload = self._out.read(size)
            if len(payload) == size:
                return kind, payload
        return None

    def _ended(self) -> str:
        """Return the child's exit code and the end of what it wrote to stderr (stopping it if it still runs)."""
        try:
            code = self._child.wait(timeout=_ENDING_SECS)
        except subprocess.TimeoutExpired:
            self._child.kill()
            code = self._child.wait()
        self._errors.seek(0)
        said = self._errors.read()[-2000:].decode(errors="replace").strip()
        return f"exit {code}" + (f": {said}" if said else "")


class _Registered(PositiveDecimals):
    """The quotes reader's price and size cache: each new value a :class:`SerialDecimal`, registered."""

    __slots__ = ("_register",)
    decimal = SerialDecimal

    def __init__(self, register: Callable[[object], int]) -> None:
        super().__init__()
        self._register = register

    def __missing__(self, text: str) -> Decimal:
        value = super().__missing__(text)
        self._register(value)
        return value


def _apply(delta: tuple[int, int, int, list[object], int], tally: SourceTally, late: list[int], source: int) -> None:
    bad_count, skipped, from_recv, new_bad_rows, late_count = delta
    tally.bad_count, tally.skipped, tally.from_recv = bad_count, skipped, from_recv
    tally.bad_rows.extend(new_bad_rows)  # type: ignore[arg-type]
    late[source] = late_count


def _send(out: BinaryIO, kind: int, payload: bytes) -> None:
    out.write(_HEADER.pack(kind, len(payload)))
    out.write(payload)


def _tally_delta(tally: SourceTally, late: list[int], sent: list[int]) -> bytes | None:
    """Return what ``tally`` and ``late`` gained since ``sent`` (updated), or None when nothing."""
    now = [tally.bad_count, tally.skipped, tally.from_recv, len(tally.bad_rows), late[0]]
    if now == sent:
        return None
    delta = (tally.bad_count, tally.skipped, tally.from_recv, tally.bad_rows[sent[3] :], late[0])
    sent[:] = now
    return pickle.dumps(delta, protocol=pickle.HIGHEST_PROTOCOL)


def main(argv: list[str] | None = None) -> int:
    """Run the child: read the file named in ``argv`` and write its frames to standard output.

    ``argv`` is ``[kind, path, venue, window_ms]``; the receive-clock offset (ms) arrives as
    one line on standard input. Returns the exit code (0 also when the parent went away).
    """
    kind, path, venue, window = argv if argv is not None else sys.argv[1:]
    # the session decides when to stop: a Ctrl-C or a service stop reaches the whole process
    # group, and the session's own shutdown closes this pipe or kills this process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    line = sys.stdin.readline()
    if not line:
        return 0  # the parent closed the stream before starting it
    out = os.fdopen(sys.stdout.fileno(), "wb", buffering=_PIPE_BYTES, closefd=False)
    tally, late, sent = SourceTally(path), [0], [0, 0, 0, 0, 0]
    encoder = BlockEncoder()
    try:
        _send(out, _READY, b"")
        try:
            cache = {"decimals": _Registered(encoder.register)} if kind == "quotes" else {}
            reader = READERS[kind](Path(path), tally, venue=venue, recv_offset_ms=int(line), **cache)
            for block in windowed(reader, int(window), tally, late, 0):
                if (delta := _tally_delta(tally, late, sent)) is not None:
                    _send(out, _TALLY, delta)
                _send(out, _BLOCK, encoder.encode(block))
                out.flush()
        except DataError as error:
            ending, said = _DATA_ERROR, str(error).encode()
        except Exception:
            ending, said = _CRASH, traceback.format_exc().encode()
        else:
            ending, said = _END, b""
        if (delta := _tally_delta(tally, late, sent)) is not None:
            _send(out, _TALLY, delta)
        _send(out, ending, said)
        out.flush()
    except BrokenPipeError:
        return 0  # the parent stopped reading (the session ended early) or went away
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
