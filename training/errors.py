"""The training package's own exception: a mistake the user can fix (bad path, bad config)."""


class TrainingError(Exception):
    """Raised for user-caused problems; the CLI prints its message on one line and exits 2."""
