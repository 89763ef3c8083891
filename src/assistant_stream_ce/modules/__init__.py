"""Building blocks used by `RunController`."""
