"""Warping error (Lai et al. 2018, "Learning Blind Video Temporal Consistency"): how much a
video changes between frames beyond what the motion of its source explains.

For consecutive source frames t-1 and t, optical flow in both directions (OpenCV's DIS) gives
where each pixel of frame t came from; pixels where the two flows disagree (occlusions) or the
flow changes abruptly (motion boundaries) are masked out as in the paper's evaluation code.
The previous output frame is warped to frame t and compared with output frame t: the error is
the per-pixel squared RGB distance (values in 0..1), averaged over unmasked pixels, then over
frame pairs. Computed for a stylized video and for its source, the ratio says how much flicker
stylization adds.
"""

from __future__ import annotations

import cv2
import numpy as np


def flow_estimator() -> cv2.DISOpticalFlow:
    """DIS at its medium preset: accurate enough for a mask, a few ms per 640x480 pair."""
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def gray(rgb: np.ndarray) -> np.ndarray:
    """The luminance DIS works on."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """`image` sampled at x + flow(x): brings the frame the flow points to onto this grid."""
    h, w = flow.shape[:2]
    grid = np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1).astype(np.float32)
    coords = grid + flow
    return cv2.remap(image, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, cv2.BORDER_REPLICATE)


def valid_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Pixels of frame t whose motion is trustworthy, given flows t-1 -> t and t -> t-1.

    As in Lai et al.'s `detect_occlusion`: occluded where the forward flow, brought to frame
    t, does not cancel the backward flow (|f + b|^2 > 0.01 (|f|^2 + |b|^2) + 0.5), and on
    motion boundaries (|grad b|^2 > 0.01 |b|^2 + 0.002).
    """
    forward_here = warp(forward, backward)
    mismatch = np.square(forward_here + backward).sum(-1)
    scale = np.square(forward_here).sum(-1) + np.square(backward).sum(-1)
    occluded = mismatch > 0.01 * scale + 0.5
    du_dy, du_dx = np.gradient(backward[..., 0])
    dv_dy, dv_dx = np.gradient(backward[..., 1])
    edge = du_dx**2 + dv_dx**2 + du_dy**2 + dv_dy**2
    boundary = edge > 0.01 * np.square(backward).sum(-1) + 0.002
    return ~(occluded | boundary)


def error_map(previous: np.ndarray, current: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Per pixel, the squared RGB distance (0..1 scale) between frame t and warped t-1."""
    warped = warp(previous, backward).astype(np.float32) / 255
    return np.square(current.astype(np.float32) / 255 - warped).sum(-1)


def pair_error(
    previous: np.ndarray, current: np.ndarray, backward: np.ndarray, mask: np.ndarray
) -> float:
    """Mean over valid pixels of the squared RGB distance between frame t and warped t-1."""
    diff = error_map(previous, current, backward)
    return float(diff[mask].mean()) if mask.any() else 0.0


class FlowPair:
    """Flows between two consecutive source frames and the mask they give, computed once and
    shared by the source and every stylized version of it."""

    def __init__(
        self, estimator: cv2.DISOpticalFlow, previous: np.ndarray, current: np.ndarray
    ) -> None:
        a, b = gray(previous), gray(current)
        forward = estimator.calc(a, b, None)  # previous(x) ~ current(x + forward(x))
        self.backward = estimator.calc(b, a, None)  # current(x) ~ previous(x + backward(x))
        self.mask = valid_mask(forward, self.backward)

    def error(self, previous: np.ndarray, current: np.ndarray) -> float:
        """The warping error of one pair of output frames over this source motion."""
        return pair_error(previous, current, self.backward, self.mask)
