"""Alpaca adapter (``livegate[alpaca]``): the only package that imports alpaca-py."""

from __future__ import annotations

from livegate.venues.alpaca.adapter import NYSE_CALENDAR, AlpacaAdapter

__all__ = ["NYSE_CALENDAR", "AlpacaAdapter"]
