"""The virtual camera: a clear stop when pyvirtualcam or a device is missing, and frames handed
to pyvirtualcam exactly as its documented contract asks (RGB uint8, the camera's size and fps)."""

from __future__ import annotations

import glob
import sys
from fractions import Fraction
from typing import ClassVar

import numpy as np
import pytest

from stream_astgan import vcam
from stream_astgan.errors import UsageError
from stream_astgan.frames import Frame
from stream_astgan.runner import RunOptions, stylize

from .conftest import cli_in_process


def test_without_pyvirtualcam_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # import fails as if not installed
    with pytest.raises(UsageError) as e:
        vcam.VirtualCameraSink(64, 48, Fraction(30))
    assert str(e.value) == '--vcam needs pyvirtualcam: pip install "stream-astgan[vcam]"'


@pytest.mark.parametrize(
    ("system", "hint"),
    [("Linux", "v4l2loopback"), ("Windows", "OBS"), ("Darwin", "OBS"), ("Plan9", "no virtual")],
)
def test_the_install_hint_names_each_platforms_backend(system, hint):
    assert hint in vcam.backend_hint(system)


@pytest.fixture
def pyvirtualcam():
    return pytest.importorskip("pyvirtualcam", reason="the vcam extra is not installed")


class MissingDevice:
    """Fails the way pyvirtualcam's v4l2loopback backend does where no loopback device exists."""

    def __init__(self, **kw):
        raise RuntimeError("No v4l2 loopback device found at /dev/video[0-99]. Did you modprobe?")


def test_a_missing_device_stops_the_run_before_it_starts(
    pyvirtualcam, monkeypatch, make_clip, invert_model, tmp_path
):
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {"v4l2loopback": MissingDevice})
    clip = make_clip("cam.mp4", n=10)
    rec = tmp_path / "rec.mp4"
    opts = RunOptions(webcam=str(clip), preview=False, output=rec, model=str(invert_model),
                      vcam=True)  # fmt: skip
    ready = []
    with pytest.raises(UsageError) as e:
        stylize(opts, on_ready=ready.append)
    message = str(e.value)
    assert "\n" not in message and "no virtual camera could be opened" in message
    assert "No v4l2 loopback device found" in message and vcam.backend_hint() in message
    assert not ready and not list(tmp_path.glob("rec*"))  # nothing started, nothing written


@pytest.mark.skipif(bool(glob.glob("/dev/video*")), reason="this machine has video devices")
def test_the_cli_says_it_in_one_line_with_exit_code_2(pyvirtualcam, make_clip, invert_model):
    clip = make_clip("cam.mp4", n=10)
    res = cli_in_process("--webcam", clip, "--no-preview", "--vcam", "--model", invert_model)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --vcam: no virtual camera")
    assert vcam.backend_hint() in lines[0]


class RecordingBackend:
    """A pyvirtualcam backend (its documented Backend interface) that keeps what it is sent."""

    instances: ClassVar[list[RecordingBackend]] = []

    def __init__(self, *, width, height, fps, fourcc, device, **kw):
        self.args = {"width": width, "height": height, "fps": fps, "fourcc": fourcc}
        self.frames: list[np.ndarray] = []
        self.closed = 0
        RecordingBackend.instances.append(self)

    def send(self, frame):
        self.frames.append(frame.copy())

    def close(self):
        self.closed += 1

    def device(self):
        return "recording-camera"

    def native_fourcc(self):
        return None


def test_frames_reach_pyvirtualcam_as_rgb_uint8_at_the_cameras_size_and_rate(
    pyvirtualcam, monkeypatch
):
    RecordingBackend.instances.clear()
    monkeypatch.setattr(pyvirtualcam.camera, "BACKENDS", {})
    pyvirtualcam.register_backend("recording", RecordingBackend)
    sink = vcam.VirtualCameraSink(64, 48, Fraction(30000, 1001))
    rng = np.random.default_rng(0)
    pictures = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    for i, picture in enumerate(pictures):
        mirrored_view = np.ascontiguousarray(picture[:, ::-1])[:, ::-1]  # not C-contiguous
        assert not mirrored_view.flags.c_contiguous
        sink.write(Frame(picture, i, None, i), mirrored_view)
    sink.finish()
    (backend,) = RecordingBackend.instances
    fourcc = pyvirtualcam.util.encode_fourcc(pyvirtualcam.PixelFormat.RGB.value)
    assert backend.args == {"width": 64, "height": 48, "fps": 30000 / 1001, "fourcc": fourcc}
    # pyvirtualcam checks shape (h, w, 3) and dtype uint8, then passes the flat RGB bytes on.
    assert [f.dtype for f in backend.frames] == [np.uint8] * 3
    for sent, picture in zip(backend.frames, pictures, strict=True):
        assert np.array_equal(sent.reshape(48, 64, 3), picture)
    assert sink.device == "recording-camera" and backend.closed == 1 and sink.written == 3
