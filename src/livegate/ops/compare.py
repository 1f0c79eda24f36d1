"""``livegate compare RUN_A RUN_B``: intent-level differences between two runs.

The typical pair is a venue run (shadow, canary, live) and its paper replay on the market
data the venue run recorded (``RUN_DIR/market/``, :mod:`livegate.marketdata.recorder`).

Matching: intents are aligned in sequence order by their content — strategy, symbol,
side, order type, quantity, price, time in force, post-only, reduce-only — with
:class:`difflib.SequenceMatcher`, so one extra or missing intent does not shift every
later one. Then:

* a **decision difference** is an intent only one run made, an aligned pair whose
  content differs (``changed``), or an aligned pair whose decision differs (approved in
  one, denied in the other, or denied with another code);
* aligned pairs report the time offset (B - A, ms): a venue session runs on wall time,
  its replay on the recorded event times, so small offsets are expected and are not
  differences;
* execution differences of aligned approved pairs: filled in one run only, filled
  quantity, and the fill price difference in bps of A's average price, signed so that a
  positive number means B filled worse (bought higher or sold lower);
* per run: intents, approvals, denials by code, fill rate (approved intents with a fill /
  approved intents), fills, slippage median (bps, where the ledger records it), PnL,
  fees and turnover (USD, ``summary.json``), and for a venue run the events it recorded
  and how many of them were out of exchange-time order (the replay, which orders by
  exchange time, processes those earlier than the venue run did: a strategy reading both
  quotes and trades may decide differently there).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path

from livegate.ops.compare_load import PNL_FIELDS, IntentFacts, RunFacts, load_run

__all__ = ["DecisionDifference", "ExecutionDifference", "RunComparison", "compare_facts", "compare_runs", "run_stats"]

_BPS = Decimal(10_000)
#: Fill rates are printed to 4 decimal places.
_RATE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class DecisionDifference:
    """One intent-level decision difference.

    Attributes
    ----------
    kind:
        ``only_in_a``, ``only_in_b``, ``changed`` (aligned, content differs) or
        ``decision`` (same content, different decision).
    a, b:
        The intent of each run (None on the side that has none).
    """

    kind: str
    a: IntentFacts | None
    b: IntentFacts | None

    def describe(self) -> str:
        """Return one line, e.g. ``decision: #4 buy 0.002 BTCUSDT ... approved -> denied MAX_OPEN_ORDERS``."""
        a, b = self.a, self.b
        if a is not None and b is not None:
            if self.kind == "decision":
                return f"decision: {a.describe()}: {a.outcome} (A) vs {b.outcome} (B)"
            return f"changed: A {a.describe()} ({a.outcome}) vs B {b.describe()} ({b.outcome})"
        only = a if a is not None else b
        assert only is not None
        return f"{self.kind}: {only.describe()} ({only.outcome})"

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "kind": self.kind,
            "a": None if self.a is None else self.a.to_record(),
            "b": None if self.b is None else self.b.to_record(),
        }


