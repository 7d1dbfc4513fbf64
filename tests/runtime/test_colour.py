"""The colour paths the README promises: BT.601, BT.709 and BT.2020 matrices, limited and full
range, each decoded to the RGB its tags mean (checked against the standards' own equations)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from stream_astgan.sources import VideoFileSource

Y, U, V = 120, 90, 170  # a saturated orange: far enough from grey that the matrices disagree
KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}
AVCOL_SPC = {"bt601": 6, "bt709": 1, "bt2020": 9}  # libavutil's AVColorSpace numbers


def expected_rgb(matrix: str, full_range: bool) -> np.ndarray:
    """RGB of (Y, U, V) by the matrix's equations, in 0..255."""
    kr, kb = KR_KB[matrix]
    if full_range:
        luma, pb, pr = Y / 255, (U - 128) / 255, (V - 128) / 255
    else:
        luma, pb, pr = (Y - 16) / 219, (U - 128) / 224, (V - 128) / 224
    r = luma + 2 * (1 - kr) * pr
    b = luma + 2 * (1 - kb) * pb
    g = (luma - kr * r - kb * b) / (1 - kr - kb)
    return np.clip(np.array([r, g, b]) * 255, 0, 255)


def write_flat_clip(path, matrix: str, full_range: bool) -> None:
    """Lossless H.264 of a flat (Y, U, V) picture, tagged with `matrix` and the range."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.options = {"qp": "0", "preset": "ultrafast"}
        stream.codec_context.colorspace = AVCOL_SPC[matrix]
        stream.codec_context.color_range = 2 if full_range else 1
        planes = [np.full((48, 64), Y), np.full((24, 32), U), np.full((24, 32), V)]
        yuv = np.concatenate([p.ravel() for p in planes]).astype(np.uint8).reshape(72, 64)
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.colorspace = AVCOL_SPC[matrix]
            frame.color_range = 2 if full_range else 1
            frame.pts, frame.time_base = i, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())


@pytest.mark.parametrize(
    ("matrix", "full_range"),
    [("bt601", False), ("bt709", False), ("bt2020", False), ("bt601", True), ("bt709", True)],
)
def test_each_matrix_and_range_decodes_to_the_rgb_its_tags_mean(matrix, full_range, tmp_path):
    path = tmp_path / f"{matrix}-{full_range}.mp4"
    write_flat_clip(path, matrix, full_range)
    source = VideoFileSource(path)
    try:
        rgb = next(iter(source.frames())).rgb
    finally:
        source.close()
    want = expected_rgb(matrix, full_range)
    got = rgb[24, 32].astype(float)
    assert np.abs(got - want).max() <= 2.5, (got, want)
    # The test can tell the paths apart: another matrix or range would be several levels off.
    others = [
        expected_rgb(m, f) for m in KR_KB for f in (False, True) if (m, f) != (matrix, full_range)
    ]
    assert min(np.abs(got - o).max() for o in others) > 2.5
