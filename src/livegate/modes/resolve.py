"""Resolve the run mode once at start: CLI > env > profile > default (docs/architecture.md §3.2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ModeResolution:
    """The mode and where it came from (``cli``, ``env``, ``profile`` or ``default``).

    ``note`` is the gate line's reason when the start decision adds one (e.g. a
    ``--fallback-shadow`` run says why it is shadow); empty means the session's own.
    """

    mode: Mode
    source: str
    note: str = ""


def resolve_mode(
    cli_mode: str | None,
    env: Mapping[str, str],
    profile_mode: str | None,
    *,
    real_venue_configured: bool,
) -> ModeResolution:
    """Return the mode by precedence; the default is shadow with a real venue, else paper.

    Raises
    ------
    ConfigError
        If a given mode is not one of shadow, paper, testnet, canary, live.
    """
    for raw, source in ((cli_mode, "cli"), (env.get("LIVEGATE_MODE"), "env"), (profile_mode, "profile")):
        if raw:
            try:
                return ModeResolution(Mode(raw.strip().lower()), source)
            except ValueError as exc:
                allowed = ", ".join(m.value for m in Mode)
                raise ConfigError(f"mode {raw!r} from {source} is not one of {allowed}") from exc
    return ModeResolution(Mode.SHADOW if real_venue_configured else Mode.PAPER, "default")


def gate_line(mode: Mode, status: str, reason: str, source: str) -> str:
    """Return the one gate log line: ``gate mode=<m> status=PASS|FAIL reason=<text> source=<src>``.

    Line breaks in ``reason`` become spaces so the gate stays one line.
    """
    flat = " ".join(reason.split())
    return f"gate mode={mode.value} status={status} reason={flat} source={source}"
