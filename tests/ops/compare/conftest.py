"""Fixtures of the record-and-compare tests: the exchange emulator in a thread (tests/venue_emulator)."""

from tests.venue_emulator.fixtures import emulator_thread_factory

__all__ = ["emulator_thread_factory"]
