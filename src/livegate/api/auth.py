"""The HTTP API's bearer token: a 0600 file in the state dir, compared in constant time.

``livegate http token init`` creates ``<state dir>/http_token`` (random, 256 bits); every
``POST`` of the API must carry ``Authorization: Bearer <token>``. The session reads the
file when the API starts and refuses to start the API when the file is missing or open to
other users (docs/architecture.md §3.11: files holding secrets are 0600).
"""

from __future__ import annotations

import hmac
import stat
from pathlib import Path

from livegate.config.secret_files import create_secret_file
from livegate.domain.errors import ConfigError

__all__ = ["HTTP_TOKEN_FILE", "TOKEN_BYTES", "BearerToken", "create_http_token", "http_token_path", "load_http_token"]

#: Name of the token file inside the state dir.
HTTP_TOKEN_FILE = "http_token"  # noqa: S105 (a file name, not a secret)
#: Random bytes in a token (256 bits, URL-safe base64).
TOKEN_BYTES = 32
_BEARER = "bearer "


def http_token_path(state_dir: Path) -> Path:
    """Return where the API token lives in ``state_dir``."""
    return state_dir / HTTP_TOKEN_FILE


def create_http_token(state_dir: Path, *, force: bool) -> Path:
    """Create ``state_dir`` (0700) and a fresh random token file (0600); return its path.

    Raises
    ------
    FileExistsError
        If the token file exists and ``force`` is false.
    OSError
        If the directory or file cannot be written.
    """
    return create_secret_file(http_token_path(state_dir), nbytes=TOKEN_BYTES, force=force)


class BearerToken:
    """The API token in memory; :meth:`matches` checks an ``Authorization`` header in constant time."""

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = token.encode("utf-8")

    def matches(self, authorization: str | None) -> bool:
        """Return True when ``authorization`` is ``Bearer <the token>`` (hmac.compare_digest)."""
        if not authorization or not authorization[: len(_BEARER)].lower() == _BEARER:
            return False
        offered = authorization[len(_BEARER) :].strip().encode("utf-8", errors="replace")
        return hmac.compare_digest(offered, self._token)

    def __repr__(self) -> str:
        return "BearerToken(***)"


def load_http_token(state_dir: Path) -> BearerToken:
    """Read the API token file of ``state_dir``.

    Raises
    ------
    ConfigError
        If the file is missing, empty, or readable or writable by group or others.
    """
    path = http_token_path(state_dir)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigError(f"HTTP API token file {path} is missing; create it with: livegate http token init") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"HTTP API token file {path} is unreadable: {exc}") from exc
    if mode & 0o077:
        raise ConfigError(f"HTTP API token file {path} has mode {mode:04o}; it must be 0600 (chmod 600 {path})")
    if not text:
        raise ConfigError(f"HTTP API token file {path} is empty; rotate it with: livegate http token init --force")
    return BearerToken(text)
