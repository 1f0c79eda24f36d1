"""A TWS / IB Gateway emulator on the TWS API wire protocol, for end-to-end IBKR tests.

:class:`TwsEmulator` (server.py) adds market data, matching, executions, positions and
faults to the loopback of the contract tests (tests/contract/tws_server.py);
:class:`TwsThread` (fixtures.py) serves it from a background thread so tests can run the
``livegate`` CLI as a subprocess against it.
"""

from tests.tws_emulator.fixtures import TwsThread
from tests.tws_emulator.server import Execution, TwsEmulator
from tests.tws_emulator.ticks import Tick, lean_ticks, synthetic_ticks

__all__ = ["Execution", "Tick", "TwsEmulator", "TwsThread", "lean_ticks", "synthetic_ticks"]
