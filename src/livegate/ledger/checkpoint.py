"""A checkpoint of the ledger fold, verified against the chain (issue 14 item 7).

Folding a long ledger from its first event is what makes ``livegate run --resume`` slow
(seconds per million events). A checkpoint is the :class:`~livegate.ledger.fold.LedgerFold`
of the events up to some seq, saved in ``ledger.checkpoint`` next to ``ledger.sqlite``:
a resume loads it and folds only the events after it.

It is never trusted over the chain. The file holds one header line (JSON: format,
:data:`CHECKPOINT_VERSION`, a digest of the fold's own code, the seq and the chain hash of
the last event it covers, the sha256 and length of the body) and the body (JSON). It is
used only when every check holds: readable, same format and version, same fold code
(any change to the fold's rules, payload decoding, orders, positions or the book ignores
it), the body's sha256 matches, the seq is in the ledger and the ledger's event there has
the recorded hash, and the body decodes into a fold that ends at that seq and hash.
Otherwise :func:`read_checkpoint` says why and the caller folds from the first event.

Money and quantities are stored as exact decimal strings and read back as the same
``Decimal`` (value, exponent and sign), so checkpoint + later events equals the full fold.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable
from decimal import InvalidOperation
from pathlib import Path
from typing import Final

from livegate.domain import orders as _orders_module
from livegate.domain import positions as _positions_module
from livegate.domain.errors import InvariantViolation
from livegate.ledger import checkpoint_archive as _archive_module
from livegate.ledger import checkpoint_columns as _columns_module
from livegate.ledger import checkpoint_decode as _decode_module
from livegate.ledger import checkpoint_encode as _encode_module
from livegate.ledger import checkpoint_lists as _lists_module
from livegate.ledger import checkpoint_rows as _rows_module
from livegate.ledger import checkpoint_spill as _spill_module
from livegate.ledger import checkpoint_stream as _stream_module
from livegate.ledger import fold as _fold_module
from livegate.ledger import fold_copy as _fold_copy_module
from livegate.ledger import fold_retire as _fold_retire_module
from livegate.ledger import fold_rules as _fold_rules_module
from livegate.ledger import payload_fields as _payload_fields_module
from livegate.ledger import payload_orders as _payload_orders_module
from livegate.ledger import payload_session as _payload_session_module
from livegate.ledger import payloads as _payloads_module
from livegate.ledger.checkpoint_decode import decode_checkpoint_body
from livegate.ledger.checkpoint_encode import encode_body
from livegate.ledger.fold import LedgerFold
from livegate.portfolio import book as _book_module

#: File name of the checkpoint, next to the ledger file (``ledger.sqlite``) in a run directory.
CHECKPOINT_FILE: Final = "ledger.checkpoint"
#: First field of the header line.
CHECKPOINT_FORMAT: Final = "livegate-fold-checkpoint"
#: Layout of the body (written by checkpoint_encode, read by checkpoint_decode); bump it when the body changes.
CHECKPOINT_VERSION: Final = 3

HashAt = Callable[[int], str | None]


def _fold_code_digest() -> str:
    """Return the sha256 of the source of every module whose rules shape the fold."""
    digest = hashlib.sha256()
    modules = (
        _fold_module, _fold_copy_module, _fold_rules_module, _payloads_module, _payload_fields_module,
        _payload_orders_module, _payload_session_module, _orders_module, _positions_module, _book_module,
        _archive_module, _lists_module, _columns_module, _decode_module, _encode_module, _rows_module,
        _fold_retire_module, _spill_module, _stream_module, sys.modules[__name__],
    )  # fmt: skip
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why (the caller folds from the first event)."""


def checkpoint_path(ledger_file: Path) -> Path:
    """Return the checkpoint file of a ledger file (same directory, :data:`CHECKPOINT_FILE`)."""
    return ledger_file.parent / CHECKPOINT_FILE


# ---------------------------------------------------------------------- encode
def encode_checkpoint(fold: LedgerFold) -> bytes:
    """Return the checkpoint file content of ``fold`` (header line and body), for the events up to ``fold.last_seq``.

    Raises
    ------
    ValueError
        If the fold is empty (nothing to checkpoint).
    """
    header, pieces = _encode_parts(fold)
    return header + b"".join(pieces)


def _encode_parts(fold: LedgerFold) -> tuple[bytes, list[bytes]]:
    """Return the header line (with its newline) and the body of ``fold``'s checkpoint, in pieces to write in order.

    Raises
    ------
    ValueError
        If the fold is empty (nothing to checkpoint).
    """
    if fold.last_seq <= 0:
        raise ValueError("an empty fold has nothing to checkpoint")
    pieces = encode_body(fold)
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(piece)
    return _header(fold.last_seq, fold.last_hash, digest.hexdigest(), sum(map(len, pieces))), pieces


def _header(seq: int, last_hash: str, body_sha256: str, body_bytes: int) -> bytes:
    """Return the header line (with its newline) of a checkpoint covering the events up to ``seq``."""
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fold_code": _FOLD_CODE,
        "seq": seq,
        "hash": last_hash,
        "body_sha256": body_sha256,
        "body_bytes": body_bytes,
    }
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"


def write_checkpoint(path: Path, fold: LedgerFold) -> int:
    """Write the checkpoint of ``fold`` to ``path`` atomically (temp file, fsync, rename); return its size in bytes.

    A crash leaves the previous checkpoint or the new one, never a mix (and a torn file
    fails its digest and is ignored).

    Raises
    ------
    OSError
        If the file cannot be written.
    ValueError
        If the fold is empty.
    """
    header, pieces = _encode_parts(fold)  # written piece by piece: the body is never joined in memory
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(header)
            handle.writelines(pieces)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(header) + sum(map(len, pieces))


