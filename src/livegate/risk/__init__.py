"""livegate.risk."""
