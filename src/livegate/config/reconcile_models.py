"""The ``[reconcile]`` section: how often and how strictly livegate compares itself with the venue.

docs/architecture.md §3.8 (reconcile or stop): drift beyond these tolerances moves the trading state
to ``on_drift`` in every mode, paper included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReconcileConfig(BaseModel):
    """Reconciliation of the ledger and portfolio against venue snapshots.

    Parameters
    ----------
    enabled:
        Reconcile at startup, every ``interval_secs`` and after stream reconnects or
        sequence gaps (default true). Live modes refuse to start without it (docs/architecture.md §3.3).
    interval_secs:
        Period of the periodic reconciliation in seconds of session time (event time on
        replayed data; default 60).
    position_tolerance:
        Largest accepted absolute difference between the ledger's and the venue's
        position, in base units of the instrument (default 0: any difference is drift).
    balance_tolerance_usd:
        Largest accepted USD value of the absolute difference between an asset's expected
        and reported balance (USDT treated as USD; default 0.01). Applied only where the
        asset's USD price is known (USD-like currencies; base assets at their last fill
        price); never in another asset's units.
    asset_tolerance:
        Largest accepted absolute balance difference per asset, in that asset's own units
        (e.g. ``{BTC = "0.00001"}``; default none: 0). A difference within either this or
        ``balance_tolerance_usd`` is accepted. On spot accounts every asset balance (free +
        locked) is compared with livegate's inventory; derivatives compare positions.
    open_order_count_tolerance:
        Largest accepted number of open orders that one side knows and the other does not
        (``missing_internal`` + ``missing_venue`` + ``status_mismatch``; default 0). Open
        orders that are not livegate's (outside orders) are not counted.
    on_drift:
        Trading state to move to when a difference exceeds its tolerance: ``reducing``
        (default) or ``halted``.
    on_leftover_orders:
        Orders of earlier livegate sessions (livegate's client order ids) found working at
        the venue at startup: ``cancel`` them (default), ``adopt`` them as working orders
        of this session (counted against the caps, their later fills applied), or
        ``refuse`` to start (exit 2), naming them (``livegate.reconcile.leftovers``).
    on_unknown_inventory:
        Positions (derivatives) and base-asset balances (spot) found at startup that
        livegate did not make: ``adopt`` them as the starting inventory, recorded in the
        ledger (``inventory_adopted``; default), or ``refuse`` to start (exit 2), naming
        them (``livegate.reconcile.startup_inventory``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    enabled: bool = True
    interval_secs: float = Field(default=60.0, gt=0)
    position_tolerance: Decimal = Field(default=Decimal(0), ge=0)
    balance_tolerance_usd: Decimal = Field(default=Decimal("0.01"), ge=0)
    asset_tolerance: dict[str, Decimal] = Field(default_factory=dict)
    open_order_count_tolerance: int = Field(default=0, ge=0)
    on_drift: Literal["reducing", "halted"] = "reducing"
    on_leftover_orders: Literal["cancel", "refuse", "adopt"] = "cancel"
    on_unknown_inventory: Literal["adopt", "refuse"] = "adopt"
