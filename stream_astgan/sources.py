"""Where frames come from: video files (PyAV), still images, and live cameras (OpenCV).

A file source keeps every frame and its timestamp; a live source keeps only the newest frame
and counts the ones it had to drop, so a slow model never makes the preview fall behind.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from .color import frame_to_rgb, read_color_spec
from .errors import InputError, reason
from .frames import Frame, StreamInfo
from .images import IMAGE_SUFFIXES, find_images, is_image_name, read_image
from .packet_clock import MAX_JUMP_S
from .sizing import resize_to, target_size

log = logging.getLogger(__name__)

# Containers a batch picks up in a folder, and writes back in the same format.
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi"}
REORDER_WINDOW = 16  # decoded frames held back to put timestamps in presentation order


class Source:
    """A stream of frames with counters a summary reports."""

    info: StreamInfo
    undecodable: int = 0
    dropped: int = 0
    retimed: int = 0  # frames whose timestamp was missing, repeated or absurd
    ended_early: bool = False

    def frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def stop(self) -> None:
        """Ask a running `frames()` to end soon; safe to call from any thread."""

    def close(self) -> None:
        """Release files and devices."""


class VideoFileSource(Source):
    """Decodes a video file, keeping timestamps and handing on the audio packets untouched."""

    def __init__(
        self,
        path: Path,
        size: tuple[int, int] | None = None,
        scale: float | None = None,
        with_audio: bool = True,
    ) -> None:
        self.path = path
        self.with_audio = with_audio
        self._open()
        self._stop = threading.Event()
        self._first = self._decode_first()
        cc = self.video.codec_context
        src_w, src_h = self._first.width, self._first.height
        self.size = target_size(src_w, src_h, size, scale)
        rate = self.video.average_rate or self.video.guessed_rate
        self.info = StreamInfo(
            width=self.size[0],
            height=self.size[1],
            rate=Fraction(rate) if rate else None,
            time_base=self.video.time_base,
            frames=self.video.frames or _frames_from_duration(self.video, rate),
            duration_s=float(self.container.duration) / av.time_base
            if self.container.duration
            else None,
            rotation=_rotation(self._first.rotation),
            color=read_color_spec(cc.colorspace, cc.color_range, self._first.format.name, src_h),
        )
        # The probe consumed the first packets; reopening works for every format, seekable or not.
        self.container.close()
        self._open()
        self.info.audio_stream = self.audio

    def _open(self) -> None:
        try:
            self.container = av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, UnicodeDecodeError) as e:
            raise InputError(f"{self.path}: not a readable video ({reason(e)})") from None
        streams = self.container.streams
        if not streams.video:
            self.container.close()
            raise InputError(f"{self.path}: has no video stream")
        self.video = streams.video[0]
        self.video.thread_type = "AUTO"
        self.audio = streams.audio[0] if self.with_audio and streams.audio else None

    def _decode_first(self) -> av.VideoFrame:
        """Decode one frame up front: a file that cannot give one is rejected before any output."""
        try:
            for frame in self.container.decode(self.video):
                return frame
        except (av.error.FFmpegError, UnicodeDecodeError) as e:
            self.container.close()
            raise InputError(f"{self.path}: no decodable video frame ({reason(e)})") from None
        self.container.close()
        raise InputError(f"{self.path}: the video stream holds no frames")

    def _packets(self) -> Iterator[av.Packet]:
        streams = [self.video] + ([self.audio] if self.audio else [])
        demux = self.container.demux(streams)
        while not self._stop.is_set():
            try:
                packet = next(demux)
            except StopIteration:
                return
            except av.error.FFmpegError as e:
                log.warning("%s: demuxing stopped early (%s)", self.path, reason(e))
                self.ended_early = True
                return
            yield packet

    def _decoded(self) -> Iterator[tuple[av.VideoFrame, list[av.Packet]]]:
        """Decoded video frames in presentation order, each with the audio demuxed before it."""
        audio: list[av.Packet] = []
        for packet in self._packets():
            if packet.stream.type == "audio":
                if packet.size:  # the sink re-times or drops packets with broken timestamps
                    audio.append(packet)
                continue
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as e:
                self.undecodable += 1
                log.debug("undecodable packet at dts %s: %s", packet.dts, reason(e))
                continue
            for frame in decoded:
                yield frame, audio
                audio = []
        if audio:
            self.trailing_audio = audio

    def frames(self) -> Iterator[Frame]:
        """Frames in decoder order with their timestamps put in presentation order."""
        self.trailing_audio: list[av.Packet] = []
        pending: deque[tuple[av.VideoFrame, list[av.Packet]]] = deque()
        tb = self.video.time_base
        start = self.video.start_time if self.video.start_time is not None else 0
        clock = PresentationClock(self._pts_step(), round(MAX_JUMP_S / tb) if tb else None, start)
        self._clock = clock
        index = 0
        first_size = (self._first.width, self._first.height)
        warned_resize = False
        for frame, audio in self._decoded():
            pending.append((frame, audio))
            clock.push(frame.pts)
            while len(pending) > REORDER_WINDOW or (self._stop.is_set() and pending):
                yield self._emit(pending.popleft(), clock.pop(), index)
                index += 1
            if not warned_resize and (frame.width, frame.height) != first_size:
                log.warning(
                    "%s: frame size changes from %dx%d to %dx%d at frame %d; "
                    "every frame is scaled to the first size",
                    self.path, *first_size, frame.width, frame.height, index,
                )  # fmt: skip
                warned_resize = True
        while pending and not self._stop.is_set():
            yield self._emit(pending.popleft(), clock.pop(), index)
            index += 1
        if clock.last is not None and not self._stop.is_set():
            self._check_complete((clock.last + clock.step) * self.video.time_base)

    @property
    def retimed(self) -> int:  # type: ignore[override]
        clock = getattr(self, "_clock", None)
        return clock.retimed if clock is not None else 0

    def _check_complete(self, reached_s: Fraction) -> None:
        """A truncated file demuxes without error but stops short of its stated duration."""
        duration = self.video.duration and self.video.duration * self.video.time_base
        if not duration and self.container.duration:
            duration = Fraction(self.container.duration, av.time_base)
        if duration and reached_s < duration * Fraction(95, 100) - 1:
            self.ended_early = True

    def _emit(self, item: tuple[av.VideoFrame, list[av.Packet]], pts: int, index: int) -> Frame:
        frame, audio = item
        rgb = resize_to(frame_to_rgb(frame, self.info.color), self.size)
        return Frame(rgb, pts, self.video.time_base, index, extra_packets=audio)

    def _pts_step(self) -> int:
        """One nominal frame in stream ticks, for frames that arrive without a timestamp."""
        rate = self.info.rate
        tb = self.video.time_base
        if not rate or not tb:
            return 1
        return max(1, round(1 / (rate * tb)))

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.container.close()


class PresentationClock:
    """Hands out timestamps in presentation order: the smallest seen and not yet used.

    Some files (box.mp4 among them) store decode-order timestamps with B-frames, so the
    decoder's output carries non-monotonic pts. The set of timestamps is right, only their
    assignment is off. Damage breaks the set itself, and each break is re-timed and counted:
    a frame without a timestamp gets the previous one plus a frame; a timestamp more than
    `max_jump` ticks ahead of the latest, or further behind it than decode order can explain
    (the reorder window), starts a new timeline that continues one frame after the latest
    (a splice, a broken index); repeats are nudged up one tick, because muxers need strictly
    increasing timestamps.
    """

    def __init__(self, step: int, max_jump: int | None = None, start: int = 0) -> None:
        self.step = step
        self.max_jump = max_jump
        self.last: int | None = None
        self.retimed = 0
        self._heap: list[int] = []
        self._offset = 0
        self._top: int | None = None  # the latest timestamp pushed, after re-timing
        self._start = start

    def push(self, pts: int | None) -> None:
        if pts is None:
            self.retimed += 1
            return
        value = pts + self._offset
        if self.max_jump is not None:
            top = self._start - self.step if self._top is None else self._top
            behind = self.max_jump if self._top is None else REORDER_WINDOW * self.step
            if not top - behind <= value <= top + self.max_jump:
                self._offset = top + self.step - pts
                value = top + self.step
                self.retimed += 1
        self._top = value if self._top is None else max(self._top, value)
        heapq.heappush(self._heap, value)

    def pop(self) -> int:
        if self._heap:
            pts = heapq.heappop(self._heap)
        else:
            pts = 0 if self.last is None else self.last + self.step
        if self.last is not None and pts <= self.last:
            pts = self.last + 1
            self.retimed += 1
        self.last = pts
        return pts


def _rotation(degrees: float | None) -> int:
    """The display rotation, or none when a damaged display matrix gives no angle (NaN)."""
    return round(degrees) if degrees and math.isfinite(degrees) else 0


def _frames_from_duration(stream: av.video.stream.VideoStream, rate: Fraction | None) -> int | None:
    if stream.duration and stream.time_base and rate:
        return round(float(stream.duration * stream.time_base * rate))
    return None


class ImageSource(Source):
    """One image or a folder of images (recursive, sorted); keeps relative names for the output."""

    def __init__(self, path: Path, size: tuple[int, int] | None, scale: float | None) -> None:
        self.root = path
        if path.is_dir():
            self.files = find_images(path)
            if not self.files:
                raise InputError(
                    f"{path}: folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
                )
        else:
            self.files = [path]
        self._size, self._scale = size, scale
        self._stop = threading.Event()
        first = read_image(self.files[0]) if not path.is_dir() else None
        if not path.is_dir() and first is None:
            raise InputError(f"{path}: not a readable image")
        w, h = (first.shape[1], first.shape[0]) if first is not None else (0, 0)
        tw, th = target_size(w, h, size, scale) if first is not None else (0, 0)
        self.info = StreamInfo(
            width=tw, height=th, rate=None, time_base=None, frames=len(self.files), kind="images"
        )

    def frames(self) -> Iterator[Frame]:
        index = 0
        for path in self.files:
            if self._stop.is_set():
                return
            rgb = read_image(path)
            if rgb is None:
                log.warning("%s: not a readable image, skipped", path)
                self.undecodable += 1
                continue
            h, w = rgb.shape[:2]
            rgb = resize_to(rgb, target_size(w, h, self._size, self._scale))
            name = path.name if path == self.root else str(path.relative_to(self.root))
            yield Frame(rgb, index, None, index, name=name)
            index += 1

    def stop(self) -> None:
        self._stop.set()


Grabber = Callable[[], "np.ndarray | None"]


class LiveSource(Source):
    """A camera read by its own thread into a one-frame slot: the consumer always gets the newest.

    `grab` returns an RGB frame, or None when the device has ended. Frames replaced in the slot
    before anyone took them are counted as dropped.
    """

    def __init__(
        self,
        grab: Grabber,
        width: int,
        height: int,
        rate: float,
        size: tuple[int, int] | None = None,
        scale: float | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        self._grab = grab
        self._release = release
        self.size = target_size(width, height, size, scale)
        self.info = StreamInfo(
            width=self.size[0],
            height=self.size[1],
            rate=Fraction(rate).limit_denominator(1001),
            time_base=Fraction(1, 1000),
            frames=None,
            live=True,
            kind="live",
        )
        self._slot: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._ended = False
        self._thread: threading.Thread | None = None
        self.captured = 0

    def _capture(self) -> None:
        t0 = time.perf_counter()
        try:
            while not self._stop.is_set():
                rgb = self._grab()
                now = time.perf_counter()
                if rgb is None:
                    break
                frame = Frame(
                    resize_to(rgb, self.size),
                    int((now - t0) * 1000),
                    self.info.time_base,
                    self.captured,
                    captured_at=now,
                )
                self.captured += 1
                with self._cond:
                    if self._slot is not None:
                        self.dropped += 1
                    self._slot = frame
                    self._cond.notify()
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify()

    def frames(self) -> Iterator[Frame]:
        self._thread = threading.Thread(target=self._capture, name="capture", daemon=True)
        self._thread.start()
        index = 0
        last_pts = -1
        while True:
            with self._cond:
                while self._slot is None and not self._ended and not self._stop.is_set():
                    self._cond.wait(0.1)
                frame, self._slot = self._slot, None
                if frame is None:
                    return
            frame.index = index
            frame.pts = max(frame.pts, last_pts + 1)
            last_pts = frame.pts
            index += 1
            yield frame

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()

    def close(self) -> None:
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._release is not None:
            self._release()


def open_camera(
    device: str, size: tuple[int, int] | None = None, scale: float | None = None
) -> LiveSource:
    """A webcam by index ('0'), a device path ('/dev/video2'), or any file/URL OpenCV can read."""
    target: int | str = int(device) if device.isdigit() else device
    cvlog = cv2.utils.logging
    previous = cvlog.getLogLevel()
    cvlog.setLogLevel(cvlog.LOG_LEVEL_SILENT)  # every backend tried logs its own failure
    try:
        cap = cv2.VideoCapture(target)
    finally:
        cvlog.setLogLevel(previous)
    if not cap.isOpened():
        cap.release()
        what = f"webcam {device}" if isinstance(target, int) else device
        raise InputError(f"{what} could not be opened (is it connected and free?)")
    ok, bgr = cap.read()
    if not ok:
        cap.release()
        raise InputError(f"{device}: opened but delivered no frame")
    rate = cap.get(cv2.CAP_PROP_FPS) or 30.0
    if not 1 <= rate <= 240:
        rate = 30.0
    first = [bgr]
    # A file read as a camera (for rehearsal or tests) plays at its own rate, like a camera.
    pace = 1 / rate if Path(device).is_file() else 0.0
    due = [time.perf_counter()]

    def grab() -> np.ndarray | None:
        if first:
            img = first.pop()
            due[0] = time.perf_counter()  # the clock starts with the run, not at opening
        else:
            ok, img = cap.read()
            if not ok:
                return None
        if pace:
            due[0] += pace
            time.sleep(max(0.0, due[0] - time.perf_counter()))
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    h, w = bgr.shape[:2]
    return LiveSource(grab, w, h, rate, size, scale, release=cap.release)


def open_source(
    path: Path, size: tuple[int, int] | None = None, scale: float | None = None
) -> Source:
    """A file source for `path`: a folder or image file gives images, anything else video."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir() or is_image_name(path):
        return ImageSource(path, size, scale)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    return VideoFileSource(path, size, scale)
