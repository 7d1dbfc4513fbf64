"""The training loop: one code path for CPU, one GPU (with AMP) and torchrun data parallelism.

After a short warm start in which G only learns to reproduce photos, each step: the generator
stylizes a batch of content crops together with their synthetically
moved copies; the discriminator takes one step on painting patches vs the stylized crops; the
generator takes one step on the weighted loss terms; the controller turns the two adversarial
losses into the next step's learning-rate scales. Data parallelism averages gradients with one
all-reduce per optimizer step (gloo on CPU, NCCL on GPU) instead of wrapping the models in
DistributedDataParallel: the generator runs several forward passes per step (photo, moved photo,
encoder on its own output) and the discriminator is used frozen in the generator step, which
DDP's once-per-backward bookkeeping handles badly. Losses are averaged over processes before the
controller reads them, so every process applies the same rates.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch import nn

from stream_astgan.stop_request import stop_on_signal
from training import losses
from training.adaptive_lr import AdaptiveLRController
from training.checkpoint import (
    CHECKPOINT_NAME,
    FORMAT,
    keep_milestone,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from training.config import (
    TrainConfig,
    config_hash,
    config_to_dict,
    phase_text,
    settings_at,
    upgrade_config,
)
from training.data import (
    ContentSampler,
    StyleSampler,
    load_content,
    load_paintings,
    step_generator,
)
from training.errors import TrainingError, TrainingStopped
from training.features import (
    VGGFeatures,
    build_feature_net,
    cpu_bf16_native,
    resolve_feature_weights,
)
from training.metrics import MetricsLog
from training.networks import build_discriminator, build_generator, count_macs
from training.parallel import Parallel, pick_device
from training.samples import save_grid
from training.temporal import (
    flow_error,
    move,
    moved_mask,
    random_moves,
    random_smooth_grid,
    smooth_noise,
    valid_mask,
    warp,
)

LOSS_TERMS = (
    "style", "disc_style", "content", "pooled", "structure", "colour", "tv", "temporal", "move",
)  # fmt: skip
COLUMNS = [
    "reconstruction", "loss_d", "loss_g_adv", *LOSS_TERMS, "loss_g",
    "lr_g", "lr_d", "scale_g", "scale_d", "advantage", "integral", "control", "damping",
    "at_bound", "grad_norm_g", "grad_limit_g", "seconds_per_step",
]  # fmt: skip
MAX_RECOVERIES = 5
STYLE_TARGET_PATCHES = 64
PREVIEW_SEED_STEP = 2**40  # a "step" no run reaches: the preview crops never match a batch


@contextlib.contextmanager
def frozen_bn_stats(module: nn.Module) -> Iterator[None]:
    """Run batch norms on batch statistics without folding this batch into running stats
    (the encoder sees stylized images for the content loss, but must keep photo statistics)."""
    norms = [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, momentum in zip(norms, saved, strict=True):
            m.momentum = momentum


class Trainer:
    """Owns the models, optimizers, controller and logs of one run directory."""

    def __init__(
        self,
        cfg: TrainConfig,
        run_dir: Path,
        resume: bool,
        console: Console,
        parallel: Parallel,
        branch_from: Path | None = None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.console = console
        self.device = pick_device(cfg.device)
        self.parallel = parallel
        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        self.amp = cfg.amp and self.device.type == "cuda"
        # The frozen VGG dominates a CPU step: bf16 where the CPU has it natively; statistics
        # and losses stay in fp32.
        self.features_bf16 = cfg.amp and self.device.type == "cpu" and cpu_bf16_native()
        # A large generator (the TransformerNet anchor) outweighs the VGG: opt-in, as it changes
        # the numbers the bundled recipes were trained with.
        self.generator_bf16 = cfg.generator_bf16 and self.features_bf16
        torch.manual_seed(cfg.seed)

        content = load_content(cfg.content, cfg.data.content_short_side, cfg.data.frames_per_video)
        painting_paths, paintings = load_paintings(cfg.style.paths)
        cfg.style.paths = [str(p) for p in painting_paths]
        cfg.loss.feature_weights, cfg.loss.feature_origin = resolve_feature_weights(
            cfg.loss.feature_weights
        )
        self.config_dict = config_to_dict(cfg)
        self.base_loss, self.base_data = cfg.loss, cfg.data
        self.content = ContentSampler(content, cfg.data.crop, cfg.data.scale_jitter)
        self.style = StyleSampler(
            paintings, cfg.data.crop, cfg.data.style_short_side, cfg.data.style_scales
        )
        # Previews at twice the crop size show most of a photo, not just a training-size detail.
        self.preview = ContentSampler(content, 2 * cfg.data.crop, 0.0).batch(
            4, step_generator(cfg.seed, 0, PREVIEW_SEED_STEP)
        )

        self.g = build_generator(cfg.generator).to(self.device)
        self.d = build_discriminator(cfg.discriminator).to(self.device)
        self.g_ema = copy.deepcopy(self.g).eval().requires_grad_(False) if cfg.optim.ema else None
        betas = tuple(cfg.optim.betas)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=cfg.optim.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=cfg.optim.lr_d, betas=betas)
        self.scaler_g = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.scaler_d = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.controller = AdaptiveLRController(
            cfg.loss.gan_mode, cfg.optim.lr_policy, cfg.optim.adaptive
        )
        w = cfg.loss
        self.feature_net = build_feature_net(
            w.feature_seed, w.feature_weights, w.feature_width, tuple(w.feature_kernels)
        )
        self.feature_net.to(self.device)
        self.perceptual = isinstance(self.feature_net, VGGFeatures)
        self.style_targets, self.painting_colour = self._painting_statistics()
        self.step = 0
        self.recoveries = 0
        if resume:
            if not (run_dir / CHECKPOINT_NAME).is_file():
                raise TrainingError(
                    f"no checkpoint at {run_dir / CHECKPOINT_NAME}; start without --resume"
                )
            self._load(load_checkpoint(run_dir / CHECKPOINT_NAME))
        elif branch_from is not None:
            self._load(load_checkpoint(branch_from))
        self.restore_point_needed = not resume  # the run dir holds no checkpoint yet
        self.metrics = MetricsLog(run_dir, COLUMNS, self.step) if self.parallel.main else None

    def _painting_statistics(self) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Feature statistics and palette of the painting(s), from a fixed set of patches."""
        gen = step_generator(self.cfg.seed, 0, PREVIEW_SEED_STEP + 1)
        patches = self.style.batch(STYLE_TARGET_PATCHES, gen).to(self.device)
        kind = self.cfg.loss.style_stat
        with torch.no_grad(), self._features_autocast():
            chunks = [
                losses.feature_stats(self.feature_net(chunk), kind) for chunk in patches.split(16)
            ]
        targets = [torch.cat(layer).mean(0) for layer in zip(*chunks, strict=True)]
        return targets, losses.colour_stats(patches)

    def describe(self) -> str:
        """One line for the start of a run: model sizes and the speed-relevant cost."""
        params = sum(p.numel() for p in self.g.parameters())
        gmac = count_macs(self.g, 360, 640) / 1e9
        d_params = sum(p.numel() for p in self.d.parameters())
        return (
            f"generator: {params / 1e3:.1f} k params, {gmac:.3f} GMAC per 640x360 frame, "
            f"stride {self.g.stride}; discriminator: {d_params / 1e3:.1f} k params; "
            f"device {self.device}, {self.parallel.world} process(es), lr policy "
            f"{self.cfg.optim.lr_policy}\nfeatures: {self.cfg.loss.feature_origin}"
            + self._generator_precision()
        ) + "".join(f"\nphase {i}, {phase_text(p)}" for i, p in enumerate(self.cfg.phases, 1))

    def _generator_precision(self) -> str:
        if self.generator_bf16:
            return "\ngenerator: forward under bf16 autocast (generator_bf16)"
        if not self.cfg.generator_bf16:
            return ""
        if self.device.type == "cuda":
            return "\ngenerator: generator_bf16 is for CPUs; on CUDA, amp runs G in fp16"
        return "\ngenerator: fp32 (generator_bf16 needs amp and a CPU with native bf16)"

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoint(self) -> dict[str, Any]:
        """The contract dict (see training/checkpoint.py)."""
        export_g = self.g_ema if self.g_ema is not None else self.g
        return {
            "format": FORMAT,
            "step": self.step,
            "config": self.config_dict,
            "config_hash": config_hash(self.config_dict),
            "generator": export_g.state_dict(),
            "generator_train": self.g.state_dict(),
            "discriminator": self.d.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "lr_controller": self.controller.state_dict(),
            "rng": rng_state(),
            "recoveries": self.recoveries,
        }

    def save(self) -> None:
        if self.parallel.main:
            save_checkpoint(self.run_dir / CHECKPOINT_NAME, self.checkpoint())

    def _load(self, ckpt: dict[str, Any]) -> None:
        if upgrade_config(ckpt["config"])["generator"] != self.config_dict["generator"]:
            raise TrainingError("the checkpoint's generator config differs from this run's")
        self.g.load_state_dict(ckpt["generator_train"])
        if self.g_ema is not None:
            self.g_ema.load_state_dict(ckpt["generator"])
        self.d.load_state_dict(ckpt["discriminator"])
        self.opt_g.load_state_dict(ckpt["opt_g"])
        self.opt_d.load_state_dict(ckpt["opt_d"])
        self.scaler_g.load_state_dict(ckpt["scaler_g"])
        self.scaler_d.load_state_dict(ckpt["scaler_d"])
        self.controller.load_state_dict(ckpt["lr_controller"])
        set_rng_state(ckpt["rng"])
        self.step = ckpt["step"]
        self.recoveries = ckpt["recoveries"]

    def _recover(self, what: str) -> None:
        """A non-finite loss: reload the last checkpoint, lower both rates, note it."""
        self.recoveries += 1
        if self.recoveries > MAX_RECOVERIES:
            raise TrainingError(
                f"{what} was not finite {self.recoveries} times; lower optim.lr_g/optim.lr_d "
                "or the loss weights"
            )
        bad_step = self.step + 1
        self.parallel.barrier()
        recoveries = self.recoveries
        self._load(load_checkpoint(self.run_dir / CHECKPOINT_NAME))
        self.recoveries = recoveries
        self.controller.back_off(self.cfg.optim.nan_backoff)
        message = (
            f"{what} was not finite at step {bad_step}: restored step {self.step}, "
            f"rates x{self.controller.state.backoff:g} from now on"
        )
        if self.parallel.main:
            self.console.print(f"[yellow]warning:[/] {message}")
            self.metrics.rewind(self.step)
            self.metrics.text("recovery", message, bad_step)
        self.save()

    # -- one step ----------------------------------------------------------------------------

    def _autocast(self) -> contextlib.AbstractContextManager:
        return torch.autocast("cuda", dtype=torch.float16, enabled=self.amp)

    def _features_autocast(self) -> contextlib.AbstractContextManager:
        if self.features_bf16:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return self._autocast()

    def _generator_autocast(self) -> contextlib.AbstractContextManager:
        if self.generator_bf16:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """G's encoder features in fp32, computed in the generator's precision (so the
        encoder-space content loss compares like with like)."""
        with self._generator_autocast():
            feats = self.g.encode(x)
        return [f.float() for f in feats]

    def _generate(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """G's features and output; under `generator_bf16` the output comes back in fp32, so
        the losses and statistics stay fp32 as they do with bf16 features."""
        with self._generator_autocast():
            feats = self.g.encode(x)
            out = self.g.decode(feats, x)
        return [f.float() for f in feats], out.float()

    def _optimize(
        self,
        loss: torch.Tensor,
        opt: torch.optim.Optimizer,
        scaler: torch.amp.GradScaler,
        model: nn.Module,
        max_norm: float | None = None,
    ) -> float:
        """One optimizer step; given `max_norm` (inf: measure only), the gradient is clipped to
        it and its norm before clipping returned (nan otherwise: no extra pass or sync)."""
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        self.parallel.mean_grads(model.parameters())
        norm = math.nan
        if max_norm is not None:
            scaler.unscale_(opt)
            norm = float(nn.utils.clip_grad_norm_(model.parameters(), max_norm))
        scaler.step(opt)
        scaler.update()
        return norm

    def _set_rates(self) -> tuple[float, float]:
        scales = self.controller.scales()
        lr_g, lr_d = self.cfg.optim.lr_g * scales.g, self.cfg.optim.lr_d * scales.d
        for group in self.opt_g.param_groups:
            group["lr"] = lr_g
        for group in self.opt_d.param_groups:
            group["lr"] = lr_d
        return lr_g, lr_d

    def _enter_phase(self) -> None:
        """The loss weights and content crops of the coming step; says so when a phase begins.

        A phase's new photo size reloads the content folders at that step (each rank its own
        copy, as at the start); a resume past it loads them once more, at the run's first size,
        before this reloads them: seconds, against hours of steps."""
        phases = self.cfg.phases
        for i, phase in enumerate(phases, 1):
            if phase.after == self.step and self.parallel.main:
                self.console.print(f"phase {i} of {len(phases)} begins, {phase_text(phase)}")
        self.cfg.loss = settings_at(self.base_loss, phases, self.step, "loss")
        data = settings_at(self.base_data, phases, self.step, "data")
        if data != self.cfg.data:  # also on a resume past a data phase
            images = self.content.images
            if data.content_short_side != self.cfg.data.content_short_side:
                images = load_content(
                    self.cfg.content, data.content_short_side, data.frames_per_video
                )
            self.content = ContentSampler(images, data.crop, data.scale_jitter)
            self.cfg.data = data

    def train_step(self) -> dict[str, float] | None:
        """One training step; returns the logged scalars, or None after a recovery."""
        self._enter_phase()
        lr_g, lr_d = self._set_rates()
        gen = step_generator(self.cfg.seed, self.parallel.rank, self.step)
        x = self.content.batch(self.cfg.data.batch_size, gen).to(self.device)
        if self.step < self.cfg.optim.init_steps:
            return self._reconstruction_step(x, lr_g)
        return self._adversarial_step(x, gen, lr_g, lr_d)

    def _reconstruction_step(self, x: torch.Tensor, lr_g: float) -> dict[str, float] | None:
        """Warm start: G learns to reproduce the photo, so adversarial training starts from a
        generator that keeps content (as CartoonGAN's initialization phase)."""
        self.g.train()
        with self._autocast():
            loss = (self._generate(x)[1] - x).abs().mean()
        if not self._finite(loss):
            self._recover("the reconstruction loss")
            return None
        self._optimize(loss, self.opt_g, self.scaler_g, self.g)
        self._update_ema()
        self.step += 1
        value = self.parallel.mean(loss.detach().float().reshape(1)).item()
        return {"reconstruction": value, "loss_g": value, "lr_g": lr_g, "lr_d": 0.0}

    def _adversarial_step(
        self, x: torch.Tensor, gen: torch.Generator, lr_g: float, lr_d: float
    ) -> dict[str, float] | None:
        """One D and one G update on the full loss; the controller reads the two GAN losses."""
        w, n = self.cfg.loss, x.shape[0]
        real = self.style.batch(n, gen).to(self.device)
        inputs = x
        if w.temporal:
            h, wd = x.shape[2], x.shape[3]
            grid = random_smooth_grid(n, h, wd, w.warp_strength, gen)
            true_grid = grid + flow_error(n, h, wd, w.flow_error, gen)
            noise = torch.randn(x.shape, generator=gen) * w.temporal_noise
            if w.temporal_drift:
                noise += smooth_noise(x.shape, w.temporal_drift, w.temporal_drift_cells, gen)
            grid, true_grid, noise = (t.to(self.device) for t in (grid, true_grid, noise))
            inputs = torch.cat([x, (warp(x, true_grid) + noise).clamp(0, 1)])
        moves = random_moves(n, self.g.stride, gen) if w.move else []
        if moves:
            inputs = torch.cat([inputs, move(x, moves)])

        self.g.train()
        with self._autocast():
            feats, out = self._generate(inputs)
            y = out[:n]
            self.d.requires_grad_(True)
            logits, d_feats = self.d(torch.cat([real, y.detach()]))
            loss_d = losses.discriminator_loss(
                [t[:n] for t in logits], [t[n:] for t in logits], w.gan_mode
            )
        if not self._finite(loss_d):
            self._recover("the discriminator loss")
            return None
        self._optimize(loss_d, self.opt_d, self.scaler_d, self.d)

        self.d.requires_grad_(False)
        with self._autocast():
            fake_logits, fake_feats = self.d(y)
            adv = losses.generator_adv_loss(fake_logits, w.gan_mode)
            motion = (grid, inputs[n : 2 * n]) if w.temporal else None
            terms = self._generator_terms(x, y, out, feats, d_feats, fake_feats, motion, moves)
            loss_g = w.adversarial * adv + sum(getattr(w, k) * v for k, v in terms.items())
        if not self._finite(loss_g):
            self._recover("the generator loss")
            return None
        limit = self.controller.gradient_limit()
        norm = self._optimize(loss_g, self.opt_g, self.scaler_g, self.g, limit)
        self._update_ema()

        names = ["loss_d", "loss_g_adv", *terms, "loss_g"]
        values = torch.stack([loss_d, adv, *terms.values(), loss_g]).detach().float()
        values = self.parallel.mean(values).tolist()
        logged = dict(zip(names, values, strict=True))
        scales = self.controller.update(logged["loss_d"], logged["loss_g_adv"], norm)
        self.step += 1
        state = self.controller.state
        return logged | {
            "lr_g": lr_g, "lr_d": lr_d, "scale_g": scales.g, "scale_d": scales.d,
            "advantage": state.advantage, "integral": state.integral, "control": state.control,
            "damping": state.damping, "at_bound": float(self.controller.at_bound()),
            "grad_norm_g": norm, "grad_limit_g": limit,
        }  # fmt: skip

    def _finite(self, loss: torch.Tensor) -> bool:
        flag = torch.isfinite(loss.detach()).float().reshape(1)
        return bool(self.parallel.mean(flag).item() == 1.0)

    def _generator_terms(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        out: torch.Tensor,
        feats: list[torch.Tensor],
        d_feats: list[torch.Tensor],
        fake_feats: list[torch.Tensor],
        motion: tuple[torch.Tensor, torch.Tensor] | None,
        moves: list[tuple[int, int]],
    ) -> dict[str, torch.Tensor]:
        """The weighted non-adversarial terms; a term whose weight is 0 is not computed."""
        w, n, kind = self.cfg.loss, x.shape[0], self.cfg.loss.style_stat
        terms: dict[str, torch.Tensor] = {}
        perceptual_content = w.content and self.perceptual
        with self._features_autocast():
            y_feats = self.feature_net(y) if w.style or perceptual_content else []
        if w.style:
            terms["style"] = losses.style_loss(y_feats, self.style_targets, kind, w.style_means)
        if w.disc_style:
            targets = losses.style_targets([f[:n] for f in d_feats], kind)
            terms["disc_style"] = losses.style_loss(fake_feats, targets, kind, w.style_means)
        if perceptual_content:
            layer = w.content_layer
            with torch.no_grad(), self._features_autocast():
                photo_feats = self.feature_net(x, depth=layer + 1)
            terms["content"] = losses.content_loss(photo_feats[layer], y_feats[layer])
        elif w.content:
            with frozen_bn_stats(self.g):
                out_feats = self._encode(y)
            terms["content"] = losses.content_loss(feats[-1][:n], out_feats[-1])
        if w.pooled:
            terms["pooled"] = losses.pooled_loss(y, x, w.pooled_factor)
        if w.structure:
            terms["structure"] = losses.structure_loss(y, x)
        if w.colour:
            terms["colour"] = losses.colour_loss(y, self.painting_colour)
        if w.tv:
            terms["tv"] = losses.tv_loss(y)
        if motion is not None:
            grid, x_next = motion
            mask = valid_mask(grid)
            ratio = losses.flicker_ratio(out[n : 2 * n], warp(y, grid), x_next, warp(x, grid), mask)
            terms["temporal"] = losses.temporal_loss(ratio, w.temporal_target)
        if moves:  # G of the rolled crops is the last n outputs
            mask = moved_mask(n, *y.shape[2:], moves, w.move_margin).to(y.device)
            terms["move"] = losses.move_loss(out[-n:], move(y, moves), mask)
        return terms

    def _update_ema(self) -> None:
        if self.g_ema is None:
            return
        decay = min(self.cfg.optim.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for p_ema, p in zip(self.g_ema.parameters(), self.g.parameters(), strict=True):
                p_ema.lerp_(p, 1 - decay)
            for b_ema, b in zip(self.g_ema.buffers(), self.g.buffers(), strict=True):
                b_ema.copy_(b)

    # -- the loop ----------------------------------------------------------------------------

    def write_samples(self) -> Path:
        """Grid of the fixed preview photos through the exported generator (eval mode)."""
        net = self.g_ema if self.g_ema is not None else self.g
        was_training = net.training
        net.eval()
        with torch.no_grad():
            stylized = net(self.preview.to(self.device)).float().cpu()
        net.train(was_training)
        path = self.run_dir / "samples" / f"step_{self.step:06d}.png"
        save_grid(path, self.preview, stylized)
        return path

    def run(self) -> None:
        """Train up to cfg.steps, logging, sampling and checkpointing on the way."""
        cfg, main = self.cfg, self.parallel.main
        if self.restore_point_needed:
            self.save()  # a restore point for a NaN at the very first steps
        progress = Progress(
            TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[speed]}"), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"), console=self.console, disable=not main,
        )  # fmt: skip
        with progress, stop_on_signal() as stop:
            task = progress.add_task("", total=cfg.steps, completed=self.step, speed="", info="")
            tic = time.perf_counter()
            while self.step < cfg.steps and not self._stop_agreed(stop.requested):
                logged = self.train_step()
                if logged is None:
                    progress.update(task, completed=self.step)
                    continue
                toc = time.perf_counter()
                logged["seconds_per_step"], tic = toc - tic, toc
                if main:
                    self._report(progress, task, logged)
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    self.save()
                if main and cfg.keep_every and self.step % cfg.keep_every == 0:
                    if self.step % cfg.checkpoint_every:
                        self.save()
                    keep_milestone(self.run_dir / CHECKPOINT_NAME, self.step)
                if main and (self.step % cfg.sample_every == 0 or self.step == cfg.steps):
                    self.write_samples()
        if self.metrics is not None:
            self.metrics.close()
        self.parallel.barrier()
        if self.step < cfg.steps:
            self.save()
            raise TrainingStopped(self.step)

    def _stop_agreed(self, requested: bool) -> bool:
        """Whether any process was asked to stop: all of them stop after the same step. The
        flag lives on the training device, as NCCL reduces only GPU tensors."""
        if self.parallel.world == 1:
            return requested
        flag = torch.tensor([float(requested)], device=self.device)
        return self.parallel.mean(flag).item() > 0

    def _report(self, progress: Progress, task: Any, logged: dict[str, float]) -> None:
        self.metrics.write(self.step, logged)
        if "reconstruction" in logged:
            info = f"warm start: reconstruction {logged['reconstruction']:.4f}"
        else:
            info = (
                f"D {logged['loss_d']:.3f}  G {logged['loss_g_adv']:.3f}  "
                f"style {logged.get('style', math.nan):.3f}  "
                f"lr x{logged['scale_g']:.2f}/x{logged['scale_d']:.2f}"
            )
        speed = f"{1 / max(logged['seconds_per_step'], 1e-9):.2f} it/s"
        progress.update(task, completed=self.step, speed=speed, info=info)
