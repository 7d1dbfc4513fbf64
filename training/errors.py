"""The training package's own exceptions: a mistake the user can fix (bad path, bad config),
and a run stopped on request."""

from stream_astgan.errors import AstganError


class TrainingError(AstganError):
    """Raised for user-caused problems; the CLI prints its message on one line and exits 2.

    A subclass of the project's base error, so code that drives training and the runtime
    together can catch every user error in one place."""


class CheckpointError(TrainingError):
    """A checkpoint that is missing, damaged, of another format or for another network: what
    training (on resume) and export both refuse, with the same message."""


class TrainingStopped(KeyboardInterrupt):
    """Ctrl-C/SIGTERM stopped the loop after a complete step, whose checkpoint it saved."""

    def __init__(self, step: int) -> None:
        super().__init__(step)
        self.step = step
