"""Fixtures of the Alpaca emulator tests."""

from tests.alpaca_emulator.fixtures import alpaca_thread_factory

__all__ = ["alpaca_thread_factory"]
