"""``python -m rinnovo.devstack``."""

import sys

from rinnovo.devstack.cli import main

sys.exit(main())
