"""A virtual webcam that video-call and streaming software can pick, fed through pyvirtualcam.

pyvirtualcam is an optional extra (`pip install "stream-astgan[vcam]"`); it drives v4l2loopback
on Linux and OBS's virtual camera on Windows and macOS. The camera is opened before the run
starts, so a missing package or device stops the run with one line saying what to install.
"""

from __future__ import annotations

import platform
from fractions import Fraction
from typing import Any

import numpy as np

from .errors import UsageError
from .frames import Frame
from .sinks import Sink

INSTALL_EXTRA = 'pip install "stream-astgan[vcam]"'


def backend_hint(system: str | None = None) -> str:
    """What to install for a virtual camera device on this platform."""
    system = system or platform.system()
    if system == "Linux":
        return (
            "install and load v4l2loopback "
            "(sudo apt install v4l2loopback-dkms; sudo modprobe v4l2loopback exclusive_caps=1)"
        )
    if system in ("Windows", "Darwin"):
        return "install OBS Studio (28 or later) and start its virtual camera once"
    return f"pyvirtualcam has no virtual-camera backend for {system}"


def _pyvirtualcam() -> Any:
    try:
        import pyvirtualcam
    except ImportError:
        raise UsageError(f"--vcam needs pyvirtualcam: {INSTALL_EXTRA}") from None
    return pyvirtualcam


def check_installed() -> None:
    """Fail fast, before any file or camera is opened, when the extra is not installed."""
    _pyvirtualcam()


class VirtualCameraSink(Sink):
    """Sends each stylized frame (RGB uint8, the run's size) to the virtual camera."""

    def __init__(self, width: int, height: int, rate: Fraction | None) -> None:
        pyvirtualcam = _pyvirtualcam()
        fps = float(rate) if rate else 30.0
        try:
            self.camera = pyvirtualcam.Camera(width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB)
        except Exception as e:  # pyvirtualcam raises RuntimeError; a backend may raise others
            text = str(e).strip()
            first = text.splitlines()[0].split(". ")[0][:120] if text else "no backend"
            raise UsageError(
                f"--vcam: no virtual camera could be opened ({first}); {backend_hint()}"
            ) from None
        self.device = str(self.camera.device)

    def write(self, frame: Frame, stylized: Any) -> None:
        self.camera.send(np.ascontiguousarray(stylized))
        self.written += 1

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        self.camera.close()

    def abort(self) -> None:
        self.camera.close()
