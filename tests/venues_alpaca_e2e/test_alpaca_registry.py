"""The registry builds Alpaca adapters from the request: accounts, endpoints, keys, feed (no network)."""

from __future__ import annotations

import pytest

from livegate.config.credentials import load_credentials, load_market_data_key
from livegate.config.models import VenueConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.enums import Mode
from livegate.domain.errors import ConfigError
from livegate.venues.alpaca import AlpacaAdapter
from livegate.venues.registry import VenueRequest, build_adapter

KEYS = {"APCA_API_KEY_ID": "PKAPCA", "APCA_API_SECRET_KEY": "apca-secret"}


def request(venue: str, **kwargs: object) -> VenueRequest:
    return VenueRequest(venue=venue, clock=ReplayClock(0), symbols=["SPY"], **kwargs)  # type: ignore[arg-type]


def test_registry_when_alpaca_live_with_credentials_and_urls_then_adapter_points_there() -> None:
    creds = load_credentials("alpaca:live", KEYS, mode=Mode.LIVE).credentials
    settings = VenueConfig(
        name="alpaca:live", rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9", timeout_ms=1500
    )
    adapter = build_adapter(request("alpaca:live", credentials=creds, settings=settings, alpaca_feed="sip"))
    assert isinstance(adapter, AlpacaAdapter)
    assert adapter.name == "alpaca:live" and adapter.capabilities.order_stream
    assert adapter._client._base_url == "http://127.0.0.1:9"
    assert adapter._trade_stream._endpoint == "ws://127.0.0.1:9/stream"
    assert adapter._market.factory(False)._endpoint == "ws://127.0.0.1:9/v2/sip"


def test_credentials_when_only_apca_names_set_then_alpaca_keys_found_and_livegate_names_win() -> None:
    lookup = load_credentials("alpaca:paper", KEYS, mode=Mode.TESTNET)
    assert lookup.ok and lookup.credentials is not None
    assert lookup.credentials.sources == {"api_key": "APCA_API_KEY_ID", "api_secret": "APCA_API_SECRET_KEY"}
    both = {**KEYS, "LIVEGATE_ALPACA_API_KEY": "PKLG", "LIVEGATE_ALPACA_API_SECRET": "lg-secret"}
    chosen = load_credentials("alpaca:paper", both, mode=Mode.TESTNET).credentials
    assert chosen is not None and chosen.reveal("api_key") == "PKLG"


def test_registry_when_shadow_with_a_data_key_then_market_data_only_adapter() -> None:
    data_key = load_market_data_key("alpaca:paper", KEYS)
    assert data_key is not None and "apca-secret" not in repr(data_key)
    adapter = build_adapter(request("alpaca:paper", data_credentials=data_key))
    assert isinstance(adapter, AlpacaAdapter)
    assert not adapter.capabilities.order_stream and adapter.capabilities.market_data_stream


def test_registry_when_shadow_without_any_key_then_refused_naming_the_variables() -> None:
    assert load_market_data_key("alpaca:paper", {}) is None
    with pytest.raises(ConfigError, match=r"LIVEGATE_ALPACA_API_KEY .*APCA_API_KEY_ID"):
        build_adapter(request("alpaca:paper"))


@pytest.mark.parametrize(("venue", "sandbox"), [("alpaca:us", False), ("alpaca:live", True)])
def test_registry_when_unknown_account_or_live_asked_for_sandbox_then_refused(venue: str, sandbox: bool) -> None:
    creds = load_credentials(venue, KEYS, mode=Mode.LIVE).credentials
    with pytest.raises(ConfigError, match="alpaca:paper"):
        build_adapter(request(venue, credentials=creds, sandbox=sandbox))


def test_market_data_key_when_venue_needs_none_then_none() -> None:
    assert (
        load_market_data_key("ccxt:binance", {"LIVEGATE_BINANCE_API_KEY": "x", "LIVEGATE_BINANCE_API_SECRET": "y"})
        is None
    )
