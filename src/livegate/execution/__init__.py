"""L3 execution: the engine that alone talks to venues."""
