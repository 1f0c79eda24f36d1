"""The venue contract suite run against the CCXT adapter on recorded exchange traffic."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.contract.base import AdapterContract, ContractHarness
from tests.contract.ccxt_harness import (
    binance_spot_harness,
    binance_usdm_harness,
    coinbase_harness,
    hyperliquid_harness,
    kraken_harness,
    paradex_harness,
)


class TestBinanceSpotContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with binance_spot_harness() as h:
            yield h


class TestBinanceUsdmContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with binance_usdm_harness() as h:
            yield h


class TestHyperliquidContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with hyperliquid_harness() as h:
            yield h


class TestKrakenContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with kraken_harness() as h:
            yield h


class TestCoinbaseContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with coinbase_harness() as h:
            yield h


class TestParadexContract(AdapterContract):
    @pytest.fixture
    async def harness(self) -> AsyncIterator[ContractHarness]:
        async with paradex_harness() as h:
            yield h
