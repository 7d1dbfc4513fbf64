"""`python -m export` entry point."""

import os

# torch's OpenMP threads spin after the parity checks and steal the cores from the int8/fp32
# speed comparison that decides `recommended_for`, which would then measure something other
# than what the runtime sees. Set before torch loads OpenMP; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from export.cli import app

app(prog_name="python -m export")
