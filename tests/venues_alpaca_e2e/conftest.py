"""Fixtures of the Alpaca end-to-end tests: the Alpaca emulator (tests/alpaca_emulator) in a thread."""

from tests.alpaca_emulator.fixtures import alpaca_thread_factory

__all__ = ["alpaca_thread_factory"]
