"""Trading-day counters and the equity peak shared by the loss limits and the kill triggers.

The trading day starts at midnight of ``day_boundary_tz`` (``[risk] day_boundary_tz``,
default UTC; the zone rules come from :mod:`zoneinfo`, so DST days are 23 or 25 hours
long). At the boundary the order count resets and the turnover and equity baselines are
re-taken, so "daily" means "since the start of this trading day" (issue 3). The drawdown
is measured from the highest day PnL seen that day, not from the start (the Hummingbot
mistake).

A session's book is attached to its venue account's :class:`~livegate.risk.budget_store.BudgetStore`
(:meth:`DailyBook.attach`, issue 9 §5): what other sessions of the same account used
today (orders, turnover, PnL, the equity peak) is added to this session's own use, and
this session's use is written back: at once for each approved order when the store is
durable (venue accounts), at most once a second of wall time otherwise, and at the end
(:meth:`DailyBook.flush`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from livegate.domain.clock import monotonic_secs
from livegate.marketdata.quote_cache import QuoteCache
from livegate.portfolio import Portfolio
from livegate.risk.budget_store import BudgetStore, DayBudget, SessionBudget

_ZERO = Decimal(0)
#: Wall seconds between two writes of a non-durable budget file (replayed runs).
_FLUSH_EVERY_SECS = 1.0


def next_day_boundary_ms(now_ms: int, zone: ZoneInfo) -> int:
    """Return the first midnight of ``zone`` strictly after ``now_ms`` (ms since the epoch, UTC)."""
    local = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return int(midnight.timestamp() * 1000)


class EquityPeak:
    """The highest day PnL seen (quote currency) and the fall from it.

    Callers pass the session's equity PnL (0 at the session start); ``offset`` turns it
    into the account's PnL since the start of the trading day (other sessions' PnL today
    minus this session's equity at the day start), set by :class:`DailyBook`. Unattached,
    the offset is 0 and the peak starts at 0 (the session's starting equity).
    """

    __slots__ = ("offset", "peak")

    def __init__(self) -> None:
        self.peak = _ZERO
        self.offset = _ZERO

    def drawdown(self, equity: Decimal) -> Decimal:
        """Record ``equity`` (session equity PnL, USD) and return peak - day PnL (>= 0)."""
        value = equity + self.offset
        if value > self.peak:
            self.peak = value
        return self.peak - value


class DailyBook:
    """Per-trading-day baselines and counters; :meth:`roll` is O(1) except at the boundary.

    Parameters
    ----------
    zone:
        IANA zone name of the day boundary (``[risk] day_boundary_tz``).
    peak:
        The equity peak it resets at the day boundary and restores from the budget store.
    """

    __slots__ = (
        "_base_fees",
        "_base_realized",
        "_carried",
        "_day",
        "_dirty",
        "_last_flush_secs",
        "_peak",
        "_portfolio",
        "_quotes",
        "_session_id",
        "_store",
        "_zone",
        "day_start_equity",
        "day_start_turnover",
        "next_boundary_ms",
        "orders_today",
    )

    def __init__(self, zone: str = "UTC", peak: EquityPeak | None = None) -> None:
        self._zone = ZoneInfo(zone)
        self._peak = peak or EquityPeak()
        self.next_boundary_ms = -1
        self.orders_today = 0
        self.day_start_turnover = _ZERO
        self.day_start_equity: Decimal | None = _ZERO
        self._base_realized = _ZERO
        self._base_fees = _ZERO
        self._carried = SessionBudget()
        self._store: BudgetStore | None = None
        self._day: DayBudget | None = None
        self._session_id = ""
        self._portfolio: Portfolio | None = None
        self._quotes: QuoteCache | None = None
        self._dirty = False
        self._last_flush_secs = 0.0

    @property
    def zone_name(self) -> str:
        """Return the IANA zone of the day boundary."""
        return self._zone.key

    @property
    def carried(self) -> SessionBudget:
        """Return what the account's other sessions used today."""
        return self._carried

    # ------------------------------------------------------------------ budget store
    def attach(
        self,
        store: BudgetStore,
        session_id: str,
        now_ms: int,
        portfolio: Portfolio,
        quotes: QuoteCache,
        *,
        count_from_ledger: bool,
    ) -> None:
        """Continue the account's trading day from ``store`` at session time ``now_ms``.

        Other sessions' use today is carried. This session's own entry (a resume) gives
        back its baselines; its order count is taken from the entry unless
        ``count_from_ledger`` (the caller then replays the ledger's approved intents of
        today through ``record_approved``).

        Raises
        ------
        ConfigError
            If the budget file is unreadable (fail closed).
        """
        self._store, self._session_id = store, session_id
        self._portfolio, self._quotes = portfolio, quotes
        self._start_day(store, now_ms, portfolio, quotes, resume_own=True, count_from_ledger=count_from_ledger)
        self.flush()

    def count_order(self) -> None:
        """Count one approved order today; a durable store writes it before the venue call.

        Raises
        ------
        OSError
            If the durable budget file cannot be written (the pipeline then denies).
        """
        self.orders_today += 1
        self._dirty = True
        store = self._store
        if store is not None and store.durable:
            self.flush()

    def flush(self) -> None:
        """Write this session's use of today's budgets to the store (no-op when unattached).

        Raises
        ------
        OSError
            If the budget file cannot be written.
        """
        store, day, portfolio = self._store, self._day, self._portfolio
        if store is None or day is None or portfolio is None or self._quotes is None:
            return
        equity = portfolio.equity_pnl(self._quotes.mid)
        previous = day.sessions.get(self._session_id)
        base_equity = self.day_start_equity if self.day_start_equity is not None else _ZERO
        pnl = (equity - base_equity) if equity is not None else (previous.pnl_usd if previous else _ZERO)
        used = SessionBudget(
            orders=max(self.orders_today - self._carried.orders, 0),
            turnover_usd=portfolio.turnover() - self.day_start_turnover,
            realized_usd=portfolio.realized_pnl() - self._base_realized,
            fees_usd=portfolio.fees() - self._base_fees,
            pnl_usd=pnl,
            base_turnover_usd=self.day_start_turnover,
            base_realized_usd=self._base_realized,
            base_fees_usd=self._base_fees,
            base_equity_usd=base_equity,
        )
        self._day = day.with_session(self._session_id, used, self._peak.peak)
        store.save(self._day)
        self._dirty = False
        self._last_flush_secs = monotonic_secs()

    def checkpoint(self) -> None:
        """Flush when attached and a second of wall time passed since the last write (heartbeats)."""
        if self._store is not None and monotonic_secs() - self._last_flush_secs >= _FLUSH_EVERY_SECS:
            self.flush()

    # ------------------------------------------------------------------ the day
    def roll(self, now_ms: int, portfolio: Portfolio, quotes: QuoteCache) -> None:
        """Start a new trading day when ``now_ms`` reached the boundary (the first call starts day one).

        Attached books also write their use at most once a second here (the kill
        triggers call this at every heartbeat).
        """
        if now_ms < self.next_boundary_ms:
            if self._store is not None:
                self.checkpoint()
            return
        first = self.next_boundary_ms < 0
        store = self._store
        if store is not None and not first:
            self.flush()  # the ending day's final use
            self._start_day(store, now_ms, portfolio, quotes, resume_own=False, count_from_ledger=False)
            self.flush()
            return
        self.next_boundary_ms = next_day_boundary_ms(now_ms, self._zone)
        self.orders_today = 0
        if first:
            return  # baselines of the session's first day: zero turnover and zero PnL at start
        self.day_start_turnover = portfolio.turnover()
        self.day_start_equity = portfolio.equity_pnl(quotes.mid)
        self._base_realized, self._base_fees = portfolio.realized_pnl(), portfolio.fees()
        self._peak.peak = _ZERO
        self._sync_offset()

    def _start_day(
        self,
        store: BudgetStore,
        now_ms: int,
        portfolio: Portfolio,
        quotes: QuoteCache,
        *,
        resume_own: bool,
        count_from_ledger: bool,
    ) -> None:
        self.next_boundary_ms = next_day_boundary_ms(now_ms, self._zone)
        day = store.load(self.next_boundary_ms, self._zone.key)
        self._day = day
        self._carried = day.others(self._session_id)
        own = day.sessions.get(self._session_id) if resume_own else None
        if own is not None:
            self.day_start_turnover, self.day_start_equity = own.base_turnover_usd, own.base_equity_usd
            self._base_realized, self._base_fees = own.base_realized_usd, own.base_fees_usd
        elif resume_own:  # the session's first day (or a resume whose entry was never written)
            self.day_start_turnover = self.day_start_equity = _ZERO
            self._base_realized = self._base_fees = _ZERO
        else:  # a day boundary inside the session
            self.day_start_turnover = portfolio.turnover()
            self.day_start_equity = portfolio.equity_pnl(quotes.mid)
            self._base_realized, self._base_fees = portfolio.realized_pnl(), portfolio.fees()
        own_orders = 0 if (own is None or count_from_ledger) else own.orders
        self.orders_today = self._carried.orders + own_orders
        self._peak.peak = max(day.peak_usd, _ZERO)
        self._sync_offset()

    def _sync_offset(self) -> None:
        base = self.day_start_equity if self.day_start_equity is not None else _ZERO
        self._peak.offset = self._carried.pnl_usd - base

    # ------------------------------------------------------------------ readings
    def turnover_today(self, portfolio: Portfolio) -> Decimal:
        """Return traded notional since the start of the trading day, other sessions included (USD)."""
        return self._carried.turnover_usd + portfolio.turnover() - self.day_start_turnover

    def pnl_today(self, portfolio: Portfolio, quotes: QuoteCache) -> Decimal | None:
        """Return realized + unrealized - fees since the start of the trading day; None when unknown.

        When the day rolled while a position had no mark, the baseline is re-taken at the
        first call that can value it.
        """
        return self.pnl_from(portfolio.equity_pnl(quotes.mid))

    def pnl_from(self, equity: Decimal | None) -> Decimal | None:
        """Return ``equity`` (PnL since the session start) as the account's PnL today; None when unknown."""
        if equity is None:
            return None
        if self.day_start_equity is None:
            self.day_start_equity = equity
            self._sync_offset()
        return self._carried.pnl_usd + equity - self.day_start_equity
