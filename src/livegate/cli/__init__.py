"""livegate.cli."""
