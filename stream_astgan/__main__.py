"""`python -m stream_astgan` is `astgan-stream`.

The CLI's imports (FFmpeg, OpenCV, ONNX Runtime) take a moment. A Ctrl-C or SIGTERM during
them is taken as a request (stop_request.py) and honoured once they are done, as an ordinary
stop with exit code 130: raised inside a library's import, the interrupt could be swallowed
and the run carry on as if nothing had happened.
"""

import sys

from .errors import EXIT_INTERRUPTED
from .stop_request import stop_on_signal


def main() -> None:
    try:
        with stop_on_signal() as request:
            from .cli import main as cli_main
    except KeyboardInterrupt:  # a second signal: stop at once
        request.requested = True
    if request.requested:
        sys.stderr.write("error: interrupted while starting\n")
        sys.exit(EXIT_INTERRUPTED)
    cli_main()


if __name__ == "__main__":
    main()
