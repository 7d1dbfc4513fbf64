"""`python -m stream_astgan` is `astgan-stream`."""

from .cli import main

main()
