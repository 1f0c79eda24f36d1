"""Preflight against Binance through the real ccxt on loopback: an authenticated call and the venue clock (§3h).

The loopback answers ``GET /api/v3/time`` and ``GET /api/v3/account`` the way Binance does
(a wrong secret: -1022 "Signature for this request is not valid."; Binance Spot API
"Error Codes"); the adapter is built by the preflight's own factory hook.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from livegate.cli.arm_cmd import create_token_file
from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.domain.clock import WallClock
from livegate.domain.enums import Mode
from livegate.modes.preflight_artifact import CheckResult
from livegate.ops.preflight import PreflightInputs, run_preflight
from livegate.venues.registry import VenueRequest
from tests.contract.ccxt_harness import BINANCE_CREDS, Loopback, case, fixture, make_adapter, servers
from tests.contract.loopback import Reply
from tests.modes.live_helpers import PROFILE, write_profile

pytestmark = pytest.mark.asyncio
BALANCE = case(fixture("response", "binance"), "fetchBalance", "Spot balance")["httpResponse"]


async def _preflight(tmp_path: Path, lb: Loopback, *, recv_window_ms: int | None = None) -> dict[str, CheckResult]:
    state = tmp_path / "state"
    create_token_file(state, force=False)
    profile = write_profile(tmp_path, PROFILE.replace('name = "fake:demo"', 'name = "ccxt:binance"').replace(
        'symbols = ["BTCUSDT"]', 'symbols = ["LTC/USDT"]'))  # fmt: skip
    env = {"LIVEGATE_STATE_DIR": str(state), "LIVEGATE_BINANCE_API_KEY": "k", "LIVEGATE_BINANCE_API_SECRET": "s"}
    options = {} if recv_window_ms is None else {"recvWindow": recv_window_ms}

    def factory(request: VenueRequest) -> object:
        return make_adapter(lb, "binance", "binance", BINANCE_CREDS, 2, order_stream=False, options=options)

    inputs = PreflightInputs(
        resolved=load_config(str(profile), env, run_overrides()),
        mode=Mode.LIVE,
        env=env,
        state_dir=state,
        runs_root=tmp_path / "runs",
        factories={"ccxt": factory},  # type: ignore[dict-item]
        clock=WallClock(),
    )
    artifact = await run_preflight(inputs)
    return {c.name: c for c in artifact.checks}


def _serve_time(lb: Loopback, offset_ms: int) -> None:
    # the venue's clock is read when the request arrives: a slow start-up must not shrink the offset
    lb.http.route("GET", "/api/v3/time", Reply(lambda: {"serverTime": WallClock().now_ms() + offset_ms}))


async def test_preflight_when_binance_keys_and_clock_good_then_auth_and_clock_pass(tmp_path: Path) -> None:
    async with servers() as lb:
        _serve_time(lb, 0)
        lb.http.route("GET", "/api/v3/account", Reply(BALANCE))
        checks = await _preflight(tmp_path, lb)
    assert checks["venue auth"].status == "PASS"
    assert checks["clock"].status == "PASS"
    assert lb.http.count("GET", "/api/v3/account") == 1


async def test_preflight_when_binance_secret_wrong_then_auth_fails(tmp_path: Path) -> None:
    async with servers() as lb:
        _serve_time(lb, 0)
        lb.http.route(
            "GET", "/api/v3/account", Reply({"code": -1022, "msg": "Signature for this request is not valid."}, 400)
        )
        checks = await _preflight(tmp_path, lb)
    assert checks["venue auth"].status == "FAIL"
    assert "-1022" in checks["venue auth"].detail


@pytest.mark.parametrize(("offset_ms", "recv_window_ms", "status"), [(30_000, None, "FAIL"), (3_000, 5_000, "FAIL"),
                                                                     (2_000, 5_000, "WARN")])  # fmt: skip
async def test_preflight_when_binance_clock_off_then_graded_by_half_the_recv_window(
    tmp_path: Path, offset_ms: int, recv_window_ms: int | None, status: str
) -> None:
    async with servers() as lb:
        _serve_time(lb, offset_ms)
        lb.http.route("GET", "/api/v3/account", Reply(BALANCE))
        checks = await _preflight(tmp_path, lb, recv_window_ms=recv_window_ms)
    assert checks["clock"].status == status, checks["clock"].detail
