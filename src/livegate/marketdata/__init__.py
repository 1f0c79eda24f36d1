"""livegate.marketdata."""
