"""livegate.runtime."""
