"""``python quote_fault_cli.py run ...``: the ``livegate`` CLI whose quote handling fails once, on demand.

For the end-to-end test of the ccxt market-data loop's backstop
(tests/venues_e2e/test_market_data_handler_fault.py): in this process only, once the file
named by ``LIVEGATE_TEST_QUOTE_FAULT`` exists, the next ticker the ccxt adapter converts
(:func:`livegate.venues.ccxt.convert.to_quote` as :mod:`livegate.venues.ccxt.market_data`
calls it) raises ``ValueError`` and the file is removed: one failure of livegate's own while
handling a venue event. Every other call converts as usual.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FAULT_ENV = "LIVEGATE_TEST_QUOTE_FAULT"


def _failing_once(real: Any, trigger: Path) -> Any:
    def to_quote(*args: Any, **kwargs: Any) -> Any:
        if trigger.exists():
            trigger.unlink()
            raise ValueError("injected: converting a ticker failed")
        return real(*args, **kwargs)

    return to_quote


if __name__ == "__main__":
    from livegate.cli.main import main
    from livegate.venues.ccxt import market_data

    market_data.to_quote = _failing_once(market_data.to_quote, Path(os.environ[FAULT_ENV]))  # type: ignore[attr-defined]
    main()
