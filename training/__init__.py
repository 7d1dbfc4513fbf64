"""Training of the lightweight style generator: `python -m training --help`."""
