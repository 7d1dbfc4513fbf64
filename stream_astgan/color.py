"""YUV <-> RGB conversion that honours the input's colour matrix and range, fast where it can be.

OpenCV converts BT.601 limited-range I420 several times faster than swscale (README), so that
case takes the OpenCV path; every other matrix or range
goes through swscale with explicit source and destination colour parameters. The encoder side
always writes BT.601 limited range through OpenCV and tags the stream as such, which is
correct for any input once the pixels have been converted to RGB.
"""

from __future__ import annotations

import av
import cv2
import numpy as np

from .frames import ColorSpec

# AVColorSpace values (libavutil/pixfmt.h) as stored in frame.colorspace / codec_context.colorspace.
_AVCOL_SPC_BT709 = 1
_AVCOL_SPC_UNSPECIFIED = 2
_AVCOL_SPC_SMPTE170M = 6
_AVCOL_SPC_BT2020 = (9, 10)
_AVCOL_RANGE_MPEG = 1
_AVCOL_RANGE_JPEG = 2

_SWS_MATRIX = {"bt601": "itu601", "bt709": "itu709", "bt2020": "bt2020"}
_YUV420 = ("yuv420p", "yuvj420p")


def read_color_spec(colorspace: int, color_range: int, pix_fmt: str, height: int) -> ColorSpec:
    """Interpret a stream's tags the way players do: untagged HD is BT.709, untagged SD BT.601."""
    if colorspace == _AVCOL_SPC_BT709:
        matrix = "bt709"
    elif colorspace in _AVCOL_SPC_BT2020:
        matrix = "bt2020"
    elif colorspace == _AVCOL_SPC_UNSPECIFIED and height >= 720:
        matrix = "bt709"
    else:
        matrix = "bt601"
    full = color_range == _AVCOL_RANGE_JPEG or pix_fmt.startswith("yuvj")
    return ColorSpec(matrix=matrix, full_range=full)


def frame_to_rgb(frame: av.VideoFrame, spec: ColorSpec) -> np.ndarray:
    """Decoded frame -> uint8 [H, W, 3] RGB, using the input's matrix and range."""
    fmt = frame.format.name
    if fmt == "rgb24":
        return frame.to_ndarray()
    if (
        fmt in _YUV420
        and spec.matrix == "bt601"
        and not spec.full_range
        and frame.width % 2 == 0
        and frame.height % 2 == 0
    ):
        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(
        format="rgb24",
        src_colorspace=_SWS_MATRIX[spec.matrix],
        src_color_range="JPEG" if spec.full_range else "MPEG",
        dst_color_range="JPEG",
    )


def even_size(width: int, height: int) -> tuple[int, int]:
    """4:2:0 chroma needs even dimensions; odd sizes are padded by one replicated pixel."""
    return width + width % 2, height + height % 2


def rgb_to_yuv420_frame(rgb: np.ndarray) -> av.VideoFrame:
    """uint8 RGB -> a yuv420p frame tagged BT.601 limited range (what OpenCV's I420 writes)."""
    h, w = rgb.shape[:2]
    ew, eh = even_size(w, h)
    if (ew, eh) != (w, h):
        rgb = cv2.copyMakeBorder(rgb, 0, eh - h, 0, ew - w, cv2.BORDER_REPLICATE)
    frame = av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
    frame.colorspace = _AVCOL_SPC_SMPTE170M
    frame.color_range = _AVCOL_RANGE_MPEG
    return frame


def tag_output_stream(stream: av.video.stream.VideoStream) -> None:
    """Tag the encoded stream with the matrix and range `rgb_to_yuv420_frame` writes."""
    stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
    stream.codec_context.color_range = _AVCOL_RANGE_MPEG
