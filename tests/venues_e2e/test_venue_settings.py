"""``[venue]`` keys a user sets (issue 10, item 2): endpoints, timeout, ccxt options, weight budget."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from livegate.config.live_models import run_overrides
from livegate.config.loader import load_config
from livegate.config.models import VenueConfig
from livegate.domain.clock import WallClock
from livegate.venues.ccxt import CcxtAdapter
from livegate.venues.ccxt.factory import make_factory
from livegate.venues.registry import VenueRequest


def _urls(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [u for v in node.values() for u in _urls(v)]
    if isinstance(node, list):
        return [u for v in node for u in _urls(v)]
    return [node] if isinstance(node, str) else []


def _adapter(settings: VenueConfig, exchange: str = "binance", *, sandbox: bool = False) -> CcxtAdapter:
    adapter = make_factory()(
        VenueRequest(venue=f"ccxt:{exchange}", clock=WallClock(), sandbox=sandbox, settings=settings)
    )
    assert isinstance(adapter, CcxtAdapter)
    return adapter


@pytest.mark.parametrize("exchange", ["binance", "binanceusdm"])
@pytest.mark.parametrize("sandbox", [False, True])
def test_venue_urls_when_set_then_every_rest_and_ws_endpoint_moves_and_keeps_its_path(
    exchange: str, sandbox: bool
) -> None:
    settings = VenueConfig(name=f"ccxt:{exchange}", rest_url="http://127.0.0.1:9", ws_url="ws://127.0.0.1:9/prefix")
    urls = _urls(_adapter(settings, exchange, sandbox=sandbox).exchange.urls["api"])
    assert urls
    assert all(u.startswith(("http://127.0.0.1:9/", "ws://127.0.0.1:9/prefix/")) for u in urls), urls
    assert "http://127.0.0.1:9/fapi/v1" in urls
    assert "ws://127.0.0.1:9/prefix/ws-api/v3" in urls


def test_venue_settings_when_loaded_from_env_then_adapter_gets_timeout_options_and_budget() -> None:
    env = {
        "LIVEGATE_VENUE__NAME": "ccxt:binance",
        "LIVEGATE_VENUE__REST_URL": "https://proxy.example:8443/",
        "LIVEGATE_VENUE__WS_URL": "wss://proxy.example:9443",
        "LIVEGATE_VENUE__TIMEOUT_MS": "2500",
        "LIVEGATE_VENUE__RATE_WEIGHT_PER_MIN": "1200",
    }
    venue = load_config(None, env, run_overrides()).config.venue
    assert (venue.rest_url, venue.ws_url, venue.timeout_ms) == (
        "https://proxy.example:8443",
        "wss://proxy.example:9443",
        2500,
    )
    adapter = _adapter(venue.model_copy(update={"ccxt_options": {"recvWindow": 5000, "fetchOpenOrders": {"x": 1}}}))
    assert adapter.exchange.timeout == 2500
    assert adapter.exchange.options["recvWindow"] == 5000
    # nested tables merge: livegate's warnWithoutSymbol=False survives a user's own key there
    assert adapter.exchange.options["fetchOpenOrders"] == {"warnWithoutSymbol": False, "x": 1}
    assert adapter._config.rate_weight_per_min == 1200


def test_venue_settings_when_profile_has_ccxt_options_table_then_passed_through(tmp_path: Any) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text(
        '[venue]\nname = "ccxt:binanceusdm"\n\n[venue.ccxt_options]\nrecvWindow = 4000\n', encoding="utf-8"
    )
    venue = load_config(str(profile), {}, run_overrides()).config.venue
    assert _adapter(venue, "binanceusdm").exchange.options["recvWindow"] == 4000


@pytest.mark.parametrize(
    ("key", "value"),
    [("rest_url", "ftp://h"), ("rest_url", "127.0.0.1:80"), ("ws_url", "http://h"), ("rest_url", "http://h/?a=1")],
)
def test_venue_urls_when_not_a_base_url_then_refused_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ValidationError, match=key):
        VenueConfig(**{key: value})
