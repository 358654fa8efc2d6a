"""``python -m colorize_app.cli``: the ``colorize`` command."""

import sys

from colorize_app.cli import main

sys.exit(main())
