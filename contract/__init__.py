"""What the server and the conformance kit both read from a contract.

Kept apart from ``server`` so that ``conformance`` can check any implementation without
importing the mock: this package only loads OpenAPI documents and interprets their
``x-`` extensions (the lifecycle, what each operation does).
"""
