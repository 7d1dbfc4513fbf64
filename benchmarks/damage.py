"""Seeded damage to video files, the way downloads, cards and careless copies damage them, and
the checks a stylized copy of one must pass.

Each kind is a function from the file's bytes (and a second file's, for splices) to damaged
bytes; `damaged_copies` draws kinds and clips from one seed, so the fuzz test and the damaged-
files benchmark rebuild exactly the same files from the same seed, and judge them alike.
"""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from typer.testing import CliRunner

from stream_astgan.cli import app

Damage = Callable[[bytes, bytes, np.random.Generator], bytes]
HEADER_BYTES = 8192  # where a container without a `moov` box keeps its header and index


def byte_flips(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """A few dozen bytes XORed anywhere: bit rot, a bad sector read back without error."""
    out = np.frombuffer(data, np.uint8).copy()
    at = rng.integers(0, len(out), int(rng.integers(1, 64)))
    out[at] ^= rng.integers(1, 256, len(at), dtype=np.uint8)
    return out.tobytes()


def zeroed_runs(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """One to four runs of zeros: unwritten blocks of a card or a sparse download."""
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        length = int(rng.integers(512, 64 * 1024))
        start = int(rng.integers(0, max(1, len(out) - length)))
        out[start : start + length] = bytes(min(length, len(out) - start))
    return bytes(out)


def truncation(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """The file stops part-way: an interrupted download or copy."""
    return data[: int(len(data) * rng.uniform(0.05, 0.95))]


def splice(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """The head of one file followed by the tail of another: a recovered or mis-joined file."""
    head = int(len(data) * rng.uniform(0.2, 0.8))
    tail = int(len(other) * rng.uniform(0.2, 0.8))
    return data[:head] + other[tail:]


def duplicated_span(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """A span written twice in a row: a resumed download that re-appended a chunk."""
    length = int(rng.integers(4096, max(4097, len(data) // 8)))
    start = int(rng.integers(0, max(1, len(data) - length)))
    return data[: start + length] + data[start:]


def damaged_header(data: bytes, other: bytes, rng: np.random.Generator) -> bytes:
    """Flips inside the index (an MP4 `moov` box, or the head of any other file): timestamps,
    sizes and offsets that lie."""
    moov = data.find(b"moov")
    start, end = (moov, len(data)) if moov >= 0 else (0, min(len(data), HEADER_BYTES))
    if moov >= 0:
        size = int.from_bytes(data[moov - 4 : moov], "big")
        end = min(len(data), moov - 4 + size) if size > 8 else end
    out = np.frombuffer(data, np.uint8).copy()
    at = rng.integers(start, end, int(rng.integers(1, 24)))
    out[at] ^= rng.integers(1, 256, len(at), dtype=np.uint8)
    return out.tobytes()


KINDS: dict[str, Damage] = {
    "byte flips": byte_flips,
    "zeroed runs": zeroed_runs,
    "truncation": truncation,
    "splice": splice,
    "duplicated span": duplicated_span,
    "damaged header": damaged_header,
}


@dataclass(frozen=True)
class DamagedCopy:
    """One damaged file: where it is, what it was made from, and how."""

    path: Path
    clip: Path
    kind: str


def damaged_copies(
    clips: Sequence[Path], count: int, folder: Path, seed: int = 0
) -> Iterator[DamagedCopy]:
    """`count` damaged copies written into `folder`, the kinds taken in turn, the clips and
    the damage drawn from `seed`; each keeps its clip's suffix so the container is guessed."""
    rng = np.random.default_rng(seed)
    contents = {clip: clip.read_bytes() for clip in clips}
    names = list(KINDS)
    for i in range(count):
        kind = names[i % len(names)]
        clip, other = (clips[int(k)] for k in rng.integers(0, len(clips), 2))
        path = folder / f"damaged-{i:03d}-{kind.replace(' ', '-')}{clip.suffix}"
        path.write_bytes(KINDS[kind](contents[clip], contents[other], rng))
        yield DamagedCopy(path, clip, kind)


def decode_to_the_end(path: Path) -> tuple[int, int]:
    """Video frames and audio packets of an output, decoding every packet of every stream:
    what "plays to the end" means here. Any decoding error raises."""
    frames = audio = 0
    with av.open(str(path)) as container:
        for packet in container.demux():
            decoded = packet.decode()
            if packet.stream.type == "video":
                frames += len(decoded)
            elif packet.stream.type == "audio" and packet.size:
                audio += 1
    return frames, audio


def surviving_audio_packets(path: Path) -> int | None:
    """Audio packets of a damaged file's first audio stream, as the runtime's demuxer hands
    them on (it stops at the first demuxing error, and so does this count); None when the file
    will not open or has no video and audio to stylize."""
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError):
        return None
    with container:
        if not container.streams.audio or not container.streams.video:
            return None
        audio = container.streams.audio[0]
        count = 0
        try:
            for packet in container.demux(container.streams.video[0], audio):
                count += packet.stream is audio and bool(packet.size)
        except av.error.FFmpegError:
            pass
        return count


class Hang(BaseException):
    """A run past its time limit (BaseException, so no `except Exception` in the run can
    swallow it on its way out)."""


@dataclass(frozen=True)
class CliOutcome:
    """What a user of `astgan-stream` would have seen."""

    exit_code: int
    stdout: str
    stderr: str
    traceback: str  # an exception that escaped the command (a user would see its traceback)


def run_cli(args: Sequence[str], limit_s: int) -> CliOutcome:
    """`astgan-stream ARGS` in this process (no interpreter start-up per case); raises Hang
    when it runs past `limit_s` (main thread only: the limit is a SIGALRM)."""

    def hang(signum: int, frame: object) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(limit_s)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    escaped = result.exception if not isinstance(result.exception, SystemExit) else None
    text = "".join(traceback.format_exception(escaped)) if escaped is not None else ""
    return CliOutcome(result.exit_code, result.stdout, result.stderr, text)
