"""A loopback Alpaca (trading REST, ``trade_updates`` and market-data websockets) for end-to-end tests."""

from tests.alpaca_emulator.server import API_KEY, API_SECRET, AlpacaEmulator

__all__ = ["API_KEY", "API_SECRET", "AlpacaEmulator"]
