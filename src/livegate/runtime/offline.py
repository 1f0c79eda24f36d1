"""Operator tools on a run directory while no session runs on it: reconcile, flatten, cancel-all.

:func:`open_run` takes the run directory's lock (:mod:`livegate.control.run_lock`),
rebuilds livegate's view from the ledger (:mod:`livegate.control.resume`) and opens the
run's venue:

* a paper run: the paper venue from its own store, which plays the exchange between
  sessions; prices are the last quotes of the run's data;
* a venue-stream run (``[venue] name`` ``<adapter>:<venue>``, modes testnet, canary and
  live): the venue's adapter, with credentials loaded as for a run
  (:func:`livegate.config.credentials.load_credentials`), and prices from its stream;
* a shadow run keeps no venue state: there is nothing to reconcile, cancel or close.

Direct venue work without a run directory (``--venue``) lives in :mod:`livegate.runtime.operator`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from livegate.config.credentials import load_credentials
from livegate.config.instruments import resolve_instruments
from livegate.config.loader import ResolvedConfig
from livegate.config.models import VenueConfig
from livegate.config.paths import state_dir
from livegate.control.resume import RebuiltSession, read_run_inputs, rebuild_from_ledger, resolved_from_run_dir
from livegate.control.run_lock import RunLock
from livegate.domain.clock import Clock, ReplayClock, WallClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.domain.instruments import Instrument
from livegate.domain.market import Quote
from livegate.ledger.anchor import anchor_path
from livegate.ledger.store import Ledger
from livegate.marketdata.stream import ReplayStream
from livegate.reconcile.drift import DRIFT_FILE, DriftLog
from livegate.reconcile.reconciler import LedgerFillIndex, Reconciler
from livegate.reconcile.result import ReconcileResult
from livegate.runtime.compose import build_venue
from livegate.venues.base import MarketDataStream, VenueAdapter
from livegate.venues.paper import PaperVenue
from livegate.venues.paper_store import PAPER_STORE_FILE, PaperStore
from livegate.venues.registry import VenueRequest, build_adapter, is_real_venue

__all__ = ["OfflineRun", "connect_venue", "first_quotes", "open_run", "reconcile_run"]

#: Market-data events read from a venue stream to find one quote of each symbol.
_QUOTE_SCAN_EVENTS = 2000


@dataclass(slots=True)
class OfflineRun:
    """A run directory opened for an operator command (its lock held until :meth:`close`)."""

    run_dir: Path
    resolved: ResolvedConfig
    mode: Mode
    ledger: Ledger
    rebuilt: RebuiltSession
    venue: VenueAdapter | None
    instruments: dict[str, Instrument]
    clock: Clock
    lock: RunLock

    async def quotes(self) -> dict[str, Quote]:
        """Return a current quote per traded symbol: the run data's last (paper) or the venue stream's."""
        if isinstance(self.venue, PaperVenue):
            return _last_quotes(self.run_dir, self.resolved)
        if self.venue is None:
            return {}
        return await first_quotes(self.venue, list(self.instruments))

    async def aclose(self) -> None:
        """Close the venue connection, the ledger and release the lock."""
        try:
            if self.venue is not None and not isinstance(self.venue, PaperVenue):
                await self.venue.close()
        finally:
            self.close()

    def close(self) -> None:
        """Close the ledger and release the lock."""
        try:
            self.ledger.close()
        finally:
            self.lock.release()


async def connect_venue(
    venue: str,
    mode: Mode,
    env: Mapping[str, str],
    clock: Clock,
    *,
    settings: VenueConfig | None = None,
    symbols: Sequence[str] = (),
) -> VenueAdapter:
    """Build and connect the adapter of real venue ``venue`` with the credentials of ``mode``.

    ``settings`` is the ``[venue]`` section (endpoints, timeout, ccxt options) of the run
    or profile; None uses the adapter's defaults.

    Raises
    ------
    ConfigError
        If credentials are missing (naming each variable) or the adapter cannot be built.
    """
    if not mode.is_real:
        raise ConfigError(f"{venue}: a {mode.value} run placed no orders at the venue")
    lookup = load_credentials(venue, env, mode=mode)
    if not lookup.ok:
        raise ConfigError(f"{venue}: credentials missing for {mode.value}: {', '.join(lookup.missing)}")
    request = VenueRequest(
        venue=venue,
        clock=clock,
        credentials=lookup.credentials,
        sandbox=mode is Mode.TESTNET,
        symbols=list(symbols),
        settings=settings,
    )
    adapter = build_adapter(request)
    await adapter.connect()
    return adapter


async def first_quotes(venue: VenueAdapter, symbols: list[str]) -> dict[str, Quote]:
    """Read ``venue``'s market-data stream until each of ``symbols`` has a quote (bounded); return them."""
    found: dict[str, Quote] = {}
    if not isinstance(venue, MarketDataStream) or not symbols:
        return found
    seen = 0
    async for event in venue.stream_market_data(symbols):
        seen += 1
        if type(event) is Quote:
            found[event.symbol] = event
        if len(found) == len(set(symbols)) or seen >= _QUOTE_SCAN_EVENTS:
            break
    return found


