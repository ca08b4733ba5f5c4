"""Fakes of the forges: real HTTP servers on 127.0.0.1 with in-memory state."""
