"""The fail-closed live gate: every arming key of docs/architecture.md §3.3, checked once at start.

Testnet, canary and live start only when all of these hold:

1. the CLI flag ``--enable-live``;
2. ``LIVEGATE_LIVE_ENABLE=1``;
3. ``LIVEGATE_LIVE_CONFIRM_TOKEN`` equal to the token file ``<state dir>/live_token``,
   which must be readable by its owner only;
4. a real venue (``<adapter>:<venue>``) with its credentials present;
5. a passing preflight artifact younger than ``[live] preflight_max_age_secs`` whose
   config hash (and mode) matches the running configuration;
6. ``[reconcile] enabled``;
7. the ``[risk]`` caps named by ``[live] required_risk_caps`` and, for canary,
   ``[canary] max_live_notional_usd_per_day``.

:func:`evaluate_arming` checks them all (it never stops at the first) so the refusal
names every missing key. Credentials are loaded here and only here, and only for real
modes.
"""

from __future__ import annotations

import hmac
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from livegate.config.credentials import Credentials, load_credentials
from livegate.config.models import LivegateConfig
from livegate.domain.enums import Mode
from livegate.domain.errors import InvariantViolation
from livegate.modes.preflight_artifact import judge_preflight, read_preflight, token_path

__all__ = ["ENABLE_ENV", "TOKEN_ENV", "ArmingResult", "check_token_file", "evaluate_arming", "is_real_venue_name"]

ENABLE_ENV = "LIVEGATE_LIVE_ENABLE"
TOKEN_ENV = "LIVEGATE_LIVE_CONFIRM_TOKEN"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True, slots=True)
class ArmingResult:
    """Outcome of the live gate: the missing keys (empty when armed) and the credentials.

    ``missing`` entries start with the key's name (``--enable-live``,
    ``LIVEGATE_LIVE_ENABLE=1``, ``LIVEGATE_LIVE_CONFIRM_TOKEN``, ``token file``, ``venue``,
    ``credentials``, ``preflight``, ``reconcile.enabled``, ``[risk] <cap>``,
    ``[canary] max_live_notional_usd_per_day``) followed by the reason in parentheses;
    they never contain a secret.
    """

    mode: Mode
    missing: list[str] = field(default_factory=list)
    credentials: Credentials | None = field(default=None, repr=False)

    @property
    def armed(self) -> bool:
        """Return True when every key holds."""
        return not self.missing

    def reason(self) -> str:
        """Return the gate line's reason text."""
        if self.armed:
            return "armed: all live keys present"
        return f"live gate refused, missing {len(self.missing)} key(s): " + "; ".join(self.missing)


def is_real_venue_name(venue: str) -> bool:
    """Return True for ``<adapter>:<venue>`` names (a real venue adapter)."""
    adapter, sep, rest = venue.partition(":")
    return bool(sep and adapter and rest)


def check_token_file(state_dir: Path) -> tuple[str | None, str]:
    """Return the token of ``<state dir>/live_token`` and '' or None and why it is refused.

    A token file readable or writable by group or others is refused (docs/architecture.md §3.10).
    """
    path = token_path(state_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        return None, f"token file ({path} missing: run livegate arm init)"
    except OSError as exc:
        return None, f"token file ({path}: {exc.strerror})"
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return None, f"token file ({path} has mode {mode:04o}; it must be 0600: chmod 600 {path})"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        return None, f"token file ({path}: {exc.strerror})"
    if not token:
        return None, f"token file ({path} is empty: run livegate arm init --force)"
    return token, ""


def evaluate_arming(
    *,
    mode: Mode,
    enable_live_flag: bool,
    env: Mapping[str, str],
    state_dir: Path,
    config: LivegateConfig,
    config_hash: str,
    now_ms: int,
) -> ArmingResult:
    """Check every arming key for a real ``mode`` and load the venue credentials.

    Parameters
    ----------
    mode:
        The resolved mode; must be testnet, canary or live.
    enable_live_flag:
        Whether ``--enable-live`` was given.
    env:
        The process environment.
    state_dir:
        The state dir (``LIVEGATE_STATE_DIR``).
    config, config_hash:
        The running configuration and its hash.
    now_ms:
        Wall time in ms since the epoch (for the preflight's age).

    Raises
    ------
    InvariantViolation
        If ``mode`` is shadow or paper (they are never armed and never load credentials).
    """
    if not mode.is_real:
        raise InvariantViolation(f"mode {mode.value} needs no arming")
    missing: list[str] = []
    if not enable_live_flag:
        missing.append("--enable-live (flag not given)")
    if env.get(ENABLE_ENV, "") != "1":
        missing.append(f"{ENABLE_ENV}=1 (not set)")
    token, token_problem = check_token_file(state_dir)
    given = env.get(TOKEN_ENV, "")
    if not given:
        missing.append(f"{TOKEN_ENV} (not set)")
    elif token is not None and not hmac.compare_digest(given.encode(), token.encode()):
        missing.append(f"{TOKEN_ENV} (does not match the token file)")
    if token_problem:
        missing.append(token_problem)
    credentials: Credentials | None = None
    venue = config.venue.name
    if not is_real_venue_name(venue):
        missing.append(f"venue (a real venue <adapter>:<venue> is needed, e.g. --venue fake:demo; got {venue!r})")
    else:
        lookup = load_credentials(venue, env, mode=mode)
        if lookup.ok:
            credentials = lookup.credentials
        else:
            missing.append(f"credentials ({', '.join(lookup.missing)})")
    artifact, problem = read_preflight(state_dir)
    if artifact is not None:
        problem = judge_preflight(
            artifact,
            config_hash=config_hash,
            mode=mode.value,
            now_ms=now_ms,
            max_age_secs=config.live.preflight_max_age_secs,
        )
    if problem:
        missing.append(f"preflight ({problem})")
    reconcile = getattr(config, "reconcile", None)
    if reconcile is None or not bool(getattr(reconcile, "enabled", False)):
        missing.append("reconcile.enabled (reconciliation is off in the profile)")
    missing.extend(_missing_caps(config, mode))
    return ArmingResult(mode=mode, missing=missing, credentials=None if missing else credentials)


def _missing_caps(config: LivegateConfig, mode: Mode) -> list[str]:
    out: list[str] = []
    risk = getattr(config, "risk", None)
    for key in config.live.required_risk_caps:
        if risk is None or getattr(risk, key, None) is None:
            out.append(f"[risk] {key} (cap not set)")
    if mode is Mode.CANARY and config.canary.max_live_notional_usd_per_day is None:
        out.append("[canary] max_live_notional_usd_per_day (ramp cap not set)")
    return out
