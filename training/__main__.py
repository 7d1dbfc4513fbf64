"""`python -m training`: see training/cli.py."""

import os
import sys

# OpenMP threads that spin while idle make a step many times slower whenever anything else uses
# the cores (benchmarks/results/ort_vs_torch.md); passive waits cost nothing on an idle machine.
# Set before torch loads OpenMP; an explicit OMP_WAIT_POLICY wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from training.cli import main

sys.exit(main())
