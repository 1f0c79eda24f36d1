"""``python connect_fault_cli.py run ...``: the ``livegate`` CLI whose next TWS connect fails once, on demand.

For the end-to-end test of the IBKR reconnect loop's backstop
(tests/venues_ibkr_e2e/test_ibkr_reconnect_fault.py): in this process only, once the file
named by ``LIVEGATE_TEST_CONNECT_FAULT`` exists, the next ``ib_async.IB.connectAsync``
completes its handshake with TWS and then raises ``ValueError`` (the file is removed): an
error outside the connect errors livegate expects (``OSError``, ``TimeoutError``,
``ConnectionError``), with the API socket left open. Every other connect is ib_async's own.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FAULT_ENV = "LIVEGATE_TEST_CONNECT_FAULT"


def _failing_once(real: Any, trigger: Path) -> Any:
    async def connect_async(self: Any, *args: Any, **kwargs: Any) -> Any:
        connected = await real(self, *args, **kwargs)
        if trigger.exists():
            trigger.unlink()
            raise ValueError("injected: the connect handshake failed")
        return connected

    return connect_async


if __name__ == "__main__":
    import ib_async

    from livegate.cli.main import main

    ib_async.IB.connectAsync = _failing_once(ib_async.IB.connectAsync, Path(os.environ[FAULT_ENV]))  # type: ignore[method-assign]
    main()
