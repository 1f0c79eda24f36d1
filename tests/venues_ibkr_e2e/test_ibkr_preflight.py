"""``livegate preflight`` on an IBKR venue: TWS reachable, API not read-only, market data entitled (issue 12)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from tests.tws_emulator import TwsThread
from tests.venues_ibkr_e2e.helpers import arm, preflight


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_preflight_when_nothing_listens_on_the_tws_port_then_venue_reachable_fails_naming_it(tmp_path: Path) -> None:
    port = _free_port()
    armed = arm(tmp_path, port, venue="ibkr:live")

    checked = preflight(armed, "live")

    assert checked.returncode != 0
    assert f"FAIL venue reachable: ibkr:live: Retryable: ibkr: TWS/IB Gateway not reachable at 127.0.0.1:{port}" in (
        checked.stdout
    )


def test_preflight_when_tws_api_is_read_only_then_fails_and_nothing_is_placed(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory(read_only=True)
    armed = arm(tmp_path, tws.port, venue="ibkr:live")

    checked = preflight(armed, "live")

    assert checked.returncode != 0
    assert "FAIL ibkr read-only: TWS refused a what-if order (321:" in checked.stdout, checked.stdout
    assert "PASS ibkr api" in checked.stdout
    assert tws.call(lambda t: t.orders) == {}


def test_preflight_when_no_market_data_subscription_then_fails_naming_the_tws_code(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory(tick_by_tick_entitled=False, market_data_entitled=False)
    armed = arm(tmp_path, tws.port, venue="ibkr:paper")

    checked = preflight(armed, "testnet")

    assert checked.returncode != 0
    assert "FAIL ibkr market data: ibkr market data for AAPL refused: 354" in checked.stdout, checked.stdout
    assert "PASS ibkr read-only" in checked.stdout
