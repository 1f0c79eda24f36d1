"""L5 command line interface."""
