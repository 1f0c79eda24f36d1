"""livegate.execution."""
