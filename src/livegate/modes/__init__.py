"""livegate.modes."""
