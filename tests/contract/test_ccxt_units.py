"""Small specifications of the CCXT adapter's pure parts and a live smoke test (off by default)."""

from __future__ import annotations

import os
import re
import uuid

import pytest
from typer.testing import CliRunner

from livegate.cli.main import app
from livegate.domain.ids import client_order_id
from livegate.venues.ccxt import CcxtAdapter, CcxtConfig, CcxtCredentials
from livegate.venues.ccxt.client_ids import submit_params, venue_client_id
from livegate.venues.ccxt.config import rewrite_urls


def test_venue_client_id_when_hyperliquid_then_deterministic_128_bit_hex() -> None:
    cid = client_order_id("0123456789", "mm", 41)
    cloid = venue_client_id("hyperliquid", cid)
    assert re.fullmatch(r"0x[0-9a-f]{32}", cloid)
    assert cloid == venue_client_id("hyperliquid", cid)
    assert cloid != venue_client_id("hyperliquid", client_order_id("0123456789", "mm", 42))


def test_venue_client_id_when_kraken_then_uuid_and_others_unchanged() -> None:
    cid = client_order_id("0123456789", "mm", 7)
    assert str(uuid.UUID(venue_client_id("kraken", cid))) == venue_client_id("kraken", cid)
    assert venue_client_id("binanceusdm", cid) == cid


def test_rewrite_urls_when_nested_then_host_replaced_and_path_kept() -> None:
    urls = {"rest": "https://fapi.binance.com/fapi/v1", "ws": {"spot": "wss://stream.binance.com:9443/ws"}}
    got = rewrite_urls(urls, "http://127.0.0.1:1", "ws://127.0.0.1:2")
    assert got == {"rest": "http://127.0.0.1:1/fapi/v1", "ws": {"spot": "ws://127.0.0.1:2/ws"}}


def test_credentials_when_repr_then_no_secret_shown() -> None:
    creds = CcxtCredentials(api_key="AKIA-visible?", secret="s3cr3t", private_key="0xdead")
    assert "s3cr3t" not in repr(creds) and "AKIA" not in repr(creds) and "0xdead" not in repr(creds)


def test_adapter_when_hyperliquid_then_builder_and_referrer_actions_disabled() -> None:
    options = CcxtAdapter(CcxtConfig("hyperliquid")).exchange.options
    assert (options["builderFee"], options["approvedBuilderFee"], options["refSet"]) == (False, True, True)
    assert CcxtAdapter(CcxtConfig("binance")).exchange.options["fetchMargins"] is False


@pytest.mark.parametrize(("exchange_id", "hashed"), [("kraken", True), ("hyperliquid", True), ("binance", False)])
def test_adapter_when_venue_is_sent_a_hash_of_our_client_id_then_capability_says_so(
    exchange_id: str, hashed: bool
) -> None:
    adapter = CcxtAdapter(CcxtConfig(exchange_id))
    assert adapter.capabilities.client_ids_hashed is hashed
    assert (venue_client_id(exchange_id, "lg0123456789-ab12-z") != "lg0123456789-ab12-z") is hashed


def test_venues_command_when_run_then_lists_every_adapter() -> None:
    result = CliRunner().invoke(app, ["venues"])
    assert result.exit_code == 0, result.output
    for name in ("paper", "shadow", "fake", "ccxt:binanceusdm", "ccxt:hyperliquid", "alpaca", "ibkr"):
        assert name in result.output


def test_venues_command_when_run_then_each_ccxt_exchange_says_what_is_contract_tested() -> None:
    lines = CliRunner().invoke(app, ["venues"]).output.splitlines()
    row = {line.split()[1]: line for line in lines if line.startswith("ccxt ")}
    assert "contract-tested offline:" in row["ccxt:kraken"] and "cancel," not in row["ccxt:kraken"]
    assert "by-client-id" in row["ccxt:coinbase"] and "submit" not in row["ccxt:coinbase"]
    assert "instruments" in row["ccxt:paradex"]


def test_submit_params_when_coinbase_then_venue_parameter_name() -> None:
    # ccxt 4.5.90's coinbase.create_order drops params.clientOrderId (random ccxt-<uuid> instead)
    assert submit_params("coinbase", "lg1") == {"client_order_id": "lg1"}
    assert submit_params("kraken", "x") == {"clientOrderId": "x"}


@pytest.mark.live
async def test_live_binance_testnet_when_credentials_then_balances_and_open_orders() -> None:
    key, secret = os.environ.get("LIVEGATE_BINANCE_API_KEY"), os.environ.get("LIVEGATE_BINANCE_API_SECRET")
    if not key or not secret:
        pytest.skip("needs LIVEGATE_BINANCE_API_KEY / LIVEGATE_BINANCE_API_SECRET (Binance spot testnet)")
    adapter = CcxtAdapter(CcxtConfig("binance", sandbox=True), CcxtCredentials(api_key=key, secret=secret))
    await adapter.connect()
    try:
        assert adapter.instruments()
        assert isinstance(await adapter.balances(), list)
        assert isinstance(await adapter.open_orders("BTC/USDT"), list)
    finally:
        await adapter.close()
