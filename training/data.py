"""Content crops and painting patches, drawn from a per-step random generator.

Every random choice of a step comes from `step_generator(seed, rank, step)`, so a batch depends
only on (seed, rank, step): resuming at step N draws exactly the batches an uninterrupted run
would have drawn, with no loader state to save. All media is decoded once, downscaled, and kept
in memory as uint8 (63 photos at a 448 px short side take about 90 MB).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import av
import cv2
import numpy as np
import torch
import torch.nn.functional as F

from stream_astgan.images import IMAGE_SUFFIXES, read_image
from training.errors import TrainingError

VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg"}


class DataWarning(UserWarning):
    """A content or style file was skipped (unreadable, not an image or video)."""


def step_generator(seed: int, rank: int, step: int) -> torch.Generator:
    """The random generator of one step of one process."""
    state = np.random.SeedSequence([seed, rank, step]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def expand_paths(paths: Iterable[str], suffixes: set[str], what: str) -> list[Path]:
    """Files given directly plus the matching files found recursively in given folders."""
    found: list[Path] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise TrainingError(f"{what} path {text} does not exist")
    return found


def _resize_short_side(rgb: np.ndarray, short_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = short_side / min(h, w)
    size = (max(round(w * scale), short_side), max(round(h * scale), short_side))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(rgb, size, interpolation=interpolation)


def read_video_frames(path: Path, count: int) -> list[np.ndarray]:
    """About `count` RGB frames spread evenly over the video (empty if it cannot be decoded)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return []
            stream = container.streams.video[0]
            total = stream.frames
            every = max(1, total // count) if total > 0 else 1
            frames = [
                frame.to_ndarray(format="rgb24")
                for i, frame in enumerate(container.decode(stream))
                if i % every == 0
            ]
    except (av.error.FFmpegError, UnicodeDecodeError, OSError):
        return []
    if len(frames) > count:
        keep = np.linspace(0, len(frames) - 1, count).round().astype(int)
        frames = [frames[i] for i in keep]
    return frames


def load_content(
    paths: Iterable[str], short_side: int, frames_per_video: int
) -> list[torch.Tensor]:
    """Decode every content image and sampled video frame as uint8 [3, H, W] tensors."""
    suffixes = IMAGE_SUFFIXES | VIDEO_SUFFIXES
    images = []
    for path in expand_paths(paths, suffixes, "content"):
        if path.suffix.lower() in VIDEO_SUFFIXES:
            frames = read_video_frames(path, frames_per_video)
        else:
            image = read_image(path)
            frames = [] if image is None else [image]
        if not frames:
            warnings.warn(
                f"skipping {path}: not a readable image or video", DataWarning, stacklevel=2
            )
        images.extend(_to_tensor(_resize_short_side(f, short_side)) for f in frames)
    if not images:
        raise TrainingError(
            "no usable content image: give --content folders of photos (searched recursively) "
            "or video files"
        )
    return images


def load_paintings(paths: Iterable[str]) -> tuple[list[Path], list[np.ndarray]]:
    """The readable painting files and their RGB pixels."""
    used, pixels = [], []
    for path in expand_paths(paths, IMAGE_SUFFIXES, "style"):
        image = read_image(path)
        if image is None:
            warnings.warn(f"skipping {path}: not a readable image", DataWarning, stacklevel=2)
            continue
        used.append(path)
        pixels.append(image)
    if not used:
        raise TrainingError(
            "no usable style image: give --style a painting file or a folder of them"
        )
    return used, pixels


def _to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).contiguous()


def _random_crop(
    image: torch.Tensor, size: int, gen: torch.Generator, zoom: float = 1.0
) -> torch.Tensor:
    """A float [3, size, size] crop covering size*zoom source pixels, randomly flipped."""
    region = min(round(size * zoom), *image.shape[1:])
    top = int(torch.randint(image.shape[1] - region + 1, (1,), generator=gen))
    left = int(torch.randint(image.shape[2] - region + 1, (1,), generator=gen))
    crop = image[:, top : top + region, left : left + region].float().div_(255)
    if region != size:
        crop = F.interpolate(
            crop[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )[0]
    if torch.rand((), generator=gen) < 0.5:
        crop = crop.flip(-1)
    return crop


class ContentSampler:
    """Random crops of the content photos and frames, with a random zoom and flip."""

    def __init__(self, images: list[torch.Tensor], crop: int, scale_jitter: float) -> None:
        self.images = images
        self.crop = crop
        self.scale_jitter = scale_jitter

    def batch(self, size: int, gen: torch.Generator) -> torch.Tensor:
        """[size, 3, crop, crop] float in [0, 1]."""
        crops = []
        for _ in range(size):
            image = self.images[int(torch.randint(len(self.images), (1,), generator=gen))]
            zoom = 1 + self.scale_jitter * float(torch.rand((), generator=gen))
            crops.append(_random_crop(image, self.crop, gen, zoom))
        return torch.stack(crops)


class StyleSampler:
    """Patches of the painting(s) at several scales, so strokes are seen at several sizes."""

    def __init__(
        self, paintings: list[np.ndarray], crop: int, short_side: int, scales: list[float]
    ) -> None:
        self.crop = crop
        self.levels = [
            _to_tensor(_resize_short_side(p, max(round(short_side * s), crop)))
            for p in paintings
            for s in scales
        ]

    def batch(self, size: int, gen: torch.Generator) -> torch.Tensor:
        """[size, 3, crop, crop] float in [0, 1]."""
        picks = torch.randint(len(self.levels), (size,), generator=gen).tolist()
        return torch.stack([_random_crop(self.levels[i], self.crop, gen) for i in picks])


def style_name(paths: list[str]) -> str:
    """Default style name from the painting or folder, e.g. starry_night.jpg -> starry-night."""
    stems = {Path(p).stem if Path(p).suffix else Path(p).name for p in paths}
    name = "+".join(sorted(stems)) if len(stems) <= 2 else Path(paths[0]).resolve().parent.name
    return name.lower().replace("_", "-").replace(" ", "-")
