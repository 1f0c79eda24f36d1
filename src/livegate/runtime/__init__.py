"""L5 runtime: the composition root."""
