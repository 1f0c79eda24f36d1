"""Canary routing: a seeded, deterministic share of intents goes live, smaller, under a daily ramp cap.

The rule (issue 4): intent ``i`` goes live when
``int(sha256(f"{seed}:{client_order_id}")[:13 hex]) / 16**13 < live_fraction``; the rest
go to the shadow venue. The client order id is itself deterministic in (session,
strategy, intent sequence) (docs/architecture.md §3.6), so the same seed and session route the same
intents live on every run. Live orders are sized at ``size_multiplier`` of the intent,
rounded down to the lot. :class:`CanaryRampGate` denies ``CANARY_RAMP_CAP`` once the
live notional approved in the current UTC day would pass
``[canary] max_live_notional_usd_per_day``.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from livegate.domain.enums import DenialCode, OrderType
from livegate.domain.ids import client_order_id
from livegate.domain.instruments import Instrument
from livegate.domain.orders import OrderIntent
from livegate.risk.gate import Deny, RiskContext

__all__ = ["CanaryRampGate", "CanaryRouter", "canary_draw"]

_DRAW_HEX_DIGITS = 13
_DRAW_SCALE = Decimal(16**_DRAW_HEX_DIGITS)
_DAY_MS = 86_400_000


def canary_draw(seed: int, client_order_id: str) -> Decimal:
    """Return the intent's deterministic draw in [0, 1) from the seed and its client order id."""
    digest = hashlib.sha256(f"{seed}:{client_order_id}".encode()).hexdigest()
    return Decimal(int(digest[:_DRAW_HEX_DIGITS], 16)) / _DRAW_SCALE


class CanaryRouter:
    """Pick the venue of each intent: the live venue for the canary share, else shadow.

    Parameters
    ----------
    seed:
        The run's seed.
    session_id:
        The session id that enters the client order ids.
    live_fraction:
        ``[canary] live_fraction`` in [0, 1].
    size_multiplier:
        ``[canary] size_multiplier`` in (0, 1].
    live_venue, shadow_venue:
        Venue names of the live adapter and of the shadow venue.

    Notes
    -----
    The intent's ``strategy_id`` must be the strategy name the engine derives client
    order ids from (the runtime passes the same name to both).
    """

    def __init__(
        self,
        *,
        seed: int,
        session_id: str,
        live_fraction: Decimal,
        size_multiplier: Decimal,
        live_venue: str,
        shadow_venue: str,
    ) -> None:
        if not Decimal(0) <= live_fraction <= Decimal(1):
            raise ValueError(f"live_fraction must be in [0, 1], got {live_fraction}")
        if not Decimal(0) < size_multiplier <= Decimal(1):
            raise ValueError(f"size_multiplier must be in (0, 1], got {size_multiplier}")
        self._seed = seed
        self._session_id = session_id
        self._live_fraction = live_fraction
        self._size_multiplier = size_multiplier
        self.live_venue = live_venue
        self.shadow_venue = shadow_venue

    def goes_live(self, strategy_id: str, seq: int) -> bool:
        """Return True when intent ``seq`` of ``strategy_id`` is in the live share."""
        cid = client_order_id(self._session_id, strategy_id, seq)
        return canary_draw(self._seed, cid) < self._live_fraction

    def route(self, intent: OrderIntent) -> str:
        """Return the venue name for ``intent`` (the engine's router)."""
        return self.live_venue if self.goes_live(intent.strategy_id, intent.seq) else self.shadow_venue

    def live_quantity(self, quantity: Decimal, instrument: Instrument | None) -> Decimal:
        """Return ``quantity x size_multiplier`` rounded down to the lot (unchanged without an instrument)."""
        scaled = quantity * self._size_multiplier
        return scaled if instrument is None else instrument.round_quantity(scaled)


class CanaryRampGate:
    """Deny a live canary intent once today's approved live notional would pass the ramp cap.

    Parameters
    ----------
    router:
        The canary router; intents it sends to shadow pass untouched.
    max_live_notional_usd_per_day:
        The ramp cap in USD (USDT as USD) per UTC day.

    Notes
    -----
    Notional is price x quantity for limits and the far side of the last quote for
    market orders; a market order without a quote is denied ``UNKNOWN_PRICE`` (fail
    closed). Approved notional counts, filled or not, so the cap is conservative.
    """

    name = "canary_ramp"

    def __init__(self, router: CanaryRouter, max_live_notional_usd_per_day: Decimal) -> None:
        self._router = router
        self._cap = max_live_notional_usd_per_day
        self._day = -1
        self._used = Decimal(0)

    @property
    def used_usd(self) -> Decimal:
        """Return the live notional approved in the current day, in USD."""
        return self._used

    def check(self, intent: OrderIntent, ctx: RiskContext) -> Deny | None:
        """Return a Deny when the intent is live and would pass the daily ramp cap."""
        if not self._router.goes_live(intent.strategy_id, intent.seq):
            return None
        notional = _notional(intent, ctx)
        if notional is None:
            return Deny(DenialCode.UNKNOWN_PRICE, f"market order on {intent.symbol} with no quote")
        used = self._used if self._day_of(ctx) == self._day else Decimal(0)
        if used + notional > self._cap:
            return Deny(
                DenialCode.CANARY_RAMP_CAP,
                f"live notional today would be {used + notional:,.2f} USD > ramp cap {self._cap:,.2f} USD",
            )
        return None

    def record_approved(self, intent: OrderIntent, ctx: RiskContext) -> None:
        """Add an approved live intent's notional to today's total."""
        if not self._router.goes_live(intent.strategy_id, intent.seq):
            return
        day = self._day_of(ctx)
        if day != self._day:
            self._day, self._used = day, Decimal(0)
        self._used += _notional(intent, ctx) or Decimal(0)

    @staticmethod
    def _day_of(ctx: RiskContext) -> int:
        return ctx.clock.now_ms() // _DAY_MS


def _notional(intent: OrderIntent, ctx: RiskContext) -> Decimal | None:
    if intent.order_type is OrderType.LIMIT and intent.price is not None:
        return intent.price * intent.quantity
    quote = ctx.quotes.last(intent.symbol)
    if quote is None:
        return None
    far = quote.ask_price if intent.side.sign > 0 else quote.bid_price
    return far * intent.quantity
