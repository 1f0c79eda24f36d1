"""``livegate preflight``: check a machine before a session, write the artifact the live gate needs.

Each check returns PASS, WARN (reported, does not block) or FAIL. The artifact
(:class:`~livegate.modes.preflight_artifact.PreflightArtifact`: checks, wall time, host,
livegate version, config hash, mode, venue) goes to ``<state dir>/preflight.json`` (0600).
Credentials are loaded only for real modes and never printed: the credentials check
names the variables it found, not their values.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path

from livegate.alerts.catalog import probe_alert
from livegate.alerts.model import AlertSeverity
from livegate.alerts.send import send_now
from livegate.config.credentials import Credentials, load_credentials, load_market_data_key
from livegate.config.loader import ResolvedConfig
from livegate.domain.clock import Clock, WallClock
from livegate.domain.enums import Mode, TradingState
from livegate.domain.errors import ConfigError, VenueError
from livegate.ledger.verify import verify_ledger
from livegate.modes.live_gate import check_token_file, is_real_venue_name
from livegate.modes.market_hours import market_hours_for
from livegate.modes.preflight_artifact import CheckResult, PreflightArtifact, preflight_path
from livegate.risk.state_store import TradingStateStore
from livegate.venues.base import SignedRequestWindow, VenueAdapter, VenueProbe, VenueSelfChecks
from livegate.venues.registry import AdapterFactory, VenueRequest, build_adapter

__all__ = ["PreflightInputs", "run_preflight", "write_artifact"]

#: Free disk at the state dir: below WARN_FREE_BYTES warns, below FAIL_FREE_BYTES fails.
WARN_FREE_BYTES = 1 << 30  # 1 GiB: a day of telemetry and ledger at full quote rate is ~0.3 GiB
FAIL_FREE_BYTES = 100 << 20  # 100 MiB
#: Venue clock skew: up to PASS_SKEW_MS passes, up to WARN_SKEW_MS warns, beyond fails
#: (Binance refuses signed requests outside ``recvWindow``, 5000 ms by default).
PASS_SKEW_MS = 1000
WARN_SKEW_MS = 5000
#: Balance currencies counted as USD when comparing caps with the balance.
_USD_LIKE = frozenset({"USD", "USDT", "USDC", "FDUSD", "BUSD"})
#: ``[risk]`` caps that must not exceed the account balance.
_BALANCE_BOUNDED_CAPS = ("max_order_notional_usd", "max_symbol_notional_usd", "daily_loss_limit_usd")


@dataclass(frozen=True, slots=True)
class PreflightInputs:
    """What a preflight looks at.

    Parameters
    ----------
    resolved:
        The resolved configuration, or None when it did not load (``config_error`` says why).
    mode:
        The mode the preflight is for.
    env:
        The process environment.
    state_dir:
        The state dir.
    runs_root:
        Where run directories live; the newest one's ledger is verified.
    factories:
        Adapter factories (tests inject fakes); None uses the built-in ones.
    clock:
        Wall clock.
    """

    resolved: ResolvedConfig | None
    mode: Mode
    env: Mapping[str, str]
    state_dir: Path
    config_error: str = ""
    runs_root: Path = Path("runs")
    factories: Mapping[str, AdapterFactory] | None = None
    clock: Clock = field(default_factory=WallClock)


async def run_preflight(inputs: PreflightInputs) -> PreflightArtifact:
    """Run every check and return the artifact (not yet written)."""
    checks: list[CheckResult] = []
    resolved = inputs.resolved
    if resolved is None:
        checks.append(CheckResult("config", "FAIL", inputs.config_error or "configuration did not load"))
    else:
        profile = resolved.profile_path or "defaults"
        checks.append(CheckResult("config", "PASS", f"valid ({profile}; hash {resolved.config_hash[:12]})"))
    checks.append(_check_state_dir(inputs.state_dir))
    checks.append(_check_disk(inputs.state_dir))
    venue_name = resolved.config.venue.name if resolved is not None else ""
    credentials: Credentials | None = None
    if inputs.mode.is_real:
        cred_check, credentials = _check_credentials(venue_name, inputs)
        checks.append(cred_check)
        checks.append(_check_token(inputs.state_dir))
        checks.append(_check_reconcile(resolved))
    else:
        checks.append(CheckResult("credentials", "PASS", f"not needed in mode {inputs.mode.value} (not loaded)"))
    checks.extend(await _venue_checks(venue_name, credentials, resolved, inputs))
    checks.extend(_check_trading_state(inputs.state_dir))
    checks.append(_check_last_ledger(inputs.runs_root))
    checks.append(_check_market_hours(resolved, inputs.clock))
    checks.append(await _check_alerts(resolved))
    return PreflightArtifact(
        checks=checks,
        time_ms=inputs.clock.now_ms(),
        host=platform.node(),
        livegate_version=_version(),
        config_hash=resolved.config_hash if resolved is not None else "",
        mode=inputs.mode.value,
        venue=venue_name,
    )


def write_artifact(state_dir: Path, artifact: PreflightArtifact) -> Path | None:
    """Write ``artifact`` to ``<state dir>/preflight.json`` (0600, atomic); None when the dir is unusable."""
    import json

    if not state_dir.is_dir() or not os.access(state_dir, os.W_OK):
        return None
    path = preflight_path(state_dir)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (json.dumps(artifact.to_record(), indent=2) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------- local checks
def _check_state_dir(state_dir: Path) -> CheckResult:
    if not state_dir.exists():
        return CheckResult("state dir", "FAIL", f"{state_dir} does not exist (livegate arm init creates it)")
    if not state_dir.is_dir():
        return CheckResult("state dir", "FAIL", f"{state_dir} is not a directory")
    if not os.access(state_dir, os.W_OK | os.X_OK):
        return CheckResult("state dir", "FAIL", f"{state_dir} is not writable")
    mode = stat.S_IMODE(state_dir.stat().st_mode)
    if mode & 0o022:
        return CheckResult("state dir", "FAIL", f"{state_dir} mode {mode:04o} is writable by others (chmod 700)")
    if mode & 0o077:
        return CheckResult("state dir", "WARN", f"{state_dir} mode {mode:04o} is readable by others (chmod 700)")
    return CheckResult("state dir", "PASS", f"{state_dir} exists, writable, mode {mode:04o}")


def _check_disk(state_dir: Path) -> CheckResult:
    probe = state_dir if state_dir.exists() else Path.cwd()
    free = shutil.disk_usage(probe).free
    shown = f"{free / (1 << 30):,.2f} GiB free at {probe}"
    if free < FAIL_FREE_BYTES:
        return CheckResult("disk", "FAIL", f"{shown} < {FAIL_FREE_BYTES >> 20} MiB")
    if free < WARN_FREE_BYTES:
        return CheckResult("disk", "WARN", f"{shown} < {WARN_FREE_BYTES >> 30} GiB")
    return CheckResult("disk", "PASS", shown)


def _check_credentials(venue: str, inputs: PreflightInputs) -> tuple[CheckResult, Credentials | None]:
    if not is_real_venue_name(venue):
        return CheckResult("credentials", "FAIL", f"mode {inputs.mode.value} needs a real venue, got {venue!r}"), None
    lookup = load_credentials(venue, inputs.env, mode=inputs.mode)
    if not lookup.ok or lookup.credentials is None:
        return CheckResult("credentials", "FAIL", f"missing for {venue}: {', '.join(lookup.missing)}"), None
    found = ", ".join(f"{k} ({src})" for k, src in sorted(lookup.credentials.sources.items())) or "none needed"
    return CheckResult("credentials", "PASS", f"present for {venue}: {found}"), lookup.credentials


def _check_token(state_dir: Path) -> CheckResult:
    token, problem = check_token_file(state_dir)
    if token is None:
        return CheckResult("live token", "FAIL", problem)
    return CheckResult("live token", "PASS", f"{state_dir / 'live_token'} present, mode 0600")


def _check_reconcile(resolved: ResolvedConfig | None) -> CheckResult:
    reconcile = getattr(resolved.config, "reconcile", None) if resolved is not None else None
    if reconcile is None or not bool(getattr(reconcile, "enabled", False)):
        return CheckResult("reconciliation", "FAIL", "[reconcile] enabled is off; real modes need it")
    return CheckResult("reconciliation", "PASS", "enabled")


def _check_trading_state(state_dir: Path) -> list[CheckResult]:
    store = TradingStateStore(state_dir)
    current = store.load().current
    out: list[CheckResult] = []
    if store.kill_file_present():
        out.append(CheckResult("trading state", "FAIL", f"KILL file present in {state_dir}"))
    elif current.state is TradingState.ACTIVE:
        out.append(CheckResult("trading state", "PASS", f"ACTIVE ({current.reason})"))
    else:
        by = f" by {current.actor}" if current.actor else ""
        detail = f"{current.state.value.upper()}{by} ({current.source}): {current.reason}; livegate rearm --reason TEXT"
        out.append(CheckResult("trading state", "FAIL", detail))
    lock = store.read_lock()
    if lock is None:
        out.append(CheckResult("session lock", "PASS", "no session lock"))
    else:
        reason = str(lock.get("reason", ""))
        out.append(CheckResult("session lock", "FAIL", f"{store.lock_path}: {reason}; livegate unlock --reason TEXT"))
    return out


def _check_last_ledger(runs_root: Path) -> CheckResult:
    ledgers = sorted(runs_root.glob("*/ledger.sqlite"), key=lambda p: p.stat().st_mtime) if runs_root.is_dir() else []
    if not ledgers:
        return CheckResult("last ledger", "PASS", f"no previous run under {runs_root}")
    last = ledgers[-1]
    result = verify_ledger(last)
    if result.ok:
        return CheckResult("last ledger", "PASS", f"{last} verifies ({result.events} events)")
    return CheckResult("last ledger", "FAIL", f"{last} does not verify (first bad seq {result.first_bad_seq})")


def _check_market_hours(resolved: ResolvedConfig | None, clock: Clock) -> CheckResult:
    if resolved is None:
        return CheckResult("market hours", "WARN", "unknown: configuration did not load")
    cfg = resolved.config
    calendar = cfg.venue.calendar or cfg.tripwires.calendar
    try:
        hours = market_hours_for(calendar)
    except ConfigError as exc:
        return CheckResult("market hours", "FAIL", str(exc))
    if hours.is_open(clock.now_ms()):
        return CheckResult("market hours", "PASS", f"{hours.name}: open now")
    return CheckResult("market hours", "WARN", f"{hours.name}: closed now (the loop skips cycles until it opens)")


async def _check_alerts(resolved: ResolvedConfig | None) -> CheckResult:
    """PASS when a destination is configured and a test alert reached every one (docs/alerts.md)."""
    if resolved is None or not resolved.config.alerts.configured:
        return CheckResult("alerts", "WARN", "no alert destination configured ([alerts] urls)")
    alert = probe_alert(AlertSeverity.INFO, "livegate preflight: test delivery")
    try:
        report = await asyncio.to_thread(send_now, resolved.config.alerts, alert, everywhere=True)
    except ConfigError as exc:
        return CheckResult("alerts", "FAIL", str(exc))
    if report.delivered:
        return CheckResult("alerts", "PASS", f"test alert delivered to {len(report.results)} destination(s)")
    return CheckResult("alerts", "FAIL", "test alert not delivered: " + "; ".join(report.failures))


# ---------------------------------------------------------------------- venue checks
async def _venue_checks(
    venue: str, credentials: Credentials | None, resolved: ResolvedConfig | None, inputs: PreflightInputs
) -> list[CheckResult]:
    out: list[CheckResult] = []
    if resolved is None or not is_real_venue_name(venue):
        shown = venue or "unknown"
        out.append(CheckResult("venue reachable", "PASS", f"replayed data ({shown}): no venue to reach"))
        out.append(CheckResult("clock", "WARN", "no venue server time to compare (replayed data)"))
        out.append(_check_caps(resolved, inputs.mode, None))
        return out
    request = VenueRequest(
        venue=venue,
        clock=inputs.clock,
        credentials=credentials,
        sandbox=inputs.mode is Mode.TESTNET,
        symbols=list(resolved.config.venue.symbols),
        settings=resolved.config.venue,
        data_credentials=None if credentials is not None else load_market_data_key(venue, inputs.env),
        alpaca_feed=resolved.config.alpaca.feed,
        allow_fractional=resolved.config.equities.allow_fractional,
    )
    try:
        adapter = build_adapter(request, inputs.factories)
    except ConfigError as exc:
        out.append(CheckResult("venue reachable", "FAIL", str(exc)))
        out.append(CheckResult("clock", "WARN", "venue not built; clock not compared"))
        out.append(_check_caps(resolved, inputs.mode, None))
        return out
    try:
        out.extend(await _probe(adapter, inputs.clock))
        balance: Decimal | None = None
        if credentials is not None:
            auth, balance = await _check_auth(adapter)
            out.append(auth)
            out.extend(await _venue_own_checks(adapter))
        out.append(_check_caps(resolved, inputs.mode, balance))
        if credentials is None:  # venues that need no key for their checks (IBKR: the TWS login)
            out.extend(await _venue_own_checks(adapter))
    finally:
        await adapter.close()
    return out


async def _venue_own_checks(adapter: VenueAdapter) -> list[CheckResult]:
    """Run the venue's own checks (:class:`~livegate.venues.base.VenueSelfChecks`); a venue error is one FAIL."""
    if not isinstance(adapter, VenueSelfChecks):
        return []
    try:
        return await adapter.preflight_checks()
    except VenueError as exc:
        return [CheckResult("venue account", "FAIL", f"{adapter.name}: {type(exc).__name__} {exc.code}: {exc.message}")]


