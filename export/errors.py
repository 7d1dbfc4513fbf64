"""The export package's own exceptions: problems the CLI reports on one line, no traceback.

Both sit under the project's base error (`AstganError`), like the runtime's and training's, so
one `except AstganError` catches every error a user can be shown, each with its exit code.
"""

from stream_astgan.errors import AstganError


class ExportError(AstganError):
    """A problem the user can fix (existing output, missing photos, bad options); exit code 2."""


class ParityError(ExportError):
    """The exported graph does not compute what the checkpoint computes; exit code 1.

    Not the user's doing, so it gets its own exit code: a script can tell "fix your input"
    (2) from "the exporter produced a wrong model and refused to write it" (1).
    """

    exit_code = 1
