"""livegate.control."""
