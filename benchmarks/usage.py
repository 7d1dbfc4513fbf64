"""Errors a user of a benchmark script can cause become one `error:` line and their exit code.

The runtime, export and training each raise their own exception type for such errors, all
under the project's base error, so a benchmark that calls into all three catches that one.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator

from stream_astgan.errors import AstganError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print a user's mistake (missing file, unknown model, bad checkpoint) as one line."""
    try:
        yield
    except AstganError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(e.exit_code) from None


def fail(message: str) -> None:
    """A usage error found by the benchmark itself (exit code 2)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def chosen(only: str, known: Iterable[str]) -> list[str]:
    """The names a comma-separated `--only` picks (all when empty), in its order; an unknown
    name is a one-line error that lists the known ones."""
    known = list(known)
    names = [n for n in only.split(",") if n] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        fail(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return names
