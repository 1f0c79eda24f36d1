"""``python unreadable_ledger_cli.py run ...``: the ``livegate`` CLI whose session ledger cannot read rows back.

For the end-to-end test of a failed read back of a retired order
(tests/venues_e2e/test_late_events_after_retirement.py): in this process only,
:meth:`Ledger.rows_between <livegate.ledger.store.Ledger.rows_between>` (the session
connection's read of a retired order's events) fails as SQLite does on a damaged page.
Every other read and write of the ledger works; nothing of this reaches livegate itself.
"""

from __future__ import annotations

import sqlite3


def _unreadable(ledger: object, first_seq: int, last_seq: int) -> list[tuple[int, int, str, str, str, str]]:
    from livegate.domain.errors import LedgerError

    exc = sqlite3.DatabaseError("database disk image is malformed")
    raise LedgerError(f"cannot read ledger {getattr(ledger, 'path', '?')}: {exc}") from exc


if __name__ == "__main__":
    from livegate.cli.main import main
    from livegate.ledger.store import Ledger

    Ledger.rows_between = _unreadable  # type: ignore[method-assign,assignment]
    main()
