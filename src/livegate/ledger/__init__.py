"""livegate.ledger."""
