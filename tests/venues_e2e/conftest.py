"""Fixtures of the end-to-end venue tests: the exchange emulator (tests/venue_emulator)."""

from tests.venue_emulator.fixtures import emulator_thread_factory, spot_emulator, usdm_emulator

__all__ = ["emulator_thread_factory", "spot_emulator", "usdm_emulator"]
