"""Fixtures for the runtime tests: tiny ONNX models built with onnx.helper, synthetic clips
encoded with PyAV, and the real media in ../shared/data (tests skip when it is absent)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from stream_astgan.clips import gradient, tone, write_clip
from stream_astgan.color import even_size
from stream_astgan.invert_model import write_invert_model

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def save_model(
    path: Path,
    nodes: list,
    inputs: list,
    outputs: list,
    initializers: list | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializers or [])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def frames_io(name: str, elem: int = TensorProto.UINT8, shape=("N", "H", "W", 3)):
    return helper.make_tensor_value_info(name, elem, list(shape))


def one_node_model(path: Path, node, constant, style: str) -> Path:
    """A uint8 model of one node over `frames` and a scalar constant, named `style`."""
    return save_model(
        path,
        [node],
        [frames_io("frames")],
        [frames_io("stylized")],
        [constant],
        metadata={"style": style, "precision": "fp32"},
    )


@pytest.fixture(scope="session")
def invert_model(tmp_path_factory) -> Path:
    """stylized = 255 - frames: every output pixel can be checked against its input."""
    path = tmp_path_factory.mktemp("models") / "invert.onnx"
    return write_invert_model(path, {"style": "invert", "precision": "fp32"})


@pytest.fixture(scope="session")
def slow_invert_model(tmp_path_factory) -> Path:
    """Inversion behind a chain of float convolutions: slow enough to interrupt mid-run."""
    path = tmp_path_factory.mktemp("models") / "slow.onnx"
    nodes = [
        helper.make_node("Cast", ["frames"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["f"], ["x0"], perm=[0, 3, 1, 2]),
    ]
    inits = []
    depth = 4
    for i in range(depth):
        w = np.zeros((3, 3, 9, 9), np.float32)
        for c in range(3):
            w[c, c, 4, 4] = 1.0
        inits.append(helper.make_tensor(f"w{i}", TensorProto.FLOAT, w.shape, w.ravel()))
        nodes.append(helper.make_node("Conv", [f"x{i}", f"w{i}"], [f"x{i + 1}"], pads=[4, 4, 4, 4]))
    inits.append(helper.make_tensor("c255", TensorProto.FLOAT, [], [255.0]))
    nodes += [
        helper.make_node("Sub", ["c255", f"x{depth}"], ["inv"]),
        helper.make_node("Transpose", ["inv"], ["nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("Cast", ["nhwc"], ["stylized"], to=TensorProto.UINT8),
    ]
    return save_model(path, nodes, [frames_io("frames")], [frames_io("stylized")], inits)


@pytest.fixture(scope="session")
def halve_model(tmp_path_factory) -> Path:
    """stylized = frames // 2: a second style whose output tells it apart from `invert`."""
    return one_node_model(
        tmp_path_factory.mktemp("models") / "halve.onnx",
        helper.make_node("BitShift", ["frames", "one"], ["stylized"], direction="RIGHT"),
        helper.make_tensor("one", TensorProto.UINT8, [], [1]),
        "halve",
    )


@pytest.fixture
def virtual_display():
    """An Xvfb display for preview tests; skipped where Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    # -displayfd: Xvfb picks a free display and writes its number once it accepts clients.
    ready, writer = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(writer), "-screen", "0", "800x600x24"],
        pass_fds=(writer,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(writer)
    with os.fdopen(ready) as numbers:
        if not select.select([numbers], [], [], 60)[0]:
            server.kill()
            raise AssertionError("Xvfb did not start within 60 s")
        number = numbers.readline().strip()
    assert number, "Xvfb exited before it accepted clients"
    display = f":{number}"
    yield display
    server.terminate()
    server.wait(timeout=10)


ClipMaker = Callable[..., Path]


def encode_clip(
    path: Path,
    n: int = 24,
    size: tuple[int, int] = (160, 96),
    fps: int = 25,
    rotation: int = 0,
    audio: bool = False,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    color: tuple[int, int, int] | None = None,
) -> Path:
    """Encode a synthetic clip with the project's clip writer: moving gradient (or one still
    `color`), optional tone, rotation tag and custom pts."""
    size = even_size(*size)
    if color is not None:
        frames = (np.full((size[1], size[0], 3), color, np.uint8) for _ in range(n))
    else:
        frames = (gradient(i, size) for i in range(n))
    return write_clip(
        path, frames, size, fps, pts=pts, time_base=time_base,
        rotation=rotation, audio=tone(n / fps) if audio else None,
    )  # fmt: skip


@pytest.fixture
def make_clip(tmp_path) -> ClipMaker:
    """`make_clip(name, **encode_clip options)`: a synthetic clip in this test's folder."""

    def make(name: str = "clip.mp4", **options) -> Path:
        return encode_clip(tmp_path / name, **options)

    return make


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory) -> Path:
    """200 frames at 320x180, encoded once: long enough to interrupt a run of the slow model
    at any point. Tests only read it."""
    return encode_clip(tmp_path_factory.mktemp("clips") / "long.mp4", n=200, size=(320, 180))


def cli_in_process(*args: object) -> subprocess.CompletedProcess:
    """`astgan-stream ARGS` run in this process (no interpreter start-up or imports per call),
    reported like `subprocess.run`: for the many cases where a real process adds nothing."""
    from typer.testing import CliRunner

    from stream_astgan.cli import app

    words = [str(a) for a in args]
    result = CliRunner().invoke(app, words)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(words, result.exit_code, result.stdout, result.stderr)


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    """Wait for a readiness signal (a file, a loaded library), not for a guessed time."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def size_at_least(path: Path, size: int) -> Callable[[], bool]:
    """Ready once `path` holds `size` bytes: a growing output has muxed that much."""
    return lambda: path.exists() and path.stat().st_size >= size


def cpu_seconds(proc: subprocess.Popen) -> float:
    """CPU time the process (all its threads) has used: work done, whatever the machine's load."""
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loaded(proc: subprocess.Popen, library: str) -> Callable[[], bool]:
    """Ready once the process has mapped `library` (past interpreter start-up, into imports)."""
    maps = Path(f"/proc/{proc.pid}/maps")

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError("the run ended before it could be interrupted")
        try:
            return library in maps.read_text()
        except OSError:
            return False

    return ready


def decode_video(path: Path) -> tuple[list[np.ndarray], list[Fraction], int]:
    """RGB frames (swscale, BT.601 limited), their times in seconds, and the rotation."""
    rgb, times, rotation = [], [], 0
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        for i, frame in enumerate(c.decode(stream)):
            if i == 0:
                rotation = int(frame.rotation or 0)
            rgb.append(frame.to_ndarray(format="rgb24"))
            times.append(frame.pts * stream.time_base)
    return rgb, times, rotation


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as c:
        if not c.streams.audio:
            return []
        return [bytes(p) for p in c.demux(c.streams.audio[0]) if p.size]


def inversion_error(source: np.ndarray, output: np.ndarray) -> float:
    """Mean distance of `output` from the inverse of `source` (uint8 RGB, output cropped to the
    source's size), in levels: one uint8 pass instead of several int64 ones per frame."""
    h, w = source.shape[:2]
    return float(cv2.absdiff(255 - source, np.ascontiguousarray(output[:h, :w])).mean())


def container_duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return c.duration / av.time_base


@pytest.fixture(scope="session")
def media():
    """The decoding helpers above, for tests (test modules cannot import conftest directly)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        decode_video=decode_video,
        audio_packets=audio_packets,
        container_duration=container_duration,
        inversion_error=inversion_error,
        save_model=save_model,
        frames_io=frames_io,
    )
