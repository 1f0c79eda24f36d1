"""Preflight checks of a TWS / IB Gateway connection: API, read-only mode, market-data entitlements.

* ``ibkr api``: the API handshake succeeded (TWS "Enable ActiveX and Socket Clients" is
  on and the port is right; otherwise connect fails with 502 or a refused socket, and
  "venue reachable" fails first). Shows the server version and the account.
* ``ibkr read-only``: a what-if order (``whatIf=True``: TWS computes margin and never
  places it) on the first symbol. A TWS with "Read-Only API" ticked refuses it with error
  321 ("The API interface is currently in Read-Only mode"): FAIL, since every order of
  the session would be refused the same way.
* ``ibkr market data``: the market-data stream of every symbol gives a quote within the
  timeout; shows tick-by-tick or top of book per symbol. A refusal (354, 10089, 10090,
  10168) fails.

Sources: TWS API "Message Codes" (interactivebrokers.github.io/tws-api/message_codes.html),
"Placing Orders > Checking Margin Changes" (what-if orders).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from ib_async import LimitOrder

from livegate.domain.errors import VenueError
from livegate.domain.market import Quote
from livegate.modes.preflight_artifact import CheckResult
from livegate.venues.base import MarketDataEvent

__all__ = ["READ_ONLY_CODE", "api_check", "market_data_check", "read_only_check"]

#: TWS error 321 "Error validating request" whose text names the Read-Only API setting.
READ_ONLY_CODE = 321


def api_check(ib: Any, host: str, port: int, account: str) -> CheckResult:
    """Return the API handshake check (PASS when connected)."""
    if not ib.isConnected():
        return CheckResult("ibkr api", "FAIL", f"no API connection to {host}:{port}")
    version = ib.client.serverVersion()
    return CheckResult("ibkr api", "PASS", f"TWS API at {host}:{port}, server version {version}, account {account}")


async def read_only_check(ib: Any, contract: Any, account: str, timeout_secs: float) -> CheckResult:
    """Send a what-if order; FAIL on error 321 (read-only API), WARN when TWS does not answer."""
    errors: list[tuple[int, str]] = []

    def on_error(req_id: int, code: int, message: str, _contract: Any) -> None:
        errors.append((code, message))

    ib.errorEvent += on_error
    try:
        probe = LimitOrder("BUY", 1, 1.0, account=account, tif="DAY")
        state = await asyncio.wait_for(ib.whatIfOrderAsync(contract, probe), timeout_secs)
    except TimeoutError:
        state = None
    finally:
        ib.errorEvent -= on_error
    refused = next(((c, m) for c, m in errors if c == READ_ONLY_CODE), None)
    if refused is not None:
        detail = f"TWS refused a what-if order ({refused[0]}: {refused[1]}); untick Read-Only API in TWS API settings"
        return CheckResult("ibkr read-only", "FAIL", detail)
    if state is None:
        shown = f" ({errors[-1][0]}: {errors[-1][1]})" if errors else ""
        return CheckResult("ibkr read-only", "WARN", f"no answer to a what-if order{shown}")
    return CheckResult("ibkr read-only", "PASS", "API accepts orders (what-if order answered)")


async def market_data_check(
    stream: Callable[[Sequence[str]], AsyncIterator[MarketDataEvent]],
    symbols: Sequence[str],
    kinds: Callable[[], dict[str, str]],
    timeout_secs: float,
) -> CheckResult:
    """Read the market-data stream until every symbol has a quote; FAIL on a refusal or silence."""
    seen: set[str] = set()

    async def first_quotes() -> None:
        async for event in stream(symbols):
            if isinstance(event, Quote):
                seen.add(event.symbol)
            if seen >= set(symbols):
                return

    try:
        await asyncio.wait_for(first_quotes(), timeout_secs)
    except VenueError as exc:
        return CheckResult("ibkr market data", "FAIL", f"{exc.message} (market-data subscription missing?)")
    except TimeoutError:
        missing = ", ".join(sorted(set(symbols) - seen))
        return CheckResult("ibkr market data", "FAIL", f"no quote in {timeout_secs:.0f} s for {missing}")
    shown = ", ".join(f"{s} {k}" for s, k in sorted(kinds().items()))
    return CheckResult("ibkr market data", "PASS", shown)
