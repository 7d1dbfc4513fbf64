"""Timestamps for copied audio packets that a muxer will accept, whatever damage did to them.

A muxer refuses a packet whose dts does not increase (FFmpeg returns EINVAL), and a packet
whose timestamp is absurd stretches the file or throws the audio out of sync. Damaged files
carry both: a broken MP4 index, a splice of two files, a duplicated span. FFmpeg's own tools
re-time such packets from their neighbours; so does this, with rules a user can check:

- a packet with no timestamp, or one more than `MAX_JUMP_S` away from where the previous
  packet ended, is a discontinuity: it is placed where the previous one ended, and the packets
  after it keep the same shift (they continue the new timeline);
- the first packet is judged against the video's time instead (the frame it is muxed with);
- a packet whose dts does not increase overlaps audio already written: it is dropped.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

MAX_JUMP_S = 10  # FFmpeg's own threshold for a timestamp discontinuity (-dts_delta_threshold)


class PacketClock:
    """Re-times the packets of one copied stream, counting what it re-timed and dropped."""

    def __init__(self, time_base: Fraction) -> None:
        self.time_base = time_base
        self.max_jump = max(1, round(MAX_JUMP_S / time_base))
        self.retimed = 0
        self.dropped = 0
        self._offset = 0
        self._last_dts: int | None = None
        self._end: int | None = None  # where the last packet ended
        self._step = 1  # the last packet's duration, or the last dts step when it has none

    def place(self, packet: Any, anchor_s: Fraction | None = None) -> bool:
        """Give `packet` muxable timestamps; False when it must be dropped.

        `anchor_s` is the time (seconds) of the video frame the packet is muxed with, the only
        neighbour the first packet has.
        """
        raw = packet.dts if packet.dts is not None else packet.pts
        expected = self._end
        if expected is None and anchor_s is not None:
            expected = round(anchor_s / self.time_base)
        lead = packet.pts - packet.dts if None not in (packet.pts, packet.dts) else 0
        changed = not 0 <= lead <= self.max_jump
        if raw is None:
            if expected is None:
                self.dropped += 1
                return False
            dts, changed = expected, True
        else:
            dts = raw + self._offset
            if expected is not None and abs(dts - expected) > self.max_jump:
                self._offset = expected - raw
                dts, changed = expected, True
        if self._last_dts is not None and dts <= self._last_dts:
            self.dropped += 1
            return False
        self.retimed += changed
        packet.dts = dts
        packet.pts = dts + lead if 0 <= lead <= self.max_jump else dts
        if packet.duration and 0 < packet.duration <= self.max_jump:
            self._step = packet.duration
        elif self._last_dts is not None:
            self._step = max(1, min(dts - self._last_dts, self.max_jump))
        self._last_dts = dts
        self._end = dts + self._step
        return True
