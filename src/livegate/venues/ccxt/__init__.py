"""The CCXT adapter package: the only place in livegate that imports ccxt (``livegate[ccxt]``)."""

from __future__ import annotations

from livegate.venues.ccxt.adapter import CcxtAdapter
from livegate.venues.ccxt.config import CcxtConfig, CcxtCredentials

__all__ = ["CcxtAdapter", "CcxtConfig", "CcxtCredentials"]
