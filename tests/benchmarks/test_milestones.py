"""Weight averaging and milestone picking of `benchmarks.milestones` on tiny checkpoints: the
mean is exact and exportable, other generators or paintings and EMA-only files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from benchmarks.milestones import averaged, milestones
from training.checkpoint import FORMAT, load_generator_checkpoint, save_checkpoint
from training.config import (
    GeneratorConfig,
    StyleConfig,
    TrainConfig,
    config_hash,
    config_to_dict,
)
from training.networks import build_generator

TINY = {"width": 4, "max_width": 8, "downsamples": 2, "res_blocks": 1, "bottleneck": 1}


def write(
    path: Path, seed: int, step: int = 100, live: bool = True, style: str = "a", **tiny: int
) -> Path:
    config = config_to_dict(
        TrainConfig(generator=GeneratorConfig(**(TINY | tiny)), style=StyleConfig(name=style))
    )
    torch.manual_seed(seed)
    ema = build_generator(GeneratorConfig(**(TINY | tiny))).state_dict()
    checkpoint = {
        "format": FORMAT,
        "step": step,
        "config": config,
        "config_hash": config_hash(config),
        "generator": ema,
    }
    if live:
        checkpoint["generator_train"] = {
            k: v + 1 if v.is_floating_point() else v for k, v in ema.items()
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, checkpoint)
    return path


def test_the_average_is_the_mean_of_the_weights_and_loads_as_a_generator(tmp_path):
    a, b = write(tmp_path / "a.pt", 0, 100), write(tmp_path / "b.pt", 1, 300)
    out = tmp_path / "soup.pt"
    save_checkpoint(out, averaged([a, b], live=False))
    soup = load_generator_checkpoint(out)  # export's reader
    wa, wb = (load_generator_checkpoint(p).generator_state for p in (a, b))
    assert soup.step == 300
    changed = 0
    for key, value in soup.generator_state.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, (wa[key] + wb[key]) / 2)
            changed += not torch.equal(value, wa[key])
    assert changed > 0
    live = averaged([a], live=True)["generator"]
    some = next(k for k, v in wa.items() if v.is_floating_point())
    torch.testing.assert_close(live[some], wa[some] + 1)


def test_mismatched_generators_or_paintings_and_ema_only_files_are_refused(tmp_path, capsys):
    a = write(tmp_path / "a.pt", 0)
    with pytest.raises(SystemExit):
        averaged([a, write(tmp_path / "wide.pt", 0, width=8)], live=False)
    assert "in its generator" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        averaged([a, write(tmp_path / "other.pt", 1, style="b")], live=False)
    assert "in its style" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        averaged([write(tmp_path / "ema.pt", 0, live=False)], live=True)
    assert "no trained weights" in capsys.readouterr().err


def test_a_run_stands_for_its_kept_milestones(tmp_path, capsys):
    run = tmp_path / "run"
    for step in (100, 200, 300):
        write(run / "checkpoints" / f"step_{step:06d}.pt", 0, step)
    assert [p.name for p in milestones(run, [])] == [
        "step_000100.pt",
        "step_000200.pt",
        "step_000300.pt",
    ]
    assert [p.name for p in milestones(run, [200])] == ["step_000200.pt"]
    with pytest.raises(SystemExit):
        milestones(run, [400])
    assert "no kept milestones" in capsys.readouterr().err


def test_flicker_is_skipped_when_asked_and_measured_when_a_later_call_wants_it(
    tmp_path, monkeypatch
):
    from benchmarks import trained_runs

    box = tmp_path / "box.mp4"
    box.write_bytes(b"")  # present: only its being there is read before open_source
    monkeypatch.setattr(trained_runs, "BOX", box)
    opened: list[Path] = []

    def no_video(path):
        opened.append(path)
        raise RuntimeError("stop here: the video was asked for")

    monkeypatch.setattr(trained_runs, "open_source", no_video)
    monkeypatch.setattr(trained_runs, "scores", lambda *a: (0.5, 0.25))
    run = tmp_path / "run"
    ckpt = write(run / "checkpoints" / "step_000100.pt", 0)
    photos = {"p": torch.randint(0, 256, (16, 24, 3), dtype=torch.uint8).numpy()}
    figures = trained_runs.quality(ckpt, photos, None, [], flicker=False)
    assert figures == {"gram_ratio": 0.5, "content": 0.25} and opened == []
    with pytest.raises(RuntimeError, match="stop here"):
        trained_runs.quality(ckpt, photos, None, [], flicker=True)

    calls: list[bool] = []

    def fake_quality(checkpoint, photos, vgg, target, flicker):
        calls.append(flicker)
        return {"gram_ratio": 0.5} | ({"warping_ratio_box": 1.1} if flicker else {})

    monkeypatch.setattr(trained_runs, "quality", fake_quality)
    held_out = trained_runs.HeldOut.__new__(trained_runs.HeldOut)
    held_out.photos, held_out.loaded = photos, (None, {"a.png": []})
    config = {"style": {"paths": ["x/a.png"]}}
    name = "checkpoints/step_000100.pt"
    for flicker in (False, False, True, True, False):
        figures = held_out.figures(run, config, 100, name, flicker)
        assert ("warping_ratio_box" in figures) == (flicker or calls[-1])
    assert calls == [False, True]  # one measurement each; the cache serves the rest
