"""L0 domain model: stdlib only."""
