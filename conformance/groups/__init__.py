"""Rule groups: each checks one family of rules and returns its outcomes."""
