"""Market events for the emulator, read from real Binance captures (heads kept in ``tests/data/crypto/binance_ws_raw``).

Each capture line is ``<receive ns> <combined-stream JSON>``; only ``<symbol>@bookTicker``
and ``<symbol>@trade`` are kept (the emulator serves those two streams).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["CAPTURES", "MarketEvent", "load_capture"]

#: The 4,000-line heads of the real captures kept in the repository (tests/data/README.md).
CAPTURES = Path(__file__).resolve().parents[1] / "data" / "crypto" / "binance_ws_raw"


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One replayed market payload: its stream name and Binance's raw ``data`` object."""

    stream: str
    data: dict[str, Any]

    @property
    def is_quote(self) -> bool:
        """Return True for a bookTicker payload."""
        return self.stream.endswith("@bookTicker")

    def prices(self) -> tuple[Decimal, Decimal]:
        """Return (bid, ask) of a quote, (price, quantity) of a trade."""
        if self.is_quote:
            return Decimal(self.data["b"]), Decimal(self.data["a"])
        return Decimal(self.data["p"]), Decimal(self.data["q"])


def load_capture(path: Path, symbol: str = "BTCUSDT", limit: int = 2000) -> list[MarketEvent]:
    """Return the first ``limit`` bookTicker and trade events of ``symbol`` in ``path``.

    Raises
    ------
    FileNotFoundError
        If the capture is missing.
    """
    wanted = {f"{symbol.lower()}@bookTicker", f"{symbol.lower()}@trade"}
    out: list[MarketEvent] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            _ns, _, raw = line.partition(" ")
            msg = json.loads(raw)
            if msg.get("stream") in wanted:
                out.append(MarketEvent(msg["stream"], msg["data"]))
                if len(out) >= limit:
                    break
    return out
