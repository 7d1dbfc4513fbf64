"""Errors a user of a benchmark script can cause become one `error:` line and their exit code.

The runtime, export and training each raise their own exception type for such errors; a
benchmark calls into all three, so it catches all three the way their CLIs do.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from stream_astgan.errors import AstganError

try:  # export and training need torch; the runtime-only benchmarks run without it
    from export.errors import ExportError
except ImportError:  # pragma: no cover - torch-less environment
    ExportError = AstganError  # type: ignore[misc,assignment]


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Print a user's mistake (missing file, unknown model, bad checkpoint) as one line."""
    try:
        yield
    except (AstganError, ExportError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(getattr(e, "exit_code", 2)) from None


def fail(message: str) -> None:
    """A usage error found by the benchmark itself (exit code 2)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
