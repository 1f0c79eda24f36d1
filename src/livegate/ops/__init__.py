"""livegate.ops."""
