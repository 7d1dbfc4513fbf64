"""The live preview in a real (virtual) X window: keys sent with xdotool switch the style on the
screen and in the recording, and `q` ends the run with a complete file.

Needs Xvfb, xdotool and ImageMagick's `import` (Debian packages xvfb, xdotool, imagemagick);
skipped with the missing tool named where they are absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

CLI = [sys.executable, "-m", "stream_astgan"]
STILL = (200, 60, 120)  # the camera sees one colour, so only a style switch changes the picture
INVERTED = tuple(255 - c for c in STILL)
HALVED = tuple(c // 2 for c in STILL)

for tool, package in (("xdotool", "xdotool"), ("import", "imagemagick")):
    if shutil.which(tool) is None:
        pytestmark = pytest.mark.skip(reason=f"{tool} is not installed (apt-get install {package})")


def x(display: str, *args: str) -> str:
    env = {**os.environ, "DISPLAY": display}
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env).stdout


def screen_colour(display: str, window: str) -> np.ndarray | None:
    """The window's median colour away from its corners and bottom, where the overlay writes."""
    png = subprocess.run(
        ["import", "-display", display, "-window", window, "png:-"],
        capture_output=True, timeout=30,
    ).stdout  # fmt: skip
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR) if png else None
    if img is None:
        return None
    h, w = img.shape[:2]
    centre = cv2.cvtColor(img[h // 3 : h * 2 // 3, w // 4 : w * 3 // 4], cv2.COLOR_BGR2RGB)
    return np.median(centre.reshape(-1, 3), axis=0)


def wait_for_colour(display, window, colour, seconds=10.0):
    """Poll the screen until it shows `colour` (within codec error); the last colour seen."""
    seen = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = screen_colour(display, window)
        if seen is not None and np.abs(seen - colour).max() <= 12:
            return seen
        time.sleep(0.1)
    return seen


def test_keys_switch_the_style_on_screen_and_in_the_recording_and_q_finishes_it(
    virtual_display, make_clip, invert_model, halve_model, media, tmp_path
):
    clip = make_clip("still.mp4", n=250, fps=25, size=(160, 96), color=STILL)  # 10 s
    rec = tmp_path / "rec.mp4"
    args = ["--webcam", clip, "-o", rec, "--model", invert_model, "--model", halve_model, "--json"]
    env = {**os.environ, "DISPLAY": virtual_display}
    proc = subprocess.Popen([*CLI, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        window = x(virtual_display, "xdotool", "search", "--sync", "--name", "astgan-stream")
        window = window.split()[0]
        shown = wait_for_colour(virtual_display, window, INVERTED)
        assert np.abs(shown - INVERTED).max() <= 12, f"first style not on screen: {shown}"
        x(virtual_display, "xdotool", "key", "--window", window, "n")
        shown = wait_for_colour(virtual_display, window, HALVED, seconds=5.0)
        assert np.abs(shown - HALVED).max() <= 12, f"`n` did not change the picture: {shown}"
        x(virtual_display, "xdotool", "key", "--window", window, "q")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["stop_reason"] == "preview closed"
    assert summary["frames_in"] < 250  # `q` ended it, not the end of the clip
    assert any("switched 1 time" in note for note in summary["notes"])
    assert not (tmp_path / "rec.partial.mp4").exists()
    frames, times, _ = media.decode_video(rec)
    assert len(frames) == summary["frames_out"] and times == sorted(times)
    styles = []
    for rgb in frames:
        colour = np.median(rgb.reshape(-1, 3), axis=0)
        near = [np.abs(colour - c).max() <= 12 for c in (INVERTED, HALVED)]
        assert any(near), f"a recorded frame is neither style: {colour}"
        styles.append("invert" if near[0] else "halve")
    switch = styles.index("halve")
    assert switch > 0 and styles == ["invert"] * switch + ["halve"] * (len(styles) - switch)
