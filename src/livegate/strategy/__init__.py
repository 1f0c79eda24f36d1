"""livegate.strategy."""
