"""SIGTERM / SIGINT: the first asks for a graceful stop, a second ends the process at once."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

SLOW_STOP = """
import asyncio
from livegate.runtime.signals import StopSignals

async def main():
    stopped = asyncio.Event()
    def on_stop(signum):
        print("graceful", signum, flush=True)
        stopped.set()
    StopSignals(on_stop).install()
    print("ready", flush=True)
    await stopped.wait()
    await asyncio.sleep(60)  # a graceful stop that takes long (e.g. a venue slow to confirm cancels)

asyncio.run(main())
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signals_when_second_signal_during_graceful_stop_then_process_ends_at_once(sig: signal.Signals) -> None:
    process = subprocess.Popen([sys.executable, "-c", SLOW_STOP], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(sig)
        assert process.stdout.readline().strip() == f"graceful {int(sig)}"
        process.send_signal(sig)
        assert process.wait(timeout=10) == -int(sig)  # ended by the signal's default action, not after 60 s
    finally:
        process.kill()
