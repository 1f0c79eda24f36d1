"""The gate chain's fast path: one pass that proves "every gate allows" for the common intent.

:class:`~livegate.risk.pipeline.RiskPipeline` calls its gates one by one; on every intent
that is ~18 calls, each reading the same quote, instrument, position and working totals
again. The fast path judges the longest run of standard gates (the classes
:func:`~livegate.risk.chain.build_gates` builds, in that order) in one function: each
gate's allow condition with the gate's own arithmetic, and the gate's own side effects
(the tripwire's known-good quote, the day roll, the rate window, the duplicate key, the
equity peak).

It only ever proves an allow. It returns how many gates of its run it proved; the
pipeline then calls the first unproven gate's ``check`` and every gate after it as
before, so a denial, its code and its detail always come from the gate itself. Anything
the fast path does not settle (a non-ACTIVE trading state, a reduce-only intent that does
not reduce, a cap reached, a missing quote, an exception) ends the proof there.

Exactness: the proof runs on floats and proves only what the gates' Decimal arithmetic
would allow: a Decimal's float is correctly rounded, every amount is range-checked, and a
float figure proves a cap only when it clears it by a slack far larger than the float
and Decimal rounding errors together (the argument is in
:mod:`livegate.risk.fast_path_floats`); closer than that, the gate judges. Divisibility
(tick, lot), the quote sizes, the duplicate memory's amounts and a new equity peak are
computed exactly, in Decimal. The side effects (known-good quote, day roll, rate window,
duplicate key, equity peak) are the gates' own, with the gates' own values.
``tests/risk/test_risk_fast_path.py`` checks on generated books, quotes, limits and
intent streams, boundaries included, that the chain with the fast path decides exactly
as the chain without it (code and detail) and leaves the same gate state;
``tests/risk/test_risk_fast_path_floats.py`` puts caps within the slack of the figures.

This module finds the run and compiles its record; :mod:`livegate.risk.fast_path_compile`
compiles the proof, with the book gates of :mod:`livegate.risk.fast_path_book`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.orders import OrderIntent
from livegate.risk import counters, limits
from livegate.risk.daily import DailyBook
from livegate.risk.fast_path_compile import compile_run, pad_of
from livegate.risk.gate import Gate, RiskContext
from livegate.risk.killswitch import TradingStateGate
from livegate.risk.structural import StructuralGate
from livegate.risk.tripwires import MarketHoursGate, QuoteTripwireGate, VenueHealthGate

__all__ = ["FastPath", "find_fast_path"]

#: The standard gates in chain order (docs/architecture.md §1, :func:`~livegate.risk.chain.build_gates`).
_ORDER: tuple[type, ...] = (
    TradingStateGate,
    StructuralGate,
    QuoteTripwireGate,
    MarketHoursGate,
    VenueHealthGate,
    limits.AllowlistGate,
    limits.ReduceOnlyGate,
    limits.PriceBandGate,
    counters.DuplicateIntentGate,
    counters.OrderRateGate,
    counters.DailyOrderCountGate,
    limits.OpenOrdersGate,
    limits.PositionsCountGate,
    limits.OrderNotionalGate,
    limits.SymbolNotionalGate,
    limits.GrossNotionalGate,
    counters.DailyTurnoverGate,
    counters.DailyLossGate,
    counters.DrawdownGate,
)
_RANK = {kind: rank for rank, kind in enumerate(_ORDER)}


@dataclass(frozen=True, slots=True)
class FastPath:
    """The fast path of the run ``gates[start:end]`` of a chain.

    ``prove(intent)`` returns how many gates of the run, counted from the first, allow
    the intent. ``record(intent)`` does what the run's recording gates'
    ``record_approved`` do, in their order (``recorders``); of those, only the daily
    order count can raise (a durable budget write), so an exception there is that gate's
    (``record_raiser``).
    """

    start: int
    end: int
    prove: Callable[[OrderIntent], int]
    record: Callable[[OrderIntent], None]
    recorders: tuple[Gate, ...]
    record_raiser: Gate | None


def _same(a: Decimal, b: Decimal) -> bool:
    return a == b and str(a) == str(b)


def find_fast_path(gates: Sequence[Gate], ctx: RiskContext) -> FastPath | None:
    """Return the fast path of the longest run ``gates[start:end]`` it can judge, or None.

    A run holds standard gates (exactly those classes, not subclasses) in chain order,
    each kind at most once, the notional and turnover gates priced with one pad. Fewer
    than two gates in a row are not worth it (None).
    """
    best = (0, 0)
    start = 0
    while start < len(gates):
        end, rank, pad = start, -1, None
        while end < len(gates):
            kind, gate_pad = type(gates[end]), pad_of(gates[end])
            if _RANK.get(kind, -1) <= rank or (gate_pad is not None and pad is not None and not _same(gate_pad, pad)):
                break
            rank, pad = _RANK[kind], gate_pad if gate_pad is not None else pad
            end += 1
        if end - start > best[1] - best[0]:
            best = (start, end)
        start = max(end, start + 1)
    first, last = best
    if last - first < 2:
        return None
    run = gates[first:last]
    prove = compile_run(run, ctx)
    recorders = tuple(g for g in run if isinstance(g, _RECORDERS))
    dup = next((g for g in run if isinstance(g, counters.DuplicateIntentGate)), None)
    rate = next((g for g in run if isinstance(g, counters.OrderRateGate)), None)
    raiser = next((g for g in run if isinstance(g, counters.DailyOrderCountGate)), None)
    record = compile_record(dup, None if rate is None else rate._times, None if raiser is None else raiser._daily)
    return FastPath(first, last, prove, record, recorders, raiser)


_RECORDERS = (counters.DuplicateIntentGate, counters.OrderRateGate, counters.DailyOrderCountGate)


def compile_record(
    g_dup: counters.DuplicateIntentGate | None,
    rate_times: deque[int] | None,
    count_daily: DailyBook | None,
) -> Callable[[OrderIntent], None]:
    """Return what the run's recording gates' ``record_approved`` do, in chain order, as one call.

    ``g_dup`` is the run's duplicate gate, ``rate_times`` the rate gate's window of
    approval times (ms), ``count_daily`` the daily order count gate's book (None: not in
    the run). The common cases of ``DuplicateIntentGate.remember`` and
    ``DailyBook.count_order`` are inline (the same state changes); only the budget
    write of a durable store can raise.
    """
    dup_window = g_dup._window_ms if g_dup is not None else 0

    def record(intent: OrderIntent) -> None:
        ts = intent.ts_ms
        if g_dup is not None:  # DuplicateIntentGate.record_approved
            key = g_dup._key
            last = g_dup._last
            if key is None or g_dup._key_for is not intent:  # a flatten passed without building its key
                key = counters.duplicate_key(intent)
                approvals = last.get(key)
            else:  # what the check (or the proof) of this intent found under its key
                approvals = g_dup._found
            if approvals is None:
                if len(last) < counters.DUPLICATE_KEYS_KEPT:  # DuplicateIntentGate.file_new, inline: nothing to forget
                    last[key] = ((intent.quantity, intent.price, ts),)
                    g_dup._order.append(key)
                else:
                    g_dup.file_new(key, intent.quantity, intent.price, ts)
            elif len(approvals) == 1 and ts - approvals[0][2] >= dup_window:  # inline: the key's only approval
                last[key] = ((intent.quantity, intent.price, ts),)
            else:
                g_dup.remember(key, intent.quantity, intent.price, ts)
        if rate_times is not None:  # OrderRateGate.record_approved
            rate_times.append(ts)
        if count_daily is not None:  # DailyOrderCountGate.record_approved: DailyBook.count_order, inline
            count_daily.orders_today += 1
            count_daily._dirty = True
            store = count_daily._store
            if store is not None and store.durable:
                count_daily.flush()

    return record
