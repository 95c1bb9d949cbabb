"""The campaign-mock server: any campaign contract, served as a stateful in-memory mock."""