async def open_run(run_dir: Path, env: Mapping[str, str], *, purpose: str) -> OfflineRun:
    """Lock ``run_dir``, open its ledger, rebuild its book and reopen its venue (see the module docstring).

    Raises
    ------
    ConfigError
        If it is not a run directory, another process holds it, or its venue cannot be
        opened (exit 2).
    DataError
        If the ledger or the store cannot be read.
    """
    if not (run_dir / "ledger.sqlite").is_file():
        raise ConfigError(f"{run_dir}: no ledger.sqlite; not a run directory")
    lock = RunLock(run_dir, purpose)
    try:
        resolved, mode_value = resolved_from_run_dir(run_dir)
        mode = Mode(mode_value)
        anchor = anchor_path(state_dir(env), run_dir)  # operator appends stay covered by the anchored head
        ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=resolved.config.ledger.synchronous, anchor=anchor)
    except BaseException:
        lock.release()
        raise
    try:
        rebuilt = rebuild_from_ledger(ledger)
        symbols = {o.symbol for o in rebuilt.portfolio.all_orders()}
        venue_name = resolved.config.venue.name
        clock: Clock
        venue: VenueAdapter | None = None
        if is_real_venue(venue_name) and mode.is_real:
            clock = WallClock()
            venue = await connect_venue(
                venue_name, mode, env, clock, settings=resolved.config.venue, symbols=resolved.config.venue.symbols
            )
            instruments = {s: i for s, i in venue.instruments().items() if s in symbols}
        else:
            clock = ReplayClock(rebuilt.last_ts_ms)
            store_path = run_dir / PAPER_STORE_FILE
            store = PaperStore.open(store_path) if mode is Mode.PAPER and store_path.is_file() else None
            if store is not None:
                symbols |= {o.symbol for o in store.load().orders}
            instruments = resolve_instruments(resolved.config, sorted(symbols))
            if store is not None:
                venue = build_venue(Mode.PAPER, resolved.config, instruments, clock, store=store)
    except BaseException:
        ledger.close()
        lock.release()
        raise
    return OfflineRun(run_dir, resolved, mode, ledger, rebuilt, venue, instruments, clock, lock)


async def reconcile_run(run: OfflineRun, *, dry_run: bool) -> ReconcileResult:
    """Compare the run's ledger with its venue; unless ``dry_run``, append to ``reconcile_drift.jsonl``.

    Raises
    ------
    ConfigError
        If the run keeps no venue state (shadow).
    ReconcileIncomplete
        If the venue cannot be read.
    """
    if run.venue is None:
        raise ConfigError(f"{run.run_dir}: a {run.mode.value} run keeps no venue state to reconcile")
    index = LedgerFillIndex(run.ledger)
    reconciler = Reconciler(
        venue=run.venue,
        portfolio=run.rebuilt.portfolio,
        config=run.resolved.config.reconcile,
        clock=run.clock,
        currency_of={s: i.quote_currency for s, i in run.instruments.items()},
        ledger_fills=index,
        balance_baseline=run.rebuilt.balance_baseline,
        drift_log=None if dry_run else DriftLog(run.run_dir / DRIFT_FILE),
    )
    return await reconciler.reconcile("operator")


def _last_quotes(run_dir: Path, resolved: ResolvedConfig) -> dict[str, Quote]:
    inputs = read_run_inputs(run_dir)
    quotes, trades, capture = (
        None if inputs.get(k) is None else Path(str(inputs[k])) for k in ("quotes", "trades", "capture")
    )
    if quotes is None and trades is None and capture is None:
        from livegate.runtime.session import bundled_sample

        quotes, trades = bundled_sample()
    stream = ReplayStream(quotes=quotes, trades=trades, capture=capture, venue=resolved.config.venue.name)
    last: dict[str, Quote] = {}
    for block in stream.blocks():
        for event in block:
            if type(event) is Quote:
                last[event.symbol] = event
    return last
