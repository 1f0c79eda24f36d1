"""Where durable operator state lives: the state dir (``LIVEGATE_STATE_DIR``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

DEFAULT_STATE_DIR = "~/.livegate"


def state_dir(env: Mapping[str, str]) -> Path:
    """Return the state dir: ``LIVEGATE_STATE_DIR`` or ``~/.livegate``.

    It holds the trading state (kill switch), the session lock, the live token file and
    preflight artifacts; it is not created here.
    """
    return Path(env.get("LIVEGATE_STATE_DIR") or DEFAULT_STATE_DIR).expanduser()
