"""The conformance kit: checks that any implementation honours a campaign contract.

It never imports ``server``: it must judge other implementations as fairly as ours.
"""
