"""livegate.telemetry."""
