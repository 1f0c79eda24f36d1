"""How much this machine alone spreads the timing of a few microseconds of Python (for benchmarks/gates.py).

Two measures, both independent of livegate's code:

* :func:`measure_interruptions`: how often a busy thread is paused (timer ticks, other
  interrupts; on a virtual machine each one a trip through the hypervisor) and for how long.
* :func:`control_samples`: the per-call times of a fixed, deterministic piece of Python
  (Decimal multiply, add and compare, the kind of work the gates do) whose median is set
  to the pipeline's. It does exactly the same work on every call, so its p99 / p50 and
  p99.9 / p50 are the spread the machine adds to any evaluation of that length; a gate
  pipeline whose tail matches the control's has no slow path of its own.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from decimal import Decimal

#: Calls timed to set the control's length (its median is fitted to the target's).
CALIBRATION_CALLS = 3_000


@dataclass(frozen=True, slots=True)
class Interruptions:
    """How often, and for how long, this machine stops a busy Python thread (interrupts, a VM's exits)."""

    per_sec: float
    median_us: float
    p90_us: float


def measure_interruptions(seconds: float = 1.0, threshold_ns: int = 3_000) -> Interruptions:
    """Spin reading the clock for ``seconds``; count the pauses between two reads above ``threshold_ns``.

    Pauses of 1 ms and more (another process's time slice) are left out: what is counted is
    the short, periodic cost every thread pays (timer ticks and other interrupts; on a
    virtual machine, each one a trip through the hypervisor).
    """
    perf = time.perf_counter_ns
    end = perf() + int(seconds * 1e9)
    gaps: list[int] = []
    last = perf()
    while last < end:
        now = perf()
        if threshold_ns < now - last < 1_000_000:
            gaps.append(now - last)
        last = now
    if len(gaps) < 2:
        return Interruptions(len(gaps) / seconds, 0.0, 0.0)
    deciles = statistics.quantiles(gaps, n=10)
    return Interruptions(len(gaps) / seconds, statistics.median(gaps) / 1000, deciles[-1] / 1000)


def hit_line(samples: list[int], machine: Interruptions) -> str:
    """Say how many of a round's evaluations an interruption is expected to land in.

    An interruption lands in an evaluation with probability (time inside evaluations) x
    (interruptions per second). When that count exceeds a thousandth of the evaluations,
    the round's p99.9 is an interrupted evaluation: its own time plus one pause.
    """
    hits = sum(samples) / 1e9 * machine.per_sec
    return f"~{hits:.0f} evaluations interrupted (p99.9 is the {len(samples) // 1000}th slowest)"


def _control_call(steps: int, price: Decimal, quantity: Decimal, cap: Decimal) -> Decimal:
    """Do ``steps`` rounds of a notional check: the same work on every call."""
    total = Decimal(0)
    for _ in range(steps):
        total += price * quantity
        if total > cap:
            total = Decimal(0)
    return total


def control_samples(n: int, steps: int) -> list[int]:
    """Return the times (ns) of ``n`` calls of the control of ``steps`` steps, each timed as the gates are."""
    perf = time.perf_counter_ns
    price, quantity, cap = Decimal("61234.56"), Decimal("0.003"), Decimal(1_000_000)
    samples: list[int] = []
    for _ in range(n):
        t0 = perf()
        _control_call(steps, price, quantity, cap)
        samples.append(perf() - t0)
    return samples


def control_steps(target_median_ns: float) -> int:
    """Return the step count whose control call has a median of about ``target_median_ns``."""
    steps = 16
    for _ in range(3):
        median = statistics.median(control_samples(CALIBRATION_CALLS, steps))
        steps = max(1, round(steps * target_median_ns / median))
    return steps
