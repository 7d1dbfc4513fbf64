"""stream-astgan runtime: stylize video files, images and webcams with an ONNX generator.

The runtime never imports torch; it reads only ONNX models that follow `contract`.
"""

__version__ = "0.1.0"
