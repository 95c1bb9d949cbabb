"""Worlds: everything one sandbox holds, and the registry that hands them out by name."""
