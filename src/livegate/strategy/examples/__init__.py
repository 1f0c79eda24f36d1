"""Bundled example strategies."""
