"""``ibkr:paper`` / ``ibkr:live`` built from ``[venue]`` keys; instruments from contract details."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from livegate.cli.main import app
from livegate.config.credentials import Credentials
from livegate.config.models import VenueConfig
from livegate.domain.clock import ReplayClock
from livegate.domain.errors import ConfigError, Fatal
from livegate.venues.ibkr.adapter import IbkrAdapter
from livegate.venues.ibkr.contracts import instrument_from_details
from livegate.venues.registry import VenueRequest, build_adapter

NONE_NEEDED = Credentials(venue="ibkr", fields={}, sources={})


def _request(
    venue: str, *, sandbox: bool = False, credentials: Credentials | None = None, **keys: object
) -> VenueRequest:
    settings = VenueConfig(name=venue, symbols=["AAPL"], **keys)  # type: ignore[arg-type]
    return VenueRequest(
        venue=venue, clock=ReplayClock(0), credentials=credentials, sandbox=sandbox, symbols=["AAPL"], settings=settings
    )


@pytest.mark.parametrize(("venue", "port", "sandbox"), [("ibkr:paper", 7497, True), ("ibkr:live", 7496, False)])
def test_ibkr_factory_when_port_unset_then_tws_default_of_the_account_kind(
    venue: str, port: int, sandbox: bool
) -> None:
    adapter = build_adapter(_request(venue))

    assert isinstance(adapter, IbkrAdapter)
    assert adapter.endpoint == f"127.0.0.1:{port} client 1"
    assert adapter.capabilities.sandbox is sandbox
    assert adapter.capabilities.market_data_stream


def test_ibkr_factory_when_keys_set_then_adapter_uses_them() -> None:
    adapter = build_adapter(_request("ibkr:live", host="10.0.0.5", port=4001, client_id=9, account="U123"))

    assert isinstance(adapter, IbkrAdapter)
    assert (adapter.endpoint, adapter.account) == ("10.0.0.5:4001 client 9", "U123")


def test_ibkr_factory_when_live_money_mode_on_paper_account_then_config_error() -> None:
    with pytest.raises(ConfigError, match="ibkr:paper is a paper-trading account"):
        build_adapter(_request("ibkr:paper", credentials=NONE_NEEDED))


def test_ibkr_factory_when_testnet_on_live_account_then_refused() -> None:
    with pytest.raises(ConfigError, match="no sandbox"):
        build_adapter(_request("ibkr:live", sandbox=True, credentials=NONE_NEEDED))


def test_ibkr_factory_when_unknown_account_kind_then_config_error_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="ibkr:paper and ibkr:live"):
        build_adapter(_request("ibkr:demo"))


def test_venue_config_when_env_style_keys_invalid_then_validation_error() -> None:
    with pytest.raises(ValueError, match="port"):
        VenueConfig(name="ibkr:live", port=70_000)
    with pytest.raises(ValueError, match="market_data"):
        VenueConfig(name="ibkr:live", market_data="delayed")  # type: ignore[arg-type]


def test_instrument_from_details_when_values_sent_then_tick_lot_and_minimum_from_tws() -> None:
    details = [SimpleNamespace(minTick=0.0001, sizeIncrement=0.0001, minSize=0.0001)]

    instrument = instrument_from_details("SNDL", "ibkr:live", "USD", details)

    assert (instrument.tick_size, instrument.lot_size, instrument.min_quantity) == (
        Decimal("0.0001"),
        Decimal("0.0001"),
        Decimal("0.0001"),
    )


def test_instrument_from_details_when_sizes_unset_then_cent_tick_and_whole_shares() -> None:
    details = [SimpleNamespace(minTick=0.0, sizeIncrement=1.7976931348623157e308, minSize=0.0)]

    instrument = instrument_from_details("AAPL", "ibkr:live", "USD", details)

    assert (instrument.tick_size, instrument.lot_size, instrument.min_quantity) == (
        Decimal("0.01"),
        Decimal(1),
        Decimal(1),
    )


def test_instrument_from_details_when_tws_has_none_then_fatal_200() -> None:
    with pytest.raises(Fatal) as raised:
        instrument_from_details("NOPE", "ibkr:live", "USD", [])
    assert raised.value.code == "200"


def test_venues_command_when_json_then_ibkr_row_names_both_venues_and_market_data_stream() -> None:
    result = CliRunner().invoke(app, ["venues", "--json"])

    assert result.exit_code == 0, result.output
    (row,) = [r for r in json.loads(result.output) if r["adapter"] == "ibkr"]
    assert row["venue"].startswith("ibkr:paper|ibkr:live")
    caps = row["capabilities"]
    assert caps["sandbox"] and caps["market_data_stream"] and caps["order_stream"] and caps["native_cancel_all"]
