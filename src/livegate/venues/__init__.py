"""Venue adapters (L3): paper, shadow and SDK-backed adapters behind one interface."""
