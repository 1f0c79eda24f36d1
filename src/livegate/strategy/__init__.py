"""L2 strategy API: the Strategy base class, its context, loading user strategies."""
