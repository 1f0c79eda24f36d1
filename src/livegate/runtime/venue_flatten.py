"""``livegate flatten --venue``: close what a venue account holds, with no run directory (issue 9 §10).

What "flat" means:

* **derivatives** (the adapter reads positions, e.g. ``ccxt:binanceusdm``): every
  position of the named symbols (all symbols with a position when none is named) is 0;
* **spot** (no positions, only balances, e.g. ``ccxt:binance``): the base asset of each
  named symbol is sold down to ``--keep`` base units (default 0). The quantity to sell
  is the total balance (free and locked, after the cancel) above ``keep``, rounded down
  to the lot size; a remainder below one lot or ``min_quantity`` cannot be sold and
  counts as flat (dust). Spot needs ``--symbol``: which asset is inventory and which is
  cash is the operator's call.

The venue's holdings are adopted as the opening book of a fresh run directory
(``--out``, default ``runs/<UTC stamp>-flatten``): ``config_resolved.json``,
``build_info.json``, ``telemetry.jsonl`` and a ledger that records ``session_started``
(strategy ``livegate-flatten``), a ``reconciled`` event (trigger ``flatten_start``) with
the venue's positions or base balances and open orders, then every cancel, intent,
decision, order report and fill of :func:`livegate.control.flatten.flatten_positions`
(cancel first, reduce-only pieces at ``[risk] max_order_notional_usd``, retried until flat
or the timeout), and ``session_ended``. Each round re-reads the venue, so what is closed
never exceeds what the venue still holds.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from livegate.config.loader import ResolvedConfig
from livegate.config.paths import state_dir
from livegate.control.flatten import FLATTEN_STRATEGY_ID, FlattenResult, flatten_positions, plan_for
from livegate.control.run_lock import RunLock
from livegate.domain.clock import WallClock
from livegate.domain.enums import Mode, Side
from livegate.domain.errors import ConfigError, Rejected
from livegate.domain.ids import is_livegate_client_id, session_id_for
from livegate.domain.instruments import Instrument
from livegate.domain.positions import Position
from livegate.execution.engine import ExecutionEngine
from livegate.execution.reports import report_record
from livegate.ledger import events as ev
from livegate.ledger.anchor import anchor_path
from livegate.ledger.store import Ledger
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio.book import Portfolio
from livegate.risk.chain import build_gates, build_risk_parts
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch
from livegate.risk.pipeline import RiskPipeline
from livegate.risk.state_store import TradingStateStore
from livegate.runtime.artifacts import build_info, livegate_version, write_json
from livegate.runtime.offline import connect_venue, first_quotes
from livegate.telemetry.writer import TelemetryWriter
from livegate.venues.base import VenueAdapter

log = logging.getLogger("livegate")

__all__ = ["Holding", "VenueFlatten", "VenueFlattenRequest", "flatten_venue", "read_holdings"]


@dataclass(frozen=True, slots=True)
class VenueFlattenRequest:
    """What ``livegate flatten --venue`` was asked.

    Parameters
    ----------
    venue:
        ``<adapter>:<venue>``, e.g. ``ccxt:binanceusdm``.
    mode:
        Whose credentials: live, canary or testnet (testnet = the venue's sandbox).
    symbols:
        Symbols to flatten; empty = every position (derivatives only).
    keep:
        Spot: base units of each symbol's base asset left unsold (ignored for derivatives).
    out_dir:
        The fresh run directory for the ledger (must not exist yet).
    timeout_secs, retry_secs:
        Give up after this many seconds; wait this long between rounds.
    """

    venue: str
    mode: Mode
    symbols: tuple[str, ...] = ()
    keep: Decimal = Decimal(0)
    out_dir: Path = Path("runs")
    timeout_secs: float = 30.0
    retry_secs: float = 0.5


@dataclass(frozen=True, slots=True)
class Holding:
    """What the venue holds in one symbol: ``held`` (signed position, or spot base balance) and the part to close."""

    symbol: str
    held: Decimal
    to_close: Decimal
    average_price: Decimal | None

    @property
    def side(self) -> Side:
        """Return the side of the closing orders."""
        return Side.SELL if self.to_close > 0 else Side.BUY


@dataclass(slots=True)
class VenueFlatten:
    """The plan read from the venue and, unless a dry run, what flatten did and where it is recorded."""

    holdings: list[Holding]
    open_orders: int
    spot: bool
    open_order_ids: tuple[str, ...] = ()
    run_dir: Path | None = None
    result: FlattenResult | None = None


async def read_holdings(
    adapter: VenueAdapter, instruments: Mapping[str, Instrument], symbols: Sequence[str], keep: Decimal
) -> list[Holding]:
    """Return what ``adapter``'s account holds in ``symbols`` (see the module docstring for spot).

    Raises
    ------
    ConfigError
        If a symbol is not listed by the venue, or a spot venue is given no symbol.
    """
    unknown = sorted(set(symbols) - set(instruments))
    if unknown:
        raise ConfigError(
            f"{adapter.name}: unknown symbol(s) {', '.join(unknown)}; the venue lists e.g. "
            f"{', '.join(sorted(instruments)[:5])}"
        )
    if adapter.capabilities.positions:
        wanted = set(symbols)
        return [
            Holding(p.symbol, p.quantity, p.quantity, p.average_price)
            for p in sorted(await adapter.positions(), key=lambda p: p.symbol)
            if p.quantity != 0 and (not wanted or p.symbol in wanted)
        ]
    if not symbols:
        raise ConfigError(f"{adapter.name} is a spot account: name the symbols whose base asset to sell with --symbol")
    totals = {b.currency: b.total for b in await adapter.balances()}
    holdings = []
    for symbol in symbols:
        instrument = instruments[symbol]
        held = totals.get(instrument.base_currency, Decimal(0))
        sellable = _floor_lot(held - keep, instrument)
        holdings.append(Holding(symbol, held, sellable, None))
    return holdings


def _floor_lot(quantity: Decimal, instrument: Instrument) -> Decimal:
    """Return ``quantity`` rounded down to whole lots; 0 below one lot or ``min_quantity`` (dust)."""
    if quantity <= 0:
        return Decimal(0)
    lot = instrument.lot_size
    floored = (quantity / lot).to_integral_value(rounding=ROUND_FLOOR) * lot if lot > 0 else quantity
    return floored if floored >= max(instrument.min_quantity, lot) else Decimal(0)


async def flatten_venue(
    request: VenueFlattenRequest, resolved: ResolvedConfig, env: Mapping[str, str], *, dry_run: bool
) -> VenueFlatten:
    """Read the venue; unless ``dry_run``, cancel and close its holdings, recorded in a fresh run directory.

    Raises
    ------
    ConfigError
        Credentials missing (naming each variable), an unknown symbol, a spot account
        without ``--symbol``, or ``out_dir`` already holding something.
    """
    clock = WallClock()
    adapter = await connect_venue(
        request.venue, request.mode, env, clock, settings=resolved.config.venue, symbols=list(request.symbols)
    )
    try:
        instruments = adapter.instruments()
        spot = not adapter.capabilities.positions
        holdings = await read_holdings(adapter, instruments, request.symbols, request.keep)
        working = await adapter.open_orders()
        outcome = VenueFlatten(holdings, len(working), spot, tuple(sorted(o.client_order_id for o in working)))
        if dry_run:
            return outcome
        outcome.run_dir = request.out_dir
        outcome.result = await _flatten(request, resolved, env, adapter, instruments, outcome, clock)
        return outcome
    finally:
        await adapter.close()


async def _flatten(
    request: VenueFlattenRequest,
    resolved: ResolvedConfig,
    env: Mapping[str, str],
    adapter: VenueAdapter,
    instruments: Mapping[str, Instrument],
    outcome: VenueFlatten,
    clock: WallClock,
) -> FlattenResult:
    run_dir = request.out_dir
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(f"--out {run_dir}: exists and is not empty; give a new directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir, "flatten")
    try:
        config = resolved.config
        write_json(
            run_dir / "config_resolved.json",
            {**resolved.to_record(), "mode": {"value": request.mode.value, "source": "cli"}},
        )
        write_json(run_dir / "build_info.json", build_info())
        anchor = anchor_path(state_dir(env), run_dir)
        ledger = Ledger.open(run_dir / "ledger.sqlite", synchronous=config.ledger.synchronous, anchor=anchor)
        telemetry = TelemetryWriter(run_dir / "telemetry.jsonl")
        try:
            now = clock.now_ms()
            session_id = session_id_for("flatten", request.venue, str(now))
            ledger.append(
                ev.SESSION_STARTED,
                now,
                {
                    "session_id": session_id,
                    "mode": request.mode.value,
                    "seed": config.seed,
                    "config_hash": resolved.config_hash,
                    "inputs": [f"stream:{request.venue}"],
                    "strategy": FLATTEN_STRATEGY_ID,
                    "livegate_version": livegate_version(),
                    "operator": "livegate flatten --venue",
                },
            )
            ledger.append(ev.RECONCILED, now, _start_record(adapter.name, outcome))
            portfolio = Portfolio()
            for h in outcome.holdings:
                price = h.average_price or Decimal(0)
                portfolio.adopt_position(Position.restore(h.symbol, h.to_close, h.to_close * price, *(Decimal(0),) * 3))
            result = await _rounds(
                request, resolved, env, adapter, instruments, outcome, ledger, telemetry, portfolio, session_id, clock
            )
            reason = "flatten: flat" if result.flat else "flatten: not flat at the timeout"
            ledger.append(ev.SESSION_ENDED, clock.now_ms(), {"reason": reason})
            return result
        finally:
            telemetry.close()
            ledger.close()
    finally:
        lock.release()


async def _rounds(
    request: VenueFlattenRequest,
    resolved: ResolvedConfig,
    env: Mapping[str, str],
    adapter: VenueAdapter,
    instruments: Mapping[str, Instrument],
    outcome: VenueFlatten,
    ledger: Ledger,
    telemetry: TelemetryWriter,
    portfolio: Portfolio,
    session_id: str,
    clock: WallClock,
) -> FlattenResult:
    config = resolved.config
    kill = KillSwitch(TradingStateStore(state_dir(env)), clock, actor="livegate flatten")
    quotes = QuoteCache()
    traded = {h.symbol: instruments[h.symbol] for h in outcome.holdings}
    ctx = RiskContext(instruments=traded, quotes=quotes, portfolio=portfolio, clock=clock)
    engine = ExecutionEngine(
        pipeline=RiskPipeline(build_gates(config, request.mode, build_risk_parts(config, kill)), ctx),
        ledger=ledger,
        telemetry=telemetry,
        portfolio=portfolio,
        venues={adapter.name: adapter},
        router=lambda _intent: adapter.name,
        clock=clock,
        session_id=session_id,
        strategy_name=FLATTEN_STRATEGY_ID,
    )
    # what may still be closed per symbol: the venue's holding minus what this book already closed
    opening = {h.symbol: h.to_close for h in outcome.holdings}
    limits: dict[str, Decimal] = dict(opening)

    async def refresh() -> None:
        for quote in (await first_quotes(adapter, list(traded))).values():
            quotes.update(quote)
        now_held = {h.symbol: h.to_close for h in await read_holdings(adapter, instruments, list(traded), request.keep)}
        for symbol in traded:
            venue_left = now_held.get(symbol, Decimal(0))
            limits[symbol] = venue_left
            book = portfolio.position_quantity(symbol)
            if venue_left == 0 or (book > 0) != (venue_left > 0):
                limits[symbol] = Decimal(0)

    await refresh()
    await cancel_outside_orders(adapter, ledger)
    plan = plan_for(config, timeout_secs=request.timeout_secs, retry_secs=request.retry_secs)
    result = await flatten_positions(engine, kill, ctx, clock.now_ms, plan, limits=limits, refresh=refresh)
    await refresh()  # the venue is the judge of flat
    result.remaining = {s: q for s, q in limits.items() if q != 0}
    result.open_orders = len(await adapter.open_orders())
    return result


async def cancel_outside_orders(adapter: VenueAdapter, ledger: Ledger) -> None:
    """Cancel, one by one, the venue's open orders livegate did not make.

    A halt's cancel-all leaves outside orders open (a client id livegate did not make,
    :func:`~livegate.domain.ids.is_livegate_client_id`); ``flatten --venue`` takes the
    whole venue. Each cancel's answer is recorded in the flatten's ledger (``order_report``).
    A cancel the venue refuses (already gone) is skipped: the rounds' last read of the
    venue's open orders is the judge.
    """
    for order in await adapter.open_orders():
        if is_livegate_client_id(order.client_order_id):
            continue
        try:
            report = await adapter.cancel(order.client_order_id, order.symbol)
        except Rejected as exc:
            log.info("flatten: outside order %s not cancelled: %s", order.client_order_id, exc.message)
            continue
        ledger.append(ev.ORDER_REPORT, report.ts_ms, report_record(report))


def _start_record(venue: str, outcome: VenueFlatten) -> dict[str, object]:
    """Return the ``reconciled`` payload recording what the venue held when flatten started."""
    return {
        "trigger": "flatten_start",
        "venue": venue,
        "clean": True,
        "drift": 0,
        "beyond_tolerance": 0,
        "resolved": 0,
        "spot": outcome.spot,
        "held": {h.symbol: str(h.held) for h in outcome.holdings},
        "to_close": {h.symbol: str(h.to_close) for h in outcome.holdings},
        "open_orders": outcome.open_orders,
        "open_order_ids": list(outcome.open_order_ids),
    }
