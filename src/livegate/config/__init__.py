"""livegate.config."""