def write_streamed_checkpoint(path: Path, seq: int, last_hash: str, body: Iterable[bytes]) -> int:
    """Write a checkpoint whose body comes in pieces made while it is written; return its size in bytes.

    For the checkpoint job (:mod:`livegate.ledger.checkpoint_stream`), whose body is never
    held whole: the pieces go to a temporary file as they come, hashed on the way, then the
    header line (which names the body's sha256 and length) and the body are copied into the
    checkpoint's own temporary file, fsynced and renamed over ``path``, as
    :func:`write_checkpoint` does.

    Parameters
    ----------
    path:
        The checkpoint file.
    seq, last_hash:
        The seq and chain hash of the last event the body's fold covers.
    body:
        The body's pieces, in order.

    Raises
    ------
    OSError
        If a file cannot be written.
    ValueError
        If ``seq`` is not positive (nothing to checkpoint).
    """
    if seq <= 0:
        raise ValueError("an empty fold has nothing to checkpoint")
    spool = path.with_name(f"{path.name}.{os.getpid()}.body")
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        digest, size = hashlib.sha256(), 0
        with spool.open("w+b") as pieces:
            for piece in body:
                digest.update(piece)
                size += len(piece)
                pieces.write(piece)
            pieces.seek(0)
            header = _header(seq, last_hash, digest.hexdigest(), size)
            with tmp.open("wb") as handle:
                handle.write(header)
                shutil.copyfileobj(pieces, handle, _COPY_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        spool.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return len(header) + size


#: Bytes copied at a time from the spooled body into the checkpoint file.
_COPY_BYTES: Final = 1 << 20


# ---------------------------------------------------------------------- read and verify
def covered_seq(path: Path, hash_at: HashAt) -> int:
    """Return the seq a checkpoint's header says it covers when the ledger has that event with that hash, else 0.

    Reads the header line only (the body is not checked: :func:`read_checkpoint` does
    that). Also 0 when the file is missing, unreadable, or of another format, version or
    fold code.
    """
    try:
        with path.open("rb") as handle:
            header = json.loads(handle.readline())
        seq, expected = int(header["seq"]), str(header["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    same_build = (header.get("format"), header.get("version"), header.get("fold_code")) == (
        CHECKPOINT_FORMAT, CHECKPOINT_VERSION, _FOLD_CODE,
    )  # fmt: skip
    return seq if same_build and seq > 0 and hash_at(seq) == expected else 0


def read_checkpoint(path: Path, hash_at: HashAt, head_seq: int) -> LedgerFold:
    """Return the fold saved in ``path`` after checking it against the ledger's chain.

    Parameters
    ----------
    path:
        The checkpoint file.
    hash_at:
        Returns the stored chain hash of the ledger event at a seq (None when there is none).
    head_seq:
        Seq of the ledger's last event.

    Raises
    ------
    CheckpointError
        If the file is missing or unreadable, of another format, version or fold code,
        its body does not match its digest, its seq is beyond the ledger's head, the
        ledger's event at its seq has another hash (rewritten or another ledger), or the
        body does not decode into a fold ending at that seq and hash. The message says which.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise CheckpointError("no checkpoint file") from exc
    except OSError as exc:
        raise CheckpointError(f"checkpoint unreadable ({exc})") from exc
    newline = data.find(b"\n")
    line = data if newline < 0 else data[:newline]
    body = memoryview(data)[newline + 1 :]  # no copy of the body
    try:
        header = json.loads(line)
        if newline < 0 or not isinstance(header, dict):
            raise ValueError("no header line")
        seq, expected_hash = int(header["seq"]), str(header["hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"checkpoint header unreadable ({exc})") from exc
    if header.get("format") != CHECKPOINT_FORMAT or header.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint format {header.get('format')!r} version {header.get('version')!r}; "
            f"this build reads {CHECKPOINT_FORMAT!r} version {CHECKPOINT_VERSION}"
        )
    if header.get("fold_code") != _FOLD_CODE:
        raise CheckpointError("checkpoint written by a build with other fold rules (fold code digest differs)")
    if header.get("body_bytes") != len(body) or header.get("body_sha256") != hashlib.sha256(body).hexdigest():
        raise CheckpointError("checkpoint body does not match its digest (corrupt or torn write)")
    if seq < 1 or seq > head_seq:
        raise CheckpointError(f"checkpoint covers seq {seq} but the ledger ends at seq {head_seq} (ledger truncated?)")
    stored = hash_at(seq)
    if stored != expected_hash:
        found = "no event" if stored is None else stored[:12] + "..."
        raise CheckpointError(
            f"checkpoint records hash {expected_hash[:12]}... at seq {seq}, the ledger has {found} there "
            "(ledger rewritten, or another run's checkpoint)"
        )
    try:
        fold = decode_checkpoint_body(body)
    except (ValueError, KeyError, TypeError, IndexError, InvalidOperation, InvariantViolation) as exc:
        raise CheckpointError(f"checkpoint body does not decode ({type(exc).__name__}: {exc})") from exc
    if fold.last_seq != seq or fold.last_hash != expected_hash:
        raise CheckpointError(f"checkpoint body ends at seq {fold.last_seq}, its header says {seq}")
    return fold


_FOLD_CODE: Final = _fold_code_digest()
