"""An IBKR reconnect that fails with an unexpected error is tried again (end to end).

When TWS drops the API socket the adapter reconnects in the background
(:mod:`livegate.venues.ibkr.connection`). It retried only the connect errors it expected
(``OSError``, ``TimeoutError``, ``ConnectionError``, a venue error); anything else raised by
the handshake or by livegate's code after it ended the reconnect task with nothing said,
and the session never heard from TWS again. Now such an error is logged with its traceback,
the half-open socket is closed, and the reconnect tries again after its backoff.

Here the ``livegate`` CLI trades the TWS emulator through unmodified ib_async, in a process
whose first reconnect completes the handshake and then raises ``ValueError``
(tests/venues_ibkr_e2e/connect_fault_cli.py). While the socket is down TWS fills the
session's resting order. The session must log the failed reconnect, connect again, import
that fill, reconcile, and end with its ledger equal to TWS's own fills, position and orders.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.tws_emulator import TwsThread
from tests.venues_ibkr_e2e.connect_fault_cli import FAULT_ENV
from tests.venues_ibkr_e2e.helpers import (
    SYMBOL,
    arm,
    explain,
    finish,
    ledger_events,
    ledger_fill_ids,
    start_run,
    summary,
    wait_until,
    write_preflight,
)


@pytest.mark.slow
def test_reconnect_when_first_try_raises_unexpected_error_then_logged_tried_again_gap_fill_imported(
    tmp_path: Path, tws_factory: Callable[..., TwsThread]
) -> None:
    tws = tws_factory()
    armed = arm(tmp_path, tws.port, venue="ibkr:live")
    write_preflight(armed, "live")
    out = tmp_path / "run"
    trigger = tmp_path / "fail-next-connect"
    script = Path(__file__).with_name("connect_fault_cli.py")
    proc = start_run(armed, "live", out, 800, script=script, env={FAULT_ENV: str(trigger)})
    try:
        wait_until(lambda: len(tws.call(lambda t: t.open_orders())) >= 1, what="a resting order at TWS")
        resting = tws.call(lambda t: t.open_orders()[0].order_ref)
        trigger.touch()
        gap_fill = tws.call(lambda t: t.fill_while_dropped(resting))
        wait_until(lambda: not trigger.exists(), what="the failed first reconnect")
        result = finish(proc)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise

    assert result.returncode == 0, explain(result, out)
    assert "ibkr reconnect failed: ValueError('injected: the connect handshake failed')" in result.stderr
    assert "Traceback" in result.stderr and "ibkr reconnected to" in result.stderr
    events = ledger_events(out)
    assert any(k == "reconciled" and p["trigger"] == "reconnect" for k, p in events), [k for k, _ in events][-40:]
    recorded = ledger_fill_ids(out)
    assert recorded.count(gap_fill.exec_id) == 1  # imported from reqExecutions after the second reconnect
    assert sorted(recorded) == sorted(f.exec_id for f in tws.call(lambda t: list(t.fills)))
    assert Decimal(summary(out)["positions"][SYMBOL]["quantity"]) == tws.call(lambda t: t.position(SYMBOL))
    assert tws.call(lambda t: t.connections) == 0 and tws.call(lambda t: t.open_orders()) == []