async def _check_auth(adapter: VenueAdapter) -> tuple[CheckResult, Decimal | None]:
    """Make one authenticated call (balances) and return the check and the USD-like balance.

    A wrong key or secret fails here, before a session starts: Binance answers -2015
    ("Invalid API-key, IP, or permissions for action.") or -1022 ("Signature for this
    request is not valid."); Binance Spot API "Error Codes".
    """
    try:
        balances = await adapter.balances()
    except VenueError as exc:
        detail = f"{adapter.name}: authenticated call refused: {type(exc).__name__} {exc.code}: {exc.message}"
        return CheckResult("venue auth", "FAIL", detail), None
    usd = [b.total for b in balances if b.currency.upper() in _USD_LIKE]
    ok = CheckResult("venue auth", "PASS", f"{adapter.name}: authenticated call (balances) answered")
    return ok, (sum(usd, Decimal(0)) if usd else None)


async def _probe(adapter: VenueAdapter, clock: Clock) -> list[CheckResult]:
    try:
        await adapter.connect()
        rtt = await adapter.ping() if isinstance(adapter, VenueProbe) else None
    except VenueError as exc:
        return [
            CheckResult("venue reachable", "FAIL", f"{adapter.name}: {type(exc).__name__}: {exc.message}"),
            CheckResult("clock", "WARN", "venue unreachable; clock not compared"),
        ]
    shown = "connected" if rtt is None else f"answered ping in {rtt:.3f} s"
    endpoint = getattr(adapter, "endpoint", "")
    out = [CheckResult("venue reachable", "PASS", f"{adapter.name} {shown}" + (f" ({endpoint})" if endpoint else ""))]
    try:
        server_ms = await adapter.server_time_ms() if isinstance(adapter, VenueProbe) else None
    except VenueError as exc:
        out.append(CheckResult("clock", "FAIL", f"{adapter.name}: server time unavailable: {exc.message}"))
        return out
    if server_ms is None:
        out.append(CheckResult("clock", "WARN", f"{adapter.name} offers no server time"))
        return out
    skew = server_ms - clock.now_ms()
    detail = f"local clock {skew:+,} ms from {adapter.name} server time"
    window = adapter.recv_window_ms() if isinstance(adapter, SignedRequestWindow) else None
    fail_ms = WARN_SKEW_MS if window is None else window // 2
    limit = f"half the recvWindow ({window} ms)" if window is not None else f"{WARN_SKEW_MS} ms"
    if abs(skew) <= min(PASS_SKEW_MS, fail_ms):
        out.append(CheckResult("clock", "PASS", detail))
    elif abs(skew) <= fail_ms:
        out.append(CheckResult("clock", "WARN", f"{detail} > {PASS_SKEW_MS} ms"))
    else:
        out.append(CheckResult("clock", "FAIL", f"{detail} > {limit}; signed requests would be refused; fix NTP"))
    return out


