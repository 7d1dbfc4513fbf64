"""End-to-end runs of `python -m training` on tiny images and a tiny model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training import losses
from training.cli import main
from training.config import GeneratorConfig, config_hash
from training.features import VGG_BLOCKS, VGGFeatures
from training.metrics import read_metrics
from training.networks import build_generator

from .conftest import TINY

REPO = Path(__file__).resolve().parents[2]


def train(content: Path, painting: Path, out: Path, *extra: str) -> int:
    return main(["--content", str(content), "--style", str(painting), "--out", str(out),
                 *TINY, *extra])  # fmt: skip


def load(run: Path) -> dict:
    return torch.load(run / "checkpoint.pt", weights_only=True)


def test_checkpoint_follows_the_contract(tiny_data, tmp_path):
    content, painting = tiny_data
    assert train(content, painting, tmp_path / "run", "--steps", "2") == 0
    ckpt = load(tmp_path / "run")
    assert ckpt["format"] == "stream-astgan-checkpoint/1" and ckpt["step"] == 2
    assert ckpt["config_hash"] == config_hash(ckpt["config"])
    assert ckpt["config"]["style"] == {"name": "painting", "paths": [str(painting)]}
    for key in ("discriminator", "opt_g", "opt_d", "lr_controller", "rng"):
        assert key in ckpt
    g = build_generator(GeneratorConfig(**ckpt["config"]["generator"]))
    g.load_state_dict(ckpt["generator"])
    y = g.eval()(torch.rand(1, 3, 2 * g.stride, 3 * g.stride))
    assert y.shape == (1, 3, 2 * g.stride, 3 * g.stride)
    assert len(read_metrics(tmp_path / "run" / "metrics.csv")) == 2
    assert list((tmp_path / "run" / "samples").glob("*.png"))


@pytest.mark.parametrize("policy", ["balance", "damped"])
def test_resume_is_exact(tiny_data, tmp_path, policy):
    content, painting = tiny_data
    assert train(content, painting, tmp_path / "full", "--steps", "6", "--lr-policy", policy) == 0
    assert train(content, painting, tmp_path / "half", "--steps", "3", "--lr-policy", policy) == 0
    assert main(["--out", str(tmp_path / "half"), "--resume", "--steps", "6"]) == 0
    full, resumed = load(tmp_path / "full"), load(tmp_path / "half")
    assert resumed["step"] == 6
    for key in ("generator", "generator_train", "discriminator"):
        for name, tensor in full[key].items():
            assert torch.equal(tensor, resumed[key][name]), f"{key}.{name} differs"
    assert full["lr_controller"] == resumed["lr_controller"]
    rows = read_metrics(tmp_path / "half" / "metrics.csv")
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]


def test_branch_continues_exactly_and_takes_recipe_changes(tiny_data, tmp_path, capsys):
    content, painting = tiny_data
    assert train(content, painting, tmp_path / "full", "--steps", "6") == 0
    assert train(content, painting, tmp_path / "half", "--steps", "3") == 0
    parent = tmp_path / "half" / "checkpoint.pt"
    same = tmp_path / "same"
    assert main(["--out", str(same), "--branch-from", str(parent), "--steps", "6"]) == 0
    full, branched = load(tmp_path / "full"), load(same)
    for key in ("generator", "generator_train", "discriminator"):
        for name, tensor in full[key].items():
            assert torch.equal(tensor, branched[key][name]), f"{key}.{name} differs"
    assert branched["config"]["branched_from"] == f"{parent} (step 3)"
    assert [int(r["step"]) for r in read_metrics(same / "metrics.csv")] == [4, 5, 6]

    stronger = tmp_path / "stronger"
    args = ["--out", str(stronger), "--branch-from", str(parent), "--steps", "6"]
    assert main([*args, "--set", "loss.style=50"]) == 0
    ckpt = load(stronger)
    assert ckpt["config"]["loss"]["style"] == 50 and ckpt["step"] == 6
    changed = ckpt["generator_train"].items()
    assert any(not torch.equal(t, full["generator_train"][name]) for name, t in changed)
    capsys.readouterr()
    refused = {
        "generator.width": ["--out", str(tmp_path / "a"), "--branch-from", str(parent),
                            "--set", "generator.width=12"],
        "must be above": ["--out", str(tmp_path / "b"), "--branch-from", str(parent),
                          "--steps", "3"],
        "cannot be combined": ["--out", str(same), "--resume", "--branch-from", str(parent)],
        "does not exist": ["--out", str(tmp_path / "c"), "--branch-from", str(tmp_path / "x.pt")],
    }  # fmt: skip
    for message, argv in refused.items():
        assert main(argv) == 2, message
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "a").exists() and not (tmp_path / "c").exists()


def test_phases_change_the_weights_exactly_as_branches_do(tiny_data, tmp_path, capsys):
    content, painting = tiny_data
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        "[loss]\nmove_margin = 4\n"
        "[[phases]]\nafter = 3\nloss = { style = 50.0 }\n"
        "[[phases]]\nafter = 5\nloss = { move = 4.0, temporal = 0.0 }\n"
    )
    phased = tmp_path / "phased"
    assert train(content, painting, phased, "--config", str(recipe), "--steps", "7") == 0
    log = capsys.readouterr().err
    assert "phase 2 of 2 begins, after step 5: loss.move=4, loss.temporal=0" in log

    margin = ["--set", "loss.move_margin=4"]
    assert train(content, painting, tmp_path / "a", *margin, "--steps", "3") == 0
    b, c = tmp_path / "b", tmp_path / "c"
    assert main(["--out", str(b), "--branch-from", str(tmp_path / "a" / "checkpoint.pt"),
                 "--steps", "5", "--set", "loss.style=50"]) == 0  # fmt: skip
    assert main(["--out", str(c), "--branch-from", str(b / "checkpoint.pt"), "--steps", "7",
                 "--set", "loss.move=4", "--set", "loss.temporal=0"]) == 0  # fmt: skip
    assert train(content, painting, tmp_path / "base", *margin, "--steps", "7") == 0
    chained, ours, base = load(c), load(phased), load(tmp_path / "base")
    for key in ("generator", "generator_train", "discriminator"):
        for name, tensor in chained[key].items():
            assert torch.equal(tensor, ours[key][name]), f"{key}.{name} differs"
    assert any(not torch.equal(t, base["generator"][n]) for n, t in ours["generator"].items())
    assert ours["config"]["loss"]["style"] == 10 and len(ours["config"]["phases"]) == 2

    capsys.readouterr()
    recipe.write_text("[[phases]]\nafter = 3\nloss = { move_margin = 8 }\n")
    assert train(content, painting, tmp_path / "bad", "--config", str(recipe)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "loss.move_margin cannot change part-way" in err[0], err


@pytest.mark.parametrize(
    "change",
    [{"content_short_side": "96", "scale_jitter": "1"}, {"scale_jitter": "1"}],
    ids=["photo size and zoom", "zoom only"],
)
def test_a_data_phase_acts_as_a_branch_and_survives_a_resume(tiny_data, tmp_path, capsys, change):
    content, painting = tiny_data
    recipe = tmp_path / "recipe.toml"
    table = ", ".join(f"{k} = {v}" for k, v in change.items())
    recipe.write_text(f"[[phases]]\nafter = 3\ndata = {{ {table} }}\n")
    phased, resumed = tmp_path / "phased", tmp_path / "resumed"
    assert train(content, painting, phased, "--config", str(recipe), "--steps", "5") == 0
    log = capsys.readouterr().err
    assert "after step 3: " + ", ".join(f"data.{k}={v}" for k, v in change.items()) in log
    assert train(content, painting, resumed, "--config", str(recipe), "--steps", "4") == 0
    assert main(["--out", str(resumed), "--resume", "--steps", "5"]) == 0
    assert train(content, painting, tmp_path / "a", "--steps", "3") == 0
    branch = tmp_path / "b"
    sets = [a for k, v in change.items() for a in ("--set", f"data.{k}={v}")]
    parent = str(tmp_path / "a" / "checkpoint.pt")
    assert main(["--out", str(branch), "--branch-from", parent, "--steps", "5", *sets]) == 0
    assert train(content, painting, tmp_path / "base", "--steps", "5") == 0
    ours, base = load(phased), load(tmp_path / "base")
    for run in (branch, resumed):
        for name, tensor in load(run)["generator"].items():
            assert torch.equal(tensor, ours["generator"][name]), f"{run.name}: {name} differs"
    assert any(not torch.equal(t, base["generator"][n]) for n, t in ours["generator"].items())
    assert ours["config"]["data"]["content_short_side"] == 48  # the base; the phase is kept apart


def test_run_dir_is_protected(tiny_data, tmp_path, capsys):
    content, painting = tiny_data
    run = tmp_path / "run"
    assert train(content, painting, run, "--steps", "1") == 0
    capsys.readouterr()
    assert train(content, painting, run, "--steps", "1") == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert main(["--out", str(run), "--resume", "--set", "generator.width=12"]) == 2
    assert "cannot change generator.width" in capsys.readouterr().err
    assert train(content, painting, run, "--steps", "1", "--overwrite", "--seed", "9") == 0
    assert load(run)["config"]["seed"] == 9


def test_data_errors_exit_2_with_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    painting = tmp_path / "p.png"
    painting.write_bytes(b"broken")
    assert train(tmp_path / "empty", painting, tmp_path / "run", "--steps", "1") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: no usable content image")


def test_style_loss_falls_when_overfitting(tiny_data, tmp_path):
    content, painting = tiny_data
    # A tiny net learns slowly at the product's rate; overfitting wants a bolder one, held
    # (damped's generator rate would still be coming up from a quarter in these 40 steps).
    args = ("--steps", "40", "--set", "optim.lr_g=2e-3", "--lr-policy", "fixed")
    assert train(content, painting, tmp_path / "run", *args) == 0
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert [r["style"] for r in rows[:2]] == ["", ""]  # the reconstruction warm start
    style = [float(r["style"]) for r in rows[2:]]
    first, last = sum(style[:5]) / 5, sum(style[-5:]) / 5
    assert last < 0.5 * first


def test_move_term_is_logged_only_when_weighted(tiny_data, tmp_path):
    content, painting = tiny_data
    for weight in ("0", "40"):
        run = tmp_path / weight
        assert train(content, painting, run, "--steps", "5", "--set", f"loss.move={weight}",
                     "--set", "loss.move_margin=4") == 0  # fmt: skip
        moved = [r["move"] for r in read_metrics(run / "metrics.csv")[2:]]
        if weight == "0":
            assert moved == ["", "", ""]
        else:  # a fresh generator is not shift-equivariant: the term sees something
            assert all(float(m) > 0 for m in moved)


def test_block_noise_reaches_the_temporal_term_only_when_asked(tiny_data, tmp_path):
    content, painting = tiny_data
    temporal = {}
    for drift in ("0", "0.05"):
        run = tmp_path / drift
        assert train(content, painting, run, "--steps", "5", "--set", "loss.temporal_target=0",
                     "--set", f"loss.temporal_drift={drift}") == 0  # fmt: skip
        temporal[drift] = [float(r["temporal"]) for r in read_metrics(run / "metrics.csv")[2:]]
    assert all(t > 0 for t in temporal["0"])  # with no hinge the term is the flicker ratio
    assert temporal["0"] != temporal["0.05"]
    assert main(["--out", str(tmp_path / "x"), "--content", str(content), "--style",
                 str(painting), "--set", "loss.temporal_drift_cells=[]"]) == 2  # fmt: skip


def test_non_finite_loss_restores_and_backs_off(tiny_data, tmp_path, monkeypatch):
    content, painting = tiny_data
    calls = {"n": 0}
    real_tv = losses.tv_loss

    def flaky_tv(images):
        calls["n"] += 1
        value = real_tv(images)
        return value * float("nan") if calls["n"] == 4 else value

    monkeypatch.setattr(losses, "tv_loss", flaky_tv)
    run = tmp_path / "run"
    assert train(content, painting, run, "--steps", "6", "--checkpoint-every", "2") == 0
    ckpt = load(run)
    assert ckpt["step"] == 6 and ckpt["recoveries"] == 1
    assert ckpt["lr_controller"]["backoff"] == 0.5
    lr_g = [float(r["lr_g"]) for r in read_metrics(run / "metrics.csv")]
    assert len(lr_g) == 6 and lr_g[-1] < lr_g[0]  # restored to step 2, then slower rates


@pytest.mark.parametrize("policy", ["damped", "fixed"])
def test_a_generator_gradient_spike_is_clipped_under_damped_only(
    tiny_data, tmp_path, monkeypatch, policy
):
    content, painting = tiny_data
    calls = {"n": 0}
    real_tv = losses.tv_loss

    def spiky_tv(images):
        calls["n"] += 1
        return real_tv(images) * (1e6 if calls["n"] == 8 else 1.0)

    monkeypatch.setattr(losses, "tv_loss", spiky_tv)
    run = tmp_path / "run"
    assert train(content, painting, run, "--steps", "12", "--lr-policy", policy) == 0
    rows = [r for r in read_metrics(run / "metrics.csv") if r["loss_d"]]  # adversarial steps
    norm = [float(r["grad_norm_g"]) for r in rows]
    limit = [float(r["grad_limit_g"]) for r in rows]
    damping = [float(r["damping"]) for r in rows]
    assert len(rows) == 10 and limit[0] == float("inf") and norm[7] > 50 * norm[6]
    if policy == "fixed":
        assert all(x == float("inf") for x in limit)
    else:
        assert all(x < float("inf") for x in limit[1:])
        spikes = [i for i in range(10) if norm[i] > limit[i]]
        assert spikes == [7] and damping[7] < damping[6]  # clipped, and counted as a burst


@pytest.mark.slow
def test_torchrun_two_process_gloo(tiny_data, tmp_path):
    content, painting = tiny_data
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    args = ["--content", str(content), "--style", str(painting), "--out", str(tmp_path / "run")]
    cmd = [*torchrun, "--nproc-per-node", "2", "-m", "training", *args, *TINY, "--steps", "3"]
    env = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 process(es)" in result.stderr
    assert load(tmp_path / "run")["step"] == 3


def test_milestones_are_kept_and_exportable(tiny_data, tmp_path):
    content, painting = tiny_data
    run = tmp_path / "run"
    assert train(content, painting, run, "--steps", "4", "--keep-every", "2",
                 "--checkpoint-every", "3") == 0  # fmt: skip
    kept = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert kept == ["step_000002.pt", "step_000004.pt"]
    early = torch.load(run / "checkpoints" / "step_000002.pt", weights_only=True)
    assert early["step"] == 2 and load(run)["step"] == 4
    assert not torch.equal(early["generator"]["head.weight"], load(run)["generator"]["head.weight"])
    assert main(["--out", str(run), "--resume", "--steps", "6"]) == 0
    assert (run / "checkpoints" / "step_000006.pt").is_file()
    assert (run / "checkpoints" / "step_000002.pt").is_file()  # resume keeps earlier milestones


def test_vgg_features_give_perceptual_content_and_are_recorded(tiny_data, tmp_path, capsys):
    content, painting = tiny_data
    state = VGGFeatures(VGG_BLOCKS[13]).state_dict()  # random weights, torchvision keys
    state |= {f"features.{i}.weight": torch.randn(512, 512, 3, 3) for i in (24, 26, 28)}
    torch.save(state, tmp_path / "vgg16.pth")
    run = tmp_path / "run"
    assert train(content, painting, run, "--steps", "4", "--feature-weights",
                 str(tmp_path / "vgg16.pth")) == 0  # fmt: skip
    assert "provenance not recorded" in capsys.readouterr().err
    ckpt = load(run)
    assert ckpt["config"]["loss"]["feature_weights"] == str(tmp_path / "vgg16.pth")
    rows = read_metrics(run / "metrics.csv")
    # Perceptual content compares VGG features of output and photo: > 0 once G has changed.
    assert float(rows[-1]["content"]) > 0

    # Without prepared weights, "auto" falls back to random features and says how to get VGG.
    assert train(content, painting, tmp_path / "auto", "--steps", "1") == 0
    assert "training.weights vgg16" in capsys.readouterr().err
    assert load(tmp_path / "auto")["config"]["loss"]["feature_weights"] == "random"


def test_transformernet_anchor_trains_and_exports_to_the_runtime_contract(tiny_data, tmp_path):
    import onnxruntime as ort

    from benchmarks.models import TorchEngine
    from export.fusion import fold_normalization
    from export.onnx_export import export_fp32
    from export.wrapper import FramesWrapper
    from training.checkpoint import build_generator as rebuild
    from training.checkpoint import load_generator_checkpoint
    from training.networks import count_macs
    from training.transformer_net import TransformerNet

    content, painting = tiny_data
    run = tmp_path / "run"
    arch = ["--set", "generator.arch=transformernet"]
    assert train(content, painting, run, "--steps", "3", *arch) == 0
    g = rebuild(load_generator_checkpoint(run / "checkpoint.pt"))
    assert isinstance(g, TransformerNet)
    assert 1.6e6 < sum(p.numel() for p in g.parameters()) < 1.8e6  # Johnson et al.'s ~1.7 M
    # ~35 GMAC per 640x360 frame: four times a 320x180 quarter (convolution work grows with the
    # pixels, exactly so at sizes on the stride), which costs a quarter of the forward pass.
    assert 30 < 4 * count_macs(g, 180, 320) / 1e9 < 40
    frames = torch.randint(0, 256, (1, 18, 21, 3), dtype=torch.uint8)  # not a stride multiple
    with torch.no_grad():
        expected = FramesWrapper(g)(frames).numpy()
    # The benchmarks' torch stand-in for a model file runs the same contract.
    assert (TorchEngine(run / "checkpoint.pt").run(frames.numpy()) == expected).all()
    path = tmp_path / "tn.onnx"
    path.write_bytes(export_fp32(fold_normalization(g)).SerializeToString())
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: frames.numpy()})[0]
    assert got.shape == expected.shape == (1, 18, 21, 3)
    assert abs(got.astype(int) - expected.astype(int)).max() <= 1


@pytest.mark.parametrize("arch", ["astgan", "transformernet"])
@pytest.mark.parametrize(("native", "amp"), [(True, True), (False, True), (True, False)])
def test_generator_bf16_runs_g_in_bf16_only_where_the_cpu_has_it_and_amp_is_on(
    tiny_data, tmp_path, monkeypatch, capsys, native, amp, arch
):
    from training import trainer

    monkeypatch.setattr(trainer, "cpu_bf16_native", lambda: native)
    seen: dict[str, list[torch.dtype]] = {"_generate": [], "_encode": []}

    def spy(name):  # the dtype G's first convolution computes in; what comes back is fp32
        original = getattr(trainer.Trainer, name)

        def wrapped(self, x):
            first = next(m for m in self.g.modules() if isinstance(m, torch.nn.Conv2d))
            handle = first.register_forward_hook(lambda m, i, o: seen[name].append(o.dtype))
            try:
                result = original(self, x)
            finally:
                handle.remove()
            returned = result[0] + [result[1]] if name == "_generate" else result
            assert all(t.dtype == torch.float32 for t in returned)
            return result

        return wrapped

    for name in seen:
        monkeypatch.setattr(trainer.Trainer, name, spy(name))
    content, painting = tiny_data
    run = tmp_path / "run"
    flags = ["--set", "generator_bf16=true", "--set", f"generator.arch={arch}"]
    assert train(content, painting, run, "--steps", "4", *flags, "--set", f"amp={amp}") == 0
    bf16 = native and amp
    expected = torch.bfloat16 if bf16 else torch.float32
    assert len(seen["_generate"]) == 4  # 2 warm-start and 2 adversarial steps
    # the encoder-space content loss (random features here) encodes the output in G's precision
    assert len(seen["_encode"]) == 2
    assert set(seen["_generate"] + seen["_encode"]) == {expected}
    said = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    assert ("bf16 autocast (generator_bf16)" in said) == bf16
    assert ("generator: fp32 (generator_bf16 needs" in said) != bf16
    rows = read_metrics(run / "metrics.csv")
    assert all(torch.isfinite(torch.tensor(float(r["loss_g"]))) for r in rows)
    weights = load(run)["generator"]
    assert all(t.dtype == torch.float32 for t in weights.values())
