"""Random secret files an operator creates once: the live confirm token and the HTTP API token.

Both are a fresh ``secrets.token_urlsafe`` value in a file of mode 0600 inside a state
directory of mode 0700, created with ``O_EXCL`` so an existing token is never overwritten
unless asked (a rotation).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["create_secret_file"]


def create_secret_file(path: Path, *, nbytes: int, force: bool) -> Path:
    """Create ``path``'s directory (0700) and ``path`` (0600) holding a new random token; return ``path``.

    Parameters
    ----------
    path:
        The token file.
    nbytes:
        Random bytes in the token (``secrets.token_urlsafe(nbytes)``).
    force:
        Replace an existing file (rotate the token).

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is false.
    OSError
        If the directory or the file cannot be written.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if force:
        path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, (secrets.token_urlsafe(nbytes) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)
    return path
