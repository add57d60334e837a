"""``python -m planner``: see :mod:`planner.cli` for commands and exit codes."""

import sys

from planner.cli import main

if __name__ == "__main__":
    sys.exit(main())