def _check_caps(resolved: ResolvedConfig | None, mode: Mode, balance_usd: Decimal | None) -> CheckResult:
    if resolved is None:
        return CheckResult("caps", "FAIL", "configuration did not load")
    cfg = resolved.config
    risk = getattr(cfg, "risk", None)
    caps = {key: getattr(risk, key, None) for key in cfg.live.required_risk_caps}
    missing = [f"[risk] {k}" for k, v in caps.items() if v is None]
    if mode is Mode.CANARY and cfg.canary.max_live_notional_usd_per_day is None:
        missing.append("[canary] max_live_notional_usd_per_day")
    if missing and mode.is_real:
        return CheckResult("caps", "FAIL", f"not set: {', '.join(missing)}")
    if balance_usd is not None:
        bounded = {k: getattr(risk, k, None) for k in _BALANCE_BOUNDED_CAPS}
        if mode is Mode.CANARY:
            bounded["canary.max_live_notional_usd_per_day"] = cfg.canary.max_live_notional_usd_per_day
        above = [
            f"{k} {v:,.2f} > balance {balance_usd:,.2f}"
            for k, v in bounded.items()
            if v is not None and v > balance_usd
        ]
        if above:
            return CheckResult("caps", "FAIL", "; ".join(above))
        return CheckResult("caps", "PASS", f"present and within the balance of {balance_usd:,.2f} USD")
    if missing:
        return CheckResult("caps", "WARN", f"mode {mode.value} does not need them; not set: {', '.join(missing)}")
    return CheckResult("caps", "PASS", "present (balance unknown)")


def _version() -> str:
    try:
        return metadata.version("livegate")
    except metadata.PackageNotFoundError:
        return "0+unknown"
