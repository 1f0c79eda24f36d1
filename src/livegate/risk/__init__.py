"""L2 risk: gates, the pipeline, tripwires and the kill switch."""
