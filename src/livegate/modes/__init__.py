"""L2 modes: mode resolution and the live gate."""
