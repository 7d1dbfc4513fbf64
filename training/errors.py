"""The training package's own exception: a mistake the user can fix (bad path, bad config)."""

from stream_astgan.errors import AstganError


class TrainingError(AstganError):
    """Raised for user-caused problems; the CLI prints its message on one line and exits 2.

    A subclass of the project's base error, so code that drives training and the runtime
    together can catch every user error in one place."""
