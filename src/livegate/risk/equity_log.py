"""The log line of an equity gate's denial, at most once a minute per gate and symbol.

Line (docs/venues_equities.md "Equity gates"): ``equity gate <CODE> symbol=<S>: <detail>``,
logger ``livegate.risk.equity``. The denial itself is recorded in the ledger and
telemetry for every intent; the log line only tells the operator why orders stopped,
without a line per quote.
"""

from __future__ import annotations

import logging

from livegate.risk.gate import Deny

__all__ = ["DenialLog"]

log = logging.getLogger("livegate.risk.equity")

#: Clock time between two lines of the same gate and symbol.
_EVERY_MS = 60_000


class DenialLog:
    """Write an equity gate's denial line, throttled per (code, symbol) by clock time (ms)."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = {}

    def __call__(self, deny: Deny, symbol: str, now_ms: int) -> Deny:
        """Log ``deny`` unless the same code and symbol were logged less than a minute ago; return it."""
        key = (deny.code.value, symbol)
        last = self._last.get(key)
        if last is None or now_ms - last >= _EVERY_MS:
            self._last[key] = now_ms
            log.info("equity gate %s symbol=%s: %s", deny.code.value, symbol, deny.detail)
        return deny
