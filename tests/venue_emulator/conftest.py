"""Fixtures of the emulator's own tests."""

from tests.venue_emulator.fixtures import spot_emulator, usdm_emulator

__all__ = ["spot_emulator", "usdm_emulator"]
