"""Emergency cancel-all and flatten through the one door (issue 9 §10).

One routine for every caller: the kill switch's ``[kill] flatten_on_halt``
(:class:`~livegate.control.session_risk.SessionRisk`), ``livegate flatten`` and
``livegate cancel-all`` (:mod:`livegate.runtime.offline`).

Flatten, round after round until every position is flat or ``timeout_secs`` passed:

1. cancel every working order and wait (bounded) for the venues to report none open —
   a resting order on the closing side would make a close non-reducing;
2. for each open position, send reduce-only market IOC orders built by livegate with the
   ``flatten`` flag, split so each one's conservative notional fits
   ``[risk] max_order_notional_usd``. The flag exempts them from the rate, duplicate,
   turnover and daily-count gates only (:func:`livegate.risk.counters.is_flatten`); every
   other gate — reduce-only, price band, quote tripwires, notional caps — still decides;
3. a denial or an unfilled remainder waits ``retry_secs`` (for a fresh quote, for the
   venue) and the next round tries again.

All of it runs inside the kill switch's flatten window, so reduce-only orders pass a
HALTED trading state; nothing else does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from livegate.config.models import LivegateConfig
from livegate.domain.clock import monotonic_secs
from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.instruments import Instrument
from livegate.domain.orders import OrderIntent
from livegate.execution.engine import ExecutionEngine
from livegate.risk.exposure import intent_price, pad_factor
from livegate.risk.gate import RiskContext
from livegate.risk.killswitch import KillSwitch

__all__ = [
    "FLATTEN_STRATEGY_ID",
    "FlattenPlan",
    "FlattenResult",
    "cancel_working",
    "close_intent",
    "flatten_positions",
    "plan_for",
    "split_quantity",
    "start_flatten",
]

#: Strategy id of flatten orders (their client order ids get their own tag).
FLATTEN_STRATEGY_ID = "livegate-flatten"
_CONFIRM_POLL_SECS = 0.02


def close_intent(symbol: str, position: Decimal, quantity: Decimal, seq: int, ts_ms: int) -> OrderIntent:
    """Return the reduce-only flatten market IOC intent closing ``quantity`` of ``position`` (signed, base units)."""
    return OrderIntent(
        symbol=symbol,
        side=Side.SELL if position > 0 else Side.BUY,
        quantity=quantity,
        order_type=OrderType.MARKET,
        price=None,
        time_in_force=TimeInForce.IOC,
        post_only=False,
        reduce_only=True,
        strategy_id=FLATTEN_STRATEGY_ID,
        seq=seq,
        ts_ms=ts_ms,
        flatten=True,
    )


def split_quantity(quantity: Decimal, price: Decimal | None, cap_usd: Decimal | None, lot: Decimal) -> list[Decimal]:
    """Split ``quantity`` (base units) into pieces whose notional at ``price`` is at most ``cap_usd``.

    Pieces are whole lots, largest first; without a cap or a price the whole quantity is
    one piece (the notional gate then decides). A cap below one lot's notional returns
    one lot per piece, which the notional gate denies: flatten never goes above a cap.
    """
    if cap_usd is None or price is None or price <= 0 or quantity <= 0:
        return [quantity] if quantity > 0 else []
    per = (cap_usd / price / lot).to_integral_value(rounding=ROUND_FLOOR) * lot
    per = max(per, lot)
    pieces = []
    left = quantity
    while left > 0:
        piece = min(per, left)
        pieces.append(piece)
        left -= piece
    return pieces


@dataclass(frozen=True, slots=True)
class FlattenPlan:
    """How flatten proceeds.

    Parameters
    ----------
    max_order_notional_usd:
        ``[risk] max_order_notional_usd``: the size of each piece (None: one order per position).
    pad:
        The price band pad of the notional gate (:func:`livegate.risk.exposure.pad_factor`).
    timeout_secs:
        Give up after this many wall seconds (not flat: the caller reports it).
    retry_secs:
        Wait between two rounds.
    cancel_timeout_secs:
        How long each round waits for the venues to confirm no open orders.
    """

    max_order_notional_usd: Decimal | None = None
    pad: Decimal = Decimal(1)
    timeout_secs: float = 30.0
    retry_secs: float = 0.5
    cancel_timeout_secs: float = 5.0


def plan_for(config: LivegateConfig, *, timeout_secs: float, retry_secs: float = 0.5) -> FlattenPlan:
    """Return the flatten plan of ``config``: pieces at ``[risk] max_order_notional_usd``, the price band pad."""
    risk = config.risk
    return FlattenPlan(
        max_order_notional_usd=risk.max_order_notional_usd,
        pad=pad_factor(risk.price_band_bps),
        timeout_secs=timeout_secs,
        retry_secs=retry_secs,
        cancel_timeout_secs=config.kill.cancel_confirm_timeout_ms / 1000,
    )


@dataclass(slots=True)
class FlattenResult:
    """What flatten did: every decision, the rounds, and what is left."""

    decisions: list[Approved | Denied] = field(default_factory=list)
    rounds: int = 0
    remaining: dict[str, Decimal] = field(default_factory=dict)
    open_orders: int = 0

    @property
    def flat(self) -> bool:
        """Return True when no position and no open order is left."""
        return not self.remaining and self.open_orders == 0


async def cancel_working(engine: ExecutionEngine, reason: str, timeout_secs: float) -> int:
    """Cancel every open order on every venue, confirm by polling; return the open orders left.

    Native cancel-all goes first where the venue has it (:meth:`ExecutionEngine.halt_all_venues`),
    then the open orders are polled every 20 ms until none remain or ``timeout_secs`` passed.
    """
    started = monotonic_secs()
    await engine.halt_all_venues(reason)
    remaining = await engine.venue_open_order_count(after_halt=True)
    while remaining and monotonic_secs() - started < timeout_secs:
        await asyncio.sleep(_CONFIRM_POLL_SECS)
        await engine.halt_all_venues(reason)
        remaining = await engine.venue_open_order_count(after_halt=True)
    return remaining


async def flatten_positions(
    engine: ExecutionEngine,
    kill: KillSwitch,
    ctx: RiskContext,
    now_ms: Callable[[], int],
    plan: FlattenPlan,
    *,
    limits: Mapping[str, Decimal] | None = None,
    refresh: Callable[[], Awaitable[None]] | None = None,
    on_denied: Callable[[Denied], None] | None = None,
) -> FlattenResult:
    """Cancel, then close every open position of ``ctx.portfolio`` round by round (see the module docstring).

    Parameters
    ----------
    engine, kill, ctx:
        The session's engine, kill switch and risk context (portfolio, quotes, instruments).
    now_ms:
        The session clock.
    plan:
        Sizes, timeout and retry interval.
    limits:
        Per symbol, the most that may be closed (the venue's own position, when it is
        smaller than the ledger's); a symbol at 0 is skipped.
    refresh:
        Called before each round after the first (fresh quotes, venue reports).
    on_denied:
        Called with each denied piece as it happens (the session reports an anomaly).
    """
    result = FlattenResult()
    started = monotonic_secs()
    while True:
        result.rounds += 1
        result.open_orders = await cancel_working(engine, "flatten: cancel before closing", plan.cancel_timeout_secs)
        result.remaining = _open_positions(ctx, limits)
        if result.remaining:
            with kill.flatten_window():
                for symbol, position in sorted(result.remaining.items()):
                    decisions = _close(engine, ctx, symbol, position, now_ms(), plan)
                    result.decisions.extend(decisions)
                    if on_denied is not None:
                        for decision in decisions:
                            if isinstance(decision, Denied):
                                on_denied(decision)
            await engine.dispatch()
            result.remaining = _open_positions(ctx, limits)
            result.open_orders = await engine.venue_open_order_count()
        if result.flat or monotonic_secs() - started + plan.retry_secs > plan.timeout_secs:
            return result
        await asyncio.sleep(plan.retry_secs)
        if refresh is not None:
            await refresh()


def start_flatten(
    engine: ExecutionEngine,
    kill: KillSwitch,
    ctx: RiskContext,
    now_ms: Callable[[], int],
    plan: FlattenPlan,
    *,
    on_denied: Callable[[Denied], None] | None = None,
) -> asyncio.Task[FlattenResult]:
    """Run :func:`flatten_positions` as a task of the running event loop and return it.

    For ``[kill] flatten_on_halt`` inside a session: the rounds (and their waits) run
    beside the session loop, whose timer keeps ticking and whose feed keeps the quotes
    in ``ctx`` fresh for the next round.
    """
    return asyncio.get_running_loop().create_task(
        flatten_positions(engine, kill, ctx, now_ms, plan, on_denied=on_denied), name="livegate-flatten"
    )


def _open_positions(ctx: RiskContext, limits: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    """Return the signed positions still to close, each capped to ``limits`` (the venue's size)."""
    left: dict[str, Decimal] = {}
    for position in ctx.portfolio.positions():
        quantity = position.quantity
        if quantity == 0:
            continue
        if limits is not None and position.symbol in limits:
            cap = limits[position.symbol]
            if cap == 0 or (cap > 0) != (quantity > 0):
                continue  # the venue holds nothing on this side: nothing to close there
            quantity = min(quantity, cap) if quantity > 0 else max(quantity, cap)
        left[position.symbol] = quantity
    return left


def _close(
    engine: ExecutionEngine, ctx: RiskContext, symbol: str, position: Decimal, ts_ms: int, plan: FlattenPlan
) -> list[Approved | Denied]:
    instrument: Instrument | None = ctx.instruments.get(symbol)
    lot = instrument.lot_size if instrument is not None else Decimal(0)
    quantity = abs(position)
    probe = close_intent(symbol, position, quantity, -1, ts_ms)
    price = intent_price(probe, ctx, plan.pad)
    pieces = split_quantity(quantity, price, plan.max_order_notional_usd, lot) if lot > 0 else [quantity]
    decisions: list[Approved | Denied] = []
    for piece in pieces:
        decision = engine.submit_intent(close_intent(symbol, position, piece, engine.new_intent_seq(), ts_ms))
        decisions.append(decision)
        if isinstance(decision, Denied):
            break  # the rest waits for the next round
    return decisions
