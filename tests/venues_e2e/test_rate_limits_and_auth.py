"""Rate limits and authentication errors at the venue (issue 10, 3e and 3g).

A 429 on submit means "not placed" and nothing is sent until its Retry-After has passed
(the emulator, like Binance, bans an IP that keeps sending); a 418 ban halts trading
with no request until the ban ends; a revoked key or a bad signature halts trading and
the order is never resent. Each test runs the ``livegate`` CLI against the exchange
emulator through real ccxt and checks the venue's own request log, orders and state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.venue_emulator import HttpFault, Kind
from tests.venue_emulator.fixtures import EmulatorThread
from tests.venues_e2e.helpers import (
    TAKER,
    TAKER_PARAMS,
    arm,
    explain,
    ledger_events,
    requests_log,
    run,
    summary,
    write_preflight,
)

#: Requests already on the wire when the 429/418 answer left the venue are not the client's fault.
IN_FLIGHT_MS = 100


def _armed_taker(tmp_path: Path, venue_thread: EmulatorThread):  # type: ignore[no-untyped-def]
    armed = arm(
        tmp_path, venue_thread.emulator, venue="ccxt:binance", symbol="BTC/USDT", strategy=TAKER, params=TAKER_PARAMS
    )
    write_preflight(armed, "live")
    return armed


def _is_submit(request: tuple[int, str, str]) -> bool:
    return request[1] == "POST" and request[2].endswith("/order")


def _first_submit(log: list[tuple[int, str, str]]) -> int:
    return next(i for i, request in enumerate(log) if _is_submit(request))


def _assert_no_submit_after_the_error_was_read(out: Path, venue_thread: EmulatorThread) -> None:
    """Assert every submit the venue got left before the session read the fatal error, each once.

    A submit after the refused one is allowed only when it was already on its way: its
    ``submit_requested`` is in the ledger before the ``venue_fatal`` anomaly (the session
    sends in the background, and a starved machine can deliver such a request late). None
    is sent once the error was read, and no client order id is sent twice.
    """
    events = list(enumerate(ledger_events(out)))
    error_read = next(i for i, (kind, p) in events if kind == "anomaly" and p["kind"] == "venue_fatal")
    requested = {p["client_order_id"]: i for i, (kind, p) in events if kind == "submit_requested"}
    sent_ids = [params.get("newClientOrderId") for params in _submit_params(venue_thread)]
    assert sent_ids[0] == next(iter(requested))  # the venue saw the client order id the ledger holds
    assert len(set(sent_ids)) == len(sent_ids), sent_ids  # the refused order was not resent
    late = [cid for cid in sent_ids[1:] if cid not in requested or requested[cid] > error_read]
    assert late == [], (late, requested, error_read)


def _submit_params(venue_thread: EmulatorThread) -> list[dict[str, str]]:
    """Return the parameters of every order submit the venue received, in arrival order."""
    return venue_thread.call(  # type: ignore[no-any-return]
        lambda e: [
            dict(params) for method, path, params in e.rest.requests if method == "POST" and path.endswith("/order")
        ]
    )


@pytest.mark.slow
def test_submit_when_429_with_retry_after_then_not_placed_and_no_request_until_retry_after_passes(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = _armed_taker(tmp_path, venue_thread)
    limited = HttpFault("/order", "POST", status=429, code=-1003, msg="Too many requests", headers={"Retry-After": "1"})
    venue_thread.call(lambda e: e.fail_next(limited))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=600)

    assert result.returncode == 0, explain(result, out)
    log = requests_log(venue_thread)
    first = _first_submit(log)
    t429 = log[first][0]
    assert [r for r in log[first + 1 :] if IN_FLIGHT_MS < r[0] - t429 < 1000] == []
    assert venue_thread.call(lambda e: e.gate.banned_until_ms) == 0  # the venue never had to ban us
    events = ledger_events(out)
    first_id = next(p["client_order_id"] for kind, p in events if kind == "submit_requested")
    reports = [p["status"] for kind, p in events if kind == "order_report" and p["client_order_id"] == first_id]
    assert reports == ["rejected"]  # a definite "not placed", not an ambiguous order looked up all session
    assert [p for kind, p in events if kind == "anomaly"] == []
    # orders the strategy sent inside the window were refused unsent, also "not placed"
    not_placed = {p["client_order_id"] for kind, p in events if kind == "order_report" and p["status"] == "rejected"}
    orders = venue_thread.call(lambda e: list(e.book.orders.values()))
    assert first_id in not_placed
    assert not_placed.isdisjoint(o.client_order_id for o in orders)
    assert len(orders) == summary(out)["orders_submitted"] - len(not_placed) > 0  # trading went on afterwards
    assert venue_thread.call(lambda e: e.duplicate_client_order_ids()) == []


def test_submit_when_418_ban_then_halted_and_no_request_during_the_ban(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread]
) -> None:
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = _armed_taker(tmp_path, venue_thread)
    banned = HttpFault("/order", "POST", status=418, code=-1003, msg="Way too many", headers={"Retry-After": "2"})
    venue_thread.call(lambda e: e.fail_next(banned))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=400)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    log = requests_log(venue_thread)
    first = _first_submit(log)
    t418 = log[first][0]
    later = [r for r in log[first + 1 :] if not _is_submit(r)]
    assert [r for r in later if IN_FLIGHT_MS < r[0] - t418 < 2000] == []
    _assert_no_submit_after_the_error_was_read(out, venue_thread)
    assert venue_thread.call(lambda e: list(e.book.orders.values())) == []
    assert venue_thread.call(lambda e: e.open_orders()) == []


AUTH_ERRORS = {
    "revoked_key_2015": (401, -2015, "Invalid API-key, IP, or permissions for action."),
    "bad_signature_1022": (400, -1022, "Signature for this request is not valid."),
    "bad_key_format_2014": (401, -2014, "API-key format invalid."),
}


@pytest.mark.parametrize("error", sorted(AUTH_ERRORS))
def test_submit_when_authentication_error_then_halted_and_order_never_resent(
    tmp_path: Path, emulator_thread_factory: Callable[..., EmulatorThread], error: str
) -> None:
    status, code, msg = AUTH_ERRORS[error]
    venue_thread = emulator_thread_factory(Kind.SPOT, pace_ms=4, max_events=3000)
    armed = _armed_taker(tmp_path, venue_thread)
    venue_thread.call(lambda e: e.fail_next(HttpFault("/order", "POST", status=status, code=code, msg=msg)))

    out = tmp_path / "run"
    result = run(armed, "live", out, max_events=300)

    assert result.returncode == 3, explain(result, out)
    assert summary(out)["trading_state"]["state"] == "halted"
    _assert_no_submit_after_the_error_was_read(out, venue_thread)
    assert venue_thread.call(lambda e: list(e.book.orders.values())) == []
    assert venue_thread.call(lambda e: e.open_orders()) == []
