"""stream-astgan runtime: stylize video files, images and webcams with an ONNX generator.

The runtime never imports torch; it reads only ONNX models that follow `contract`.
"""

# OpenCV must be imported before PyAV: both wheels bundle a libxcb, and when PyAV's is loaded
# first, OpenCV's Qt picks it up and the first preview window hangs forever in
# xcb_shm_query_version. Loading cv2 first keeps each on its own copy.
import cv2  # noqa: F401  (import order matters, see above)

__version__ = "0.1.0"
