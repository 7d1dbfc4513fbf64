"""Content and style loading: folders, videos, unreadable files, empty inputs."""

from __future__ import annotations

import av
import numpy as np
import pytest
import torch

from training.data import (
    ContentSampler,
    DataWarning,
    StyleSampler,
    load_content,
    load_paintings,
    step_generator,
    style_name,
)
from training.errors import TrainingError


def write_video(path, frames: int = 12, size: tuple[int, int] = (64, 48)) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            rgb = np.full((size[1], size[0], 3), i * 20, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_folders_are_searched_recursively(tiny_data):
    content, _ = tiny_data
    assert len(load_content([str(content)], 48, 4)) == 4


def test_video_frames_are_sampled_evenly(tmp_path):
    video = tmp_path / "clip.mp4"
    write_video(video, frames=12)
    frames = load_content([str(video)], 32, 4)
    assert len(frames) == 4
    brightness = [float(f.float().mean()) for f in frames]
    assert brightness == sorted(brightness) and brightness[-1] - brightness[0] > 100
    assert min(frames[0].shape[1:]) == 32


def test_unreadable_files_are_skipped_with_a_warning(tiny_data, tmp_path):
    content, _ = tiny_data
    (content / "broken.jpg").write_bytes(b"not a jpeg")
    (content / "broken.mp4").write_bytes(b"not a video")
    with pytest.warns(DataWarning, match=r"broken\.(jpg|mp4)"):
        images = load_content([str(content)], 48, 4)
    assert len(images) == 4


def test_no_usable_image_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    with pytest.warns(DataWarning), pytest.raises(TrainingError, match="no usable content"):
        load_content([str(tmp_path)], 48, 4)
    with pytest.warns(DataWarning), pytest.raises(TrainingError, match="no usable style"):
        load_paintings([str(tmp_path / "notes.txt")])
    with pytest.raises(TrainingError, match="does not exist"):
        load_content([str(tmp_path / "missing")], 48, 4)


def test_batches_depend_only_on_seed_rank_and_step(tiny_data):
    content, painting = tiny_data
    sampler = ContentSampler(load_content([str(content)], 48, 4), 32, 0.3)
    a = sampler.batch(3, step_generator(1, 0, 5))
    assert torch.equal(a, sampler.batch(3, step_generator(1, 0, 5)))
    assert not torch.equal(a, sampler.batch(3, step_generator(1, 0, 6)))
    assert not torch.equal(a, sampler.batch(3, step_generator(1, 1, 5)))
    assert a.shape == (3, 3, 32, 32) and a.min() >= 0 and a.max() <= 1
    _, pixels = load_paintings([str(painting)])
    style = StyleSampler(pixels, 32, 64, [1.0, 0.5])
    assert style.batch(4, step_generator(1, 0, 0)).shape == (4, 3, 32, 32)


def test_style_name():
    assert style_name(["../data/starry_night.jpg"]) == "starry-night"
    assert style_name(["../data/style/vangogh"]) == "vangogh"
