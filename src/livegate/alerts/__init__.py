"""livegate.alerts."""
