"""Where stylized frames go: a video file (PyAV), image files, or nowhere (for benchmarks).

Every file sink writes to a `.partial` name beside the target and renames it only when the
container has been closed properly, so the target is either absent, the old file, or a
complete, playable file: never a torn one.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2

from .atomic import commit, partial_path, write_bytes_atomic
from .color import even_size, rgb_to_yuv420_frame, tag_output_stream
from .errors import OutputError, RunError, reason
from .frames import Frame, StreamInfo
from .images import IMAGE_SUFFIXES
from .packet_clock import PacketClock

log = logging.getLogger(__name__)

DEFAULT_CRF = 20
DEFAULT_PRESET = "veryfast"
_VIDEO_CODEC_BY_FORMAT = {"webm": "libvpx-vp9", "avi": "libx264", "mp4": "libx264"}


def check_output(
    output: Path, inputs: Iterable[Path], overwrite: bool, is_dir: bool = False
) -> None:
    """Refuse outputs that would destroy something, before any work starts."""
    resolved = output.resolve()
    for src in inputs:
        if src.exists() and src.resolve() == resolved:
            raise OutputError(f"{output}: output is the input; choose another output path")
    if not is_dir and output.is_dir():
        raise OutputError(f"{output}: is a folder; give a file name for the output")
    if not is_dir and output.exists() and not overwrite:
        raise OutputError(f"{output}: exists; pass --overwrite to replace it")
    folder = output if is_dir and output.exists() else output.parent
    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        raise OutputError(f"{folder}: folder does not exist")
    try:  # os.access says yes to root even on read-only file systems; a real file tells
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".astgan-probe-"):
            pass
    except OSError as e:
        raise OutputError(f"{folder}: folder is not writable ({e.strerror or e})") from None


class Sink:
    """Receives stylized frames in order."""

    written: int = 0
    audio_note: str = "none"
    audio_retimed: int = 0  # copied audio packets whose broken timestamps were re-timed
    audio_dropped: int = 0  # audio packets that could not be placed or decoded
    kept: bool = False  # the output was completed and put in place

    def write(self, frame: Frame, stylized: Any) -> None:
        raise NotImplementedError

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        """Flush and make the output final (also after an interrupt: what was written stays)."""

    def abort(self) -> None:
        """Drop a partial output that cannot be completed (e.g. the disk is full)."""


class NullSink(Sink):
    """Counts frames; for benchmarks and headless webcam runs."""

    def write(self, frame: Frame, stylized: Any) -> None:
        self.written += 1


class VideoSink(Sink):
    """Encodes frames with the input's timestamps and copies the input's audio packet by packet."""

    def __init__(
        self,
        path: Path,
        info: StreamInfo,
        codec: str | None = None,
        crf: int | None = None,
        preset: str | None = None,
    ) -> None:
        self.path = path
        self.tmp = partial_path(path)
        try:
            self.container = av.open(str(self.tmp), "w")
        except (av.error.FFmpegError, ValueError) as e:
            raise OutputError(f"{path}: cannot write this kind of file ({e})") from None
        try:
            self._add_video(info, codec, crf, preset)
            self._add_audio(info.audio_stream)
        except Exception:
            self.container.close()
            self.tmp.unlink(missing_ok=True)
            raise

    def _add_video(
        self, info: StreamInfo, codec: str | None, crf: int | None, preset: str | None
    ) -> None:
        fmt = self.container.format.name.split(",")[0]
        codec = codec or _VIDEO_CODEC_BY_FORMAT.get(fmt) or self.container.default_video_codec
        if codec in ("h264", "libx264") and "libx264" in av.codecs_available:
            codec = "libx264"
        rate = info.rate or Fraction(30)
        try:
            stream = self.container.add_stream(codec, rate=rate)
        except (av.error.FFmpegError, ValueError) as e:
            raise OutputError(f"video codec {codec!r} is not available ({e})") from None
        stream.width, stream.height = even_size(info.width, info.height)
        stream.pix_fmt = "yuv420p"
        # The encoder counts frames at the nominal rate (what rate control expects); the
        # muxed packets carry the input's own timestamps in the input's time base (see _Retimer).
        stream.codec_context.time_base = 1 / rate
        stream.time_base = info.time_base or 1 / rate
        self._clock = _Retimer(stream.time_base, rate)
        stream.thread_type = "FRAME" if codec.startswith("libx26") else "AUTO"
        if (os.cpu_count() or 1) <= 2:
            # On two cores the model's threads already fill the machine; x264's own frame
            # threads (3 + lookahead by default) only add contention: one measured faster end
            # to end (benchmarks/pipeline_overhead.py).
            stream.codec_context.thread_count = 1
        stream.codec_context.options = _encoder_options(codec, crf, preset, info.live)
        tag_output_stream(stream)
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        self.video = stream

    def _add_audio(self, source_audio: Any) -> None:
        self.audio = None
        self._transcode = False
        self._anchor_s: Fraction | None = None  # the time of the latest frame, for the audio
        self._audio_clock: PacketClock | None = None
        if source_audio is None:
            return
        if source_audio.codec_context is None:  # an unknown codec tag: damage, or a rare codec
            log.warning("%s: the input's audio cannot be decoded; the output has none", self.path)
            self.audio_note = "dropped (the input's audio codec is unknown)"
            return
        name = source_audio.codec_context.codec.canonical_name
        self._audio_clock = PacketClock(source_audio.time_base)
        self._source_audio = source_audio
        try:
            self._audio_check = _decoder_like(source_audio)
            if name in self.container.supported_codecs:
                self.audio = self.container.add_stream_from_template(source_audio)
                self.audio_note = f"copied ({name})"
                return
        except (av.error.FFmpegError, ValueError) as e:  # parameters that damage made invalid
            log.warning("%s: the input's audio cannot be copied (%s); the output has none",
                        self.path, reason(e))  # fmt: skip
            self.audio_note = f"dropped (the input's audio is unreadable: {reason(e)})"
            return
        target = self.container.default_audio_codec
        if not target or target == "none":
            log.warning("%s cannot hold audio; the output has none", self.path.suffix)
            self.audio_note = "dropped (container holds no audio)"
            return
        cc = source_audio.codec_context
        self.audio = self.container.add_stream(target, rate=cc.sample_rate, layout=cc.layout.name)
        self._transcode = True
        self.audio_note = f"transcoded {name} -> {target} ({self.path.suffix} cannot hold {name})"

    def write(self, frame: Frame, stylized: Any) -> None:
        if frame.pts is not None and frame.time_base:
            self._anchor_s = frame.pts * frame.time_base
        for packet in frame.extra_packets:
            self._mux_audio(packet)
        out = rgb_to_yuv420_frame(stylized)
        out.pts = self._clock.enter(frame.pts)
        out.time_base = self.video.codec_context.time_base
        self._mux_video(self._encode(out))
        self.written += 1

    def _encode(self, frame: Any) -> list[Any]:
        """Encode one frame (None flushes); a failing encoder is a run error, not a traceback."""
        try:
            return self.video.encode(frame)
        except av.error.FFmpegError as e:
            raise RunError("encode", reason(e)) from e

    def _mux_video(self, packets: Iterable[Any]) -> None:
        self._mux(self._clock.retime(p) for p in packets)

    def _mux_audio(self, packet: Any) -> None:
        """Copy (or transcode) one audio packet; damage costs that packet, never the run.

        Every packet goes through a decoder that sees only the packets kept, as a player's
        would: one it rejects would fail to play there, so it is dropped and counted, like an
        undecodable frame (and the decoder starts afresh, so garbage cannot linger in it).
        """
        if self.audio is None or self._audio_clock is None:
            return
        try:
            decoded = self._audio_check.decode(packet)
        except av.error.FFmpegError as e:
            log.debug("undecodable audio packet at dts %s dropped: %s", packet.dts, reason(e))
            self._audio_clock.dropped += 1
            self._audio_check = _decoder_like(self._source_audio)
            return
        if self._transcode:
            for frame in decoded:
                frame.pts = None
                self._mux(self.audio.encode(frame))
            return
        if not self._audio_clock.place(packet, self._anchor_s):
            return
        packet.stream = self.audio
        try:
            self._mux([packet])
        except RunError as e:  # refused after re-timing (e.g. two ticks that round to one)
            log.debug("audio packet at dts %s dropped: %s", packet.dts, e.detail)
            self._audio_clock.dropped += 1

    def _mux(self, packets: Iterable[Any]) -> None:
        try:
            for packet in packets:
                if packet is not None:
                    self.container.mux_one(packet)
        except OSError as e:
            raise OutputError(f"{self.path}: writing failed ({e.strerror or e})") from None
        except av.error.FFmpegError as e:
            raise RunError("mux", reason(e)) from e

    @property
    def audio_retimed(self) -> int:
        return self._audio_clock.retimed if self._audio_clock is not None else 0

    @property
    def audio_dropped(self) -> int:
        return self._audio_clock.dropped if self._audio_clock is not None else 0

    def finish(self, trailing_packets: list[Any] | None = None) -> None:
        if self.written == 0:  # an empty file that looks complete would be worse than none
            self.abort()
            return
        for packet in trailing_packets or []:
            self._mux_audio(packet)
        self._mux_video(self._encode(None))
        self._mux(self._clock.flush())
        if self._transcode and self.audio is not None:
            self._mux(self.audio.encode())
        try:
            self.container.close()
        except OSError as e:
            self.abort()
            raise OutputError(f"{self.path}: closing the file failed ({e.strerror or e})") from None
        commit(self.tmp, self.path)
        self.kept = True

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception as e:  # the container may already be broken; the file goes anyway
            log.debug("closing a failed output: %s", e)
        self.tmp.unlink(missing_ok=True)


def _decoder_like(stream: Any) -> Any:
    """A fresh decoder for `stream`'s codec and parameters, independent of the demuxer's."""
    source = stream.codec_context
    decoder = av.CodecContext.create(source.codec.name, "r")
    decoder.extradata = source.extradata
    decoder.sample_rate = source.sample_rate
    decoder.layout = source.layout
    return decoder


class _Retimer:
    """Maps encoder frame numbers back to the input's timestamps, in the input's time base.

    Encoders see frame i at pts i (a constant rate), which keeps B-frame dts arithmetic sound
    whatever the input's time base or gaps; each packet then gets pts = input pts of its frame
    and dts = input pts of the frame whose number the encoder used as dts, so dts stays
    monotonic and never exceeds pts. The last packet is held back to give it a duration that
    ends one frame after the last frame, so the output lasts as long as the input.
    """

    def __init__(self, time_base: Fraction, rate: Fraction) -> None:
        self.time_base = time_base
        self.step = max(1, round(1 / (rate * time_base)))
        self._pts: dict[int, int] = {}
        self._count = 0
        self._held: Any = None
        self._end = 0
        self._lead: int | None = None  # how far the first dts sits before the first pts

    def enter(self, pts: int | None) -> int:
        index = self._count
        self._pts[index] = (
            pts if pts is not None else (self._pts.get(index - 1, -self.step) + self.step)
        )
        self._end = max(self._end, self._pts[index] + self.step)
        self._count += 1
        return index

    def retime(self, packet: Any) -> Any:
        """Rewrite one packet and return the one held before it (or None)."""
        dts = packet.dts if packet.dts is not None else packet.pts
        packet.pts = self._pts[packet.pts]
        packet.dts = self._pts[dts] if dts >= 0 else self._pts[0] + dts * self.step
        if self._lead is None:
            self._lead = self._pts[0] - packet.dts
        packet.time_base = self.time_base
        packet.duration = self.step
        for stale in [k for k in self._pts if k < dts - 1]:
            del self._pts[stale]
        held, self._held = self._held, packet
        return held

    def flush(self) -> list[Any]:
        held, self._held = self._held, None
        if held is None:
            return []
        held.duration = max(1, self._end - held.dts - (self._lead or 0))
        return [held]


def _encoder_options(codec: str, crf: int | None, preset: str | None, live: bool) -> dict[str, str]:
    """Quality and speed settings per encoder family; unknown encoders get their defaults."""
    if codec in ("libx264", "libx265"):
        opts = {"crf": str(DEFAULT_CRF if crf is None else crf), "preset": preset or DEFAULT_PRESET}
        if live:
            opts["tune"] = "zerolatency"
        return opts
    if codec == "libvpx-vp9":
        return {
            "crf": str(32 if crf is None else crf),
            "b": "0",
            "deadline": "realtime",
            "cpu-used": "8",
            "row-mt": "1",
        }
    return {}


class ImageSink(Sink):
    """Writes one image, or one image per input image into a folder under the same names."""

    def __init__(self, path: Path, single: bool, names: list[str], overwrite: bool) -> None:
        self.path = path
        self.single = single
        if single:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise OutputError(
                    f"{path}: an image input needs an image output "
                    f"({', '.join(sorted(IMAGE_SUFFIXES))})"
                )
            return
        if path.exists() and not path.is_dir():
            raise OutputError(f"{path}: exists and is not a folder")
        clashes = [n for n in names if (path / n).exists()]
        if clashes and not overwrite:
            raise OutputError(f"{path / clashes[0]}: exists; pass --overwrite to replace it")

    def write(self, frame: Frame, stylized: Any) -> None:
        target = self.path if self.single else self.path / frame.name
        target.parent.mkdir(parents=True, exist_ok=True)
        ok, data = cv2.imencode(target.suffix, cv2.cvtColor(stylized, cv2.COLOR_RGB2BGR))
        if not ok:
            raise OutputError(f"{target}: cannot encode an image of this type")
        try:
            write_bytes_atomic(target, data.tobytes())
        except OSError as e:
            raise OutputError(f"{target}: writing failed ({e.strerror or e})") from None
        self.written += 1
        self.kept = True
