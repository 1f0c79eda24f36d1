"""livegate.api."""
