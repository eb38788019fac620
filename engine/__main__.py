"""Entry point of ``python -m engine``."""

import sys

from engine.apps.cli import main

sys.exit(main())
