"""The campaign domain: campaigns and their lifecycle moves, ids, the clock, domain errors. Knows no HTTP."""
