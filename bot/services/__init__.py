"""Use cases that tie the core's decisions to storage and the forges."""
