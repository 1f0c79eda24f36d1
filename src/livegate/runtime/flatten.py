"""Close positions with reduce-only market IOC orders through the pipeline (allowed while HALTED).

One routine for both callers: the kill switch's ``[kill] flatten_on_halt``
(:class:`~livegate.runtime.session_risk.SessionRisk`) and the operator's
``livegate flatten RUN_DIR`` (:mod:`livegate.runtime.offline`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from livegate.domain.decisions import Approved, Denied
from livegate.domain.enums import OrderType, Side, TimeInForce
from livegate.domain.orders import OrderIntent
from livegate.execution.engine import ExecutionEngine
from livegate.risk.killswitch import KillSwitch

__all__ = ["FLATTEN_STRATEGY_ID", "close_intent", "flatten_positions"]

#: Strategy id of flatten orders (their client order ids get their own tag).
FLATTEN_STRATEGY_ID = "livegate-flatten"


def close_intent(symbol: str, position: Decimal, seq: int, ts_ms: int) -> OrderIntent:
    """Return the reduce-only market IOC intent that closes ``position`` (signed, base units)."""
    return OrderIntent(
        symbol=symbol,
        side=Side.SELL if position > 0 else Side.BUY,
        quantity=abs(position),
        order_type=OrderType.MARKET,
        price=None,
        time_in_force=TimeInForce.IOC,
        post_only=False,
        reduce_only=True,
        strategy_id=FLATTEN_STRATEGY_ID,
        seq=seq,
        ts_ms=ts_ms,
    )


async def flatten_positions(
    engine: ExecutionEngine, kill: KillSwitch, positions: Iterable[tuple[str, Decimal]], now_ms: Callable[[], int]
) -> list[Approved | Denied]:
    """Submit one closing intent per non-flat ``(symbol, position)`` in the flatten window; send them."""
    decisions: list[Approved | Denied] = []
    with kill.flatten_window():
        for symbol, position in positions:
            if position != 0:
                decisions.append(
                    engine.submit_intent(close_intent(symbol, position, engine.new_intent_seq(), now_ms()))
                )
    await engine.dispatch()
    return decisions
