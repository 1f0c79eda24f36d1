"""livegate.reconcile."""
