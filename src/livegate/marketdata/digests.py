"""Content identities of replay inputs (issue 9 item 12: determinism by content, not by path).

The ledger's ``session_started`` event and the session id (hence every client order id)
name the input files by the sha256 of their bytes, so the same data under another path,
in another checkout or from a wheel instead of an editable install, gives the same ledger
hash (docs/architecture.md §3.9). Paths stay in ``summary.json`` and ``run_inputs.json`` for people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from livegate.domain.errors import DataError

_CHUNK_BYTES: Final = 1 << 20


def content_digest(path: Path | str) -> str:
    """Return ``sha256:<hex>`` of the file's bytes (as stored; a ``.gz`` file is hashed compressed).

    Raises
    ------
    DataError
        If the file cannot be read, naming it.
    """
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as stream:
            while chunk := stream.read(_CHUNK_BYTES):
                digest.update(chunk)
    except OSError as exc:
        raise DataError(f"cannot read input {path} to hash it: {exc}") from exc
    return f"sha256:{digest.hexdigest()}"


def input_identities(paths: Iterable[Path | str]) -> list[str]:
    """Return the content digest of each input, in the order given (the replay order depends on it)."""
    return [content_digest(path) for path in paths]
