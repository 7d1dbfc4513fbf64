"""`python -m training`: see training/cli.py."""

import os
import sys

# OpenMP threads that spin while idle made a step 100x slower whenever anything else used the
# cores (1.44 s vs 0.013 s measured); passive waits cost nothing on an idle machine. Set before
# torch loads OpenMP; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from training.cli import main

sys.exit(main())
