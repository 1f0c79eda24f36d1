"""A Binance-compatible exchange emulator for tests (loopback only); see :mod:`tests.venue_emulator.server`."""

from tests.venue_emulator.faults import EXECUTION_UNKNOWN_MSG, HttpFault
from tests.venue_emulator.model import Kind
from tests.venue_emulator.server import API_KEY, API_SECRET, Emulator

__all__ = ["API_KEY", "API_SECRET", "EXECUTION_UNKNOWN_MSG", "Emulator", "HttpFault", "Kind"]
