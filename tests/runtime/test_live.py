"""Live use without a window: styles switched between batches, strength and colour, snapshots,
the pausable recording, and the options that must be refused before a run starts."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from stream_astgan.blend import blend, keep_colour
from stream_astgan.engine import Engine
from stream_astgan.errors import ModelError, UsageError
from stream_astgan.frames import Frame, StreamInfo
from stream_astgan.live_controls import LiveControls
from stream_astgan.pipeline import Pipeline
from stream_astgan.recording import PausableRecording
from stream_astgan.runner import RunOptions, stylize
from stream_astgan.sinks import Sink, VideoSink
from stream_astgan.sources import Source
from stream_astgan.styles import Style, Styles, model_names


def styles_of(*paths, **kw) -> Styles:
    return Styles([Style(p.stem, Engine(p, "cpu"), p) for p in paths], **kw)


def random_batch(n=2, h=24, w=32, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, 3), dtype=np.uint8)


def chroma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(-1, rgb.shape[-2], 3), cv2.COLOR_RGB2YCrCb)[..., 1:]


def luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(-1, rgb.shape[-2], 3), cv2.COLOR_RGB2GRAY)


# -- blend -----------------------------------------------------------------------------------------
def test_strength_zero_is_the_frame_one_the_stylization_and_between_a_mix():
    frames = random_batch()
    stylized = 255 - frames
    assert np.array_equal(blend(frames, stylized, 0.0, False), frames)
    assert np.array_equal(blend(frames, stylized, 1.0, False), stylized)
    half = blend(frames, stylized, 0.5, False).astype(int)
    assert np.abs(half - 127.5).max() <= 1  # x/2 + (255-x)/2, rounded
    quarter = blend(frames, stylized, 0.25, False).astype(int)
    expected = 0.25 * stylized + 0.75 * frames
    assert np.abs(quarter - expected).max() <= 1


def test_preserve_colour_keeps_the_frames_chroma_and_takes_the_stylized_luminance():
    # Colours a new luminance keeps inside the RGB cube (where no channel has to be clipped).
    frames = np.random.default_rng(2).integers(90, 170, (2, 24, 32, 3), dtype=np.uint8)
    stylized = random_batch(seed=3) // 4 + 96  # a different, greyer picture
    kept = keep_colour(frames, stylized)
    assert kept.shape == frames.shape and kept.dtype == np.uint8
    assert np.abs(chroma(kept).astype(int) - chroma(frames)).max() <= 3
    assert np.abs(luma(kept).astype(int) - luma(stylized)).max() <= 3
    assert np.abs(chroma(stylized).astype(int) - chroma(frames)).mean() > 10  # it had to change
    quarter = blend(frames, stylized, 0.25, True)  # with a strength only the luminance mixes
    assert np.abs(chroma(quarter).astype(int) - chroma(frames)).max() <= 3
    expected = 0.25 * luma(stylized) + 0.75 * luma(frames)
    assert np.abs(luma(quarter) - expected).max() <= 3


# -- runs on files ---------------------------------------------------------------------------------
def test_strength_zero_gives_the_input_and_one_the_plain_model(make_clip, invert_model, media):
    clip = make_clip("in.mp4", n=12)
    source, _, _ = media.decode_video(clip)
    outputs = {}
    for strength in (0.0, 1.0):
        out = clip.with_name(f"s{strength}.mp4")
        stylize(RunOptions(input=clip, output=out, model=str(invert_model), strength=strength))
        outputs[strength], _, _ = media.decode_video(out)
    # Codec error: the saturated test gradient loses up to a few levels a pixel to 4:2:0 chroma.
    for a, s0, s1 in zip(source, outputs[0.0], outputs[1.0], strict=True):
        assert np.abs(a.astype(int) - s0).mean() < 4  # the input
        assert np.abs((255 - a.astype(int)) - s1).mean() < 4  # the model's output
        assert np.abs(a.astype(int) - s1).mean() > 50  # ... which really differs from the input


def test_preserve_colour_on_an_image_file(invert_model, tmp_path):
    rng = np.random.default_rng(5)
    rgb = cv2.GaussianBlur(rng.integers(30, 226, (48, 64, 3), dtype=np.uint8), (7, 7), 0)
    photo, out = tmp_path / "p.png", tmp_path / "o.png"
    cv2.imwrite(str(photo), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    stylize(RunOptions(input=photo, output=out, model=str(invert_model), preserve_colour=True))
    result = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB)
    assert np.abs(chroma(result).astype(int) - chroma(rgb)).max() <= 3
    assert np.abs(luma(result).astype(int) - (255 - luma(rgb).astype(int))).max() <= 3


# -- switching -------------------------------------------------------------------------------------
class StillSource(Source):
    """The same grey frame `n` times at 25 fps, as a file would give it."""

    def __init__(self, n, value=200):
        self.n, self.value = n, value
        self.info = StreamInfo(8, 6, Fraction(25), Fraction(1, 25), n)

    def frames(self):
        for i in range(self.n):
            yield Frame(np.full((6, 8, 3), self.value, np.uint8), i, Fraction(1, 25), i)


class SwitchingSink(Sink):
    """Records each output and presses `n` after frame `at`, as the preview would."""

    def __init__(self, styles, at):
        self.styles, self.at, self.values = styles, at, []

    def write(self, frame, stylized):
        self.values.append(int(stylized[0, 0, 0]))
        if frame.index == self.at:
            self.styles.step(1)


@pytest.mark.parametrize("batch", [1, 3])
def test_a_switch_takes_effect_on_a_later_batch_and_keeps_the_order(
    invert_model, halve_model, batch
):
    styles = styles_of(invert_model, halve_model)
    sink = SwitchingSink(styles, at=5)
    Pipeline(StillSource(30), styles, [sink], batch).run()
    inverted, halved = 255 - 200, 200 // 2
    assert set(sink.values) == {inverted, halved}
    first_halved = sink.values.index(halved)
    assert first_halved > 5  # frames already in flight finish with the old style
    assert sink.values == [inverted] * first_halved + [halved] * (30 - first_halved)
    assert styles.switches == 1


def test_model_names_expand_all_and_drop_repeats(monkeypatch):
    from stream_astgan import catalog

    assert model_names(None) == [None]
    assert model_names("x.onnx") == ["x.onnx"]
    bundled = sorted(catalog.bundled())
    assert model_names(["all"]) == bundled
    if bundled:
        assert model_names([bundled[-1], "all"]) == [bundled[-1], *bundled[:-1]]
    monkeypatch.setattr(catalog, "bundled", lambda models_dir=None: {})
    with pytest.raises(ModelError, match="no bundled model"):
        model_names("all")


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"strength": 1.5}, "--strength must be between 0 and 1"),
        ({"model": ["a.onnx", "b.onnx"]}, "are switched live"),
        ({"vcam": True}, "--vcam sends a live run"),
    ],
)
def test_live_options_that_cannot_work_are_refused_before_the_run(tmp_path, kw, message):
    opts = RunOptions(input=tmp_path / "in.mp4", output=tmp_path / "o.mp4", **kw)
    with pytest.raises(UsageError, match=message):
        stylize(opts)
    assert not list(tmp_path.iterdir())


# -- keys ------------------------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_keys_switch_styles_set_the_strength_and_show_what_changed(invert_model, halve_model):
    clock = Clock()
    styles = styles_of(invert_model, halve_model)
    controls = LiveControls(styles, clock=clock)
    frame, picture = Frame(np.zeros((4, 4, 3), np.uint8), 0, None, 0), np.zeros((4, 4, 3), np.uint8)
    assert controls.message == "1/2 invert"
    clock.now = 5.0
    assert controls.message == ""  # the name is shown only for a moment
    for key, current in (("n", 1), ("n", 0), ("p", 1), ("1", 0), ("9", 0), ("2", 1)):
        controls.handle(ord(key), frame, picture)
        assert styles.current == current, key
    assert controls.message == "2/2 halve" and styles.switches == 5
    for key, strength in (("-", 0.9), ("-", 0.8), ("+", 0.9), ("+", 1.0), ("+", 1.0)):
        controls.handle(ord(key), frame, picture)
        assert styles.strength == pytest.approx(strength)
    for _ in range(12):
        controls.handle(ord("-"), frame, picture)
    assert styles.strength == 0.0 and controls.message == "strength 0.0"
    controls.handle(ord("c"), frame, picture)
    assert styles.preserve_colour and "colours kept" in controls.status()
    controls.handle(ord("h"), frame, picture)
    assert controls.show_help
    controls.handle(ord("r"), frame, picture)
    assert "not recording" in controls.message


def test_snapshots_never_overwrite(invert_model, tmp_path):
    base = tmp_path / "rec-snapshot.png"
    base.write_bytes(b"precious")
    controls = LiveControls(styles_of(invert_model), snapshots=base)
    frame = Frame(np.zeros((4, 6, 3), np.uint8), 0, None, 0)
    pictures = [np.full((4, 6, 3), v, np.uint8) for v in (10, 200)]
    for picture in pictures:
        controls.handle(ord("s"), frame, picture)
    assert base.read_bytes() == b"precious"
    assert [p.name for p in controls.saved] == ["rec-snapshot-1.png", "rec-snapshot-2.png"]
    for path, picture in zip(controls.saved, pictures, strict=True):
        saved = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        assert np.array_equal(saved, picture)


def test_a_paused_recording_resumes_with_continuous_timestamps(invert_model, media, tmp_path):
    info = StreamInfo(32, 24, Fraction(25), Fraction(1, 1000), None, live=True, kind="live")
    recording = PausableRecording(VideoSink(tmp_path / "rec.mp4", info), info.rate, info.time_base)
    controls = LiveControls(styles_of(invert_model), recording=recording)
    for i in range(12):  # a camera at 25 fps: 40 ms a frame, timestamps in ms
        picture = np.full((24, 32, 3), i * 20, np.uint8)
        frame = Frame(picture, i * 40, info.time_base, i)
        if i in (3, 8):  # pause after three frames, resume five frames later
            controls.handle(ord("r"), frame, picture)
            assert ("REC paused" in controls.status()) == (i == 3)
        recording.write(frame, picture)
    recording.finish()
    frames, times, _ = media.decode_video(tmp_path / "rec.mp4")
    assert times == [Fraction(40 * k, 1000) for k in range(7)]  # no hole where it was paused
    shades = [int(np.median(f)) for f in frames]
    assert [round(v / 20) for v in shades] == [0, 1, 2, 8, 9, 10, 11]  # the frames recorded
