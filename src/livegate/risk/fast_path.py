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

Exactness: every comparison is made on the value the gate compares. The fast path
performs the gate's Decimal operations on the same values in the same order; it only
reuses a result the chain computes twice (``bid + ask``, ``ask x pad``, ``quantity x
price``), reads the book's share from :class:`~livegate.risk.book_figures.BookFigures`
(the same expressions, recomputed when the book changes), and skips adding a zero to a
sum that feeds only a comparison. A Decimal operation's value depends only on its
operands' values (correct rounding), so each compared value is the gate's.
``tests/risk/test_risk_fast_path.py`` checks on generated books, quotes, limits and
intent streams, boundaries included, that the chain with the fast path decides exactly
as the chain without it (code and detail) and leaves the same gate state.

This module finds the run; :mod:`livegate.risk.fast_path_compile` compiles it, with the
book-wide sums of :mod:`livegate.risk.fast_path_sums`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from livegate.domain.orders import OrderIntent
from livegate.risk import counters, limits
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
    prove, record = compile_run(run, ctx)
    recorders = tuple(g for g in run if isinstance(g, _RECORDERS))
    raiser = next((g for g in run if isinstance(g, counters.DailyOrderCountGate)), None)
    return FastPath(first, last, prove, record, recorders, raiser)


_RECORDERS = (counters.DuplicateIntentGate, counters.OrderRateGate, counters.DailyOrderCountGate)
