"""`python -m bot.cli`: the same as the `transition-bot` script."""

import sys

from bot.cli import main

sys.exit(main())
