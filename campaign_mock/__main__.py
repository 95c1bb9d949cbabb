"""``python -m campaign_mock ...``: the same command line as the ``campaign-mock`` script."""

from __future__ import annotations

import sys

from campaign_mock.server.cli import main

if __name__ == "__main__":
    sys.exit(main())
