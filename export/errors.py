"""The export package's own exceptions: problems the CLI reports on one line, no traceback."""


class ExportError(Exception):
    """A problem the user can fix (bad checkpoint, existing output, missing photos); exit code 2."""

    exit_code = 2


class ParityError(ExportError):
    """The exported graph does not compute what the checkpoint computes; exit code 1.

    Not the user's doing, so it gets its own exit code: a script can tell "fix your input"
    (2) from "the exporter produced a wrong model and refused to write it" (1).
    """

    exit_code = 1
