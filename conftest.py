"""Every test runs the services in development mode, as ``make run`` does: the public
default secrets work there and nowhere else. The tests of the refusals start a service
process without it."""

import os

os.environ["RINNOVO_DEV_MODE"] = "true"
