"""campaign-mock: a contract-first toolkit for campaign lifecycle APIs.

Everything the distribution installs lives under this one package, so it never collides with
a user's own top-level ``server`` or ``contract`` package:

- ``campaign_mock.contract``: loading specs and reading their extensions (shared by all);
- ``campaign_mock.server``: the stateful mock (``campaign-mock serve``);
- ``campaign_mock.conformance``: the conformance kit (``campaign-mock check``);
- ``campaign_mock.testing``: what a user's tests import (the pytest fixture's settings, the
  admin client).

In the repository these are the top-level folders ``contract/``, ``server/``,
``conformance/`` and ``openapi/``; ``campaign_mock/`` holds symbolic links to them, so that
the import names are the same in a checkout, an editable install and a wheel, and every
tool (mypy, IDEs) sees the real layout.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("campaign-mock")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
