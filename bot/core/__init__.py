"""The functional core: pure decisions, standard library only, no I/O."""
