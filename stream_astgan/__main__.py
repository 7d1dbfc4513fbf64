"""`python -m stream_astgan` is `astgan-stream`.

The CLI's imports (FFmpeg, OpenCV, ONNX Runtime) take a moment; Ctrl-C during them is an
ordinary stop, not a traceback.
"""

import sys


def main() -> None:
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted while starting\n")
        sys.exit(130)
    cli_main()


if __name__ == "__main__":
    main()