@dataclass(frozen=True, slots=True)
class ExecutionDifference:
    """An aligned pair, approved in both runs, that filled differently.

    Attributes
    ----------
    a, b:
        The two intents.
    price_diff_bps:
        B's average fill price against A's, in bps of A's, positive = B worse for the
        side; None unless both filled.
    """

    a: IntentFacts
    b: IntentFacts
    price_diff_bps: Decimal | None

    def describe(self) -> str:
        """Return one line naming filled quantities and prices of both runs."""
        a, b = self.a, self.b
        diff = "" if self.price_diff_bps is None else f", B worse by {self.price_diff_bps:.2f} bps"
        return (
            f"fill: {a.describe()}: A {a.filled_quantity} @ {a.average_fill_price}"
            f" vs B {b.filled_quantity} @ {b.average_fill_price}{diff}"
        )

    def to_record(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return {
            "seq_a": self.a.seq,
            "seq_b": self.b.seq,
            "filled_quantity_a": str(self.a.filled_quantity),
            "filled_quantity_b": str(self.b.filled_quantity),
            "average_fill_price_a": _text(self.a.average_fill_price),
            "average_fill_price_b": _text(self.b.average_fill_price),
            "price_diff_bps": _text(self.price_diff_bps),
        }


@dataclass(slots=True)
class RunComparison:
    """The result of :func:`compare_runs`.

    Attributes
    ----------
    a, b:
        The two runs.
    matched:
        Aligned pairs with equal content (their decision may still differ).
    decisions:
        Decision differences (:class:`DecisionDifference`), in alignment order.
    executions:
        Aligned approved pairs that filled differently.
    time_offsets_ms:
        B - A intent times of the matched pairs (ms).
    """

    a: RunFacts
    b: RunFacts
    matched: int = 0
    decisions: list[DecisionDifference] = field(default_factory=list)
    executions: list[ExecutionDifference] = field(default_factory=list)
    time_offsets_ms: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Return True when no decision differs (execution and PnL may still differ)."""
        return not self.decisions

    def to_record(self, limit: int | None = None) -> dict[str, object]:
        """Return a JSON-ready dict; ``limit`` caps the listed differences (counts stay complete)."""
        offsets = self.time_offsets_ms
        return {
            "run_a": run_stats(self.a),
            "run_b": run_stats(self.b),
            "matched_intents": self.matched,
            "decision_differences": len(self.decisions),
            "decision_differences_by_kind": dict(Counter(d.kind for d in self.decisions)),
            "execution_differences": len(self.executions),
            "time_offset_ms": {
                "median": statistics.median(offsets) if offsets else None,
                "max_abs": max((abs(o) for o in offsets), default=None),
            },
            "pnl_difference_usd": {
                name: _text(_minus(self.b.money.get(name), self.a.money.get(name))) for name in PNL_FIELDS
            },
            "decisions": [d.to_record() for d in self.decisions[:limit]],
            "executions": [e.to_record() for e in self.executions[:limit]],
        }


def compare_runs(run_a: Path, run_b: Path) -> RunComparison:
    """Compare two run directories at the intent level (see the module docstring).

    Raises
    ------
    DataError
        If either run directory or its ledger cannot be read.
    """
    return compare_facts(load_run(run_a), load_run(run_b))


def compare_facts(a: RunFacts, b: RunFacts) -> RunComparison:
    """Compare two loaded runs at the intent level (see the module docstring)."""
    result = RunComparison(a, b)
    left, right = a.intents, b.intents
    matcher = SequenceMatcher(None, [i.content for i in left], [i.content for i in right], autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(left[a0:a1], right[b0:b1], strict=True):
                _compare_pair(result, x, y)
            continue
        pairs = min(a1 - a0, b1 - b0) if op == "replace" else 0
        for k in range(pairs):
            result.decisions.append(DecisionDifference("changed", left[a0 + k], right[b0 + k]))
        result.decisions += [DecisionDifference("only_in_a", x, None) for x in left[a0 + pairs : a1]]
        result.decisions += [DecisionDifference("only_in_b", None, y) for y in right[b0 + pairs : b1]]
    return result


def _compare_pair(result: RunComparison, a: IntentFacts, b: IntentFacts) -> None:
    result.matched += 1
    result.time_offsets_ms.append(b.ts_ms - a.ts_ms)
    if a.outcome != b.outcome:
        result.decisions.append(DecisionDifference("decision", a, b))
        return
    if not a.approved:
        return
    price_diff = None
    if a.average_fill_price is not None and b.average_fill_price is not None and a.average_fill_price:
        sign = 1 if a.side == "buy" else -1
        price_diff = sign * (b.average_fill_price - a.average_fill_price) / a.average_fill_price * _BPS
    if a.filled_quantity != b.filled_quantity or (price_diff is not None and price_diff != 0):
        result.executions.append(ExecutionDifference(a, b, price_diff))


def run_stats(run: RunFacts) -> dict[str, object]:
    """Return one run's counts, fill rate, slippage median and money (JSON-ready).

    ``fill_rate`` is approved intents with any fill / approved intents (None without
    approvals); ``slippage_median_bps`` is over the intents whose fills record slippage.
    """
    approved = [i for i in run.intents if i.approved]
    filled = [i for i in approved if i.filled_quantity]
    slips = [i.slippage_bps for i in filled if i.slippage_bps is not None]
    return {
        "run_dir": str(run.run_dir),
        "mode": run.mode,
        "intents": len(run.intents),
        "approved": len(approved),
        "denied_by_code": dict(Counter(i.denial_code for i in run.intents if not i.approved)),
        "intents_filled": len(filled),
        "fill_rate": _text((Decimal(len(filled)) / len(approved)).quantize(_RATE) if approved else None),
        "fills": run.fills,
        "slippage_median_bps": _text(statistics.median(slips) if slips else None),
        "recorded_events": _recorded(run.recording),
        "recorded_out_of_order": run.recording.get("out_of_order_events"),
        **{name: _text(value) for name, value in run.money.items()},
    }


def _recorded(recording: dict[str, object]) -> int | None:
    quotes, trades = recording.get("quotes"), recording.get("trades")
    return quotes + trades if isinstance(quotes, int) and isinstance(trades, int) else None


def _minus(x: Decimal | None, y: Decimal | None) -> Decimal | None:
    return None if x is None or y is None else x - y


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
