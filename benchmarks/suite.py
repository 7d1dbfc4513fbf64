"""The benchmark suite: every script, the fast settings that let all of them rerun on a 2-core
CPU in under 15 minutes, and the report that gathers their markdown tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Benchmark:
    """One script of the suite, run as `python -m benchmarks.NAME ARGS`."""

    name: str
    title: str
    args: tuple[str, ...]
    budget_s: int  # what the fast settings should take on a quiet 2-core CPU
    in_default_run: bool = True

    def command(self) -> str:
        return " ".join(["python -m benchmarks." + self.name, *self.args])


SUITE = (
    Benchmark(
        "pipeline_overhead", "Pipeline against a naive loop", ("--frames", "150", "--repeats", "2"),
        60,
    ),
    Benchmark("resolution_batch", "fps against resolution and batch", ("--seconds", "1.5"), 150),
    Benchmark("ort_vs_torch", "ONNX Runtime against torch eager", ("--rounds", "10"), 40),
    Benchmark("precision", "Precision: fp32, int8, fp16, TensorRT", ("--rounds", "10"), 40),
    Benchmark(
        "tidy_speed", "Export's graph tidy: speed with and without", ("--rounds", "10"), 40,
        in_default_run=False,
    ),
    Benchmark(
        "generator_speed", "Generator candidates: model-only speed", ("--repeats", "10"), 60,
        in_default_run=False,
    ),
    Benchmark(
        "generator_sweep", "Generator variants: speed against style",
        ("--steps", "100", "--init-steps", "20", "--repeats", "10"), 300,
    ),
    Benchmark("temporal", "Temporal stability (warping error), all of box.mp4", (), 100),
    Benchmark(
        "shift", "Flicker sources: moves, per-pixel and block noise, flat areas of box.mp4", (),
        240,
        in_default_run=False,
    ),
    Benchmark("contact_sheet", "Contact sheet and video strip", (), 30),
    Benchmark("soak", "Long-run memory", ("--frames", "2000"), 120),
    Benchmark(
        "live_switch", "Frame gaps around a live style switch",
        ("--seconds", "8", "--visits", "9"), 30,
    ),
    Benchmark(
        "blend_cost", "Strength and colour preservation: cost and where",
        ("--rounds", "5", "--repeats", "1", "--frames", "150"), 30,
    ),
    Benchmark(
        "quality", "Quality: distance to the painting, with the Gatys anchor", (), 900,
        in_default_run=False,
    ),
    Benchmark(
        "style_target", "Quality: the Gram ratio of each recipe's own style target", (), 900,
        in_default_run=False,
    ),
    Benchmark(
        "gram_layers", "Quality: where the distance to the painting sits, by layer", (), 120,
        in_default_run=False,
    ),
    Benchmark(
        "stride_grid", "Quality: the stride grid each model prints on flat areas", (), 15,
        in_default_run=False,
    ),
    Benchmark(
        "adaptive_lr_ablation", "Learning-rate policies: ablation over seeds (--harsh: 10x rates)",
        ("--steps", "400"), 3600, in_default_run=False,
    ),
    Benchmark(
        "recipe_ab", "Recipe A/B: one change at a time, on held-out photos", ("--steps", "300"),
        7200, in_default_run=False,
    ),
    Benchmark(
        "batch", "Batches: files per minute against a shell loop", (), 600, in_default_run=False,
    ),
    Benchmark(
        "damaged_files", "Damaged files: 300 seeded damaged copies of the shared videos",
        ("--count", "300"), 900, in_default_run=False,
    ),
)  # fmt: skip
BY_NAME = {b.name: b for b in SUITE}


def select(only: str) -> list[Benchmark]:
    """The benchmarks `--only a,b` names (in suite order), or the default run; KeyError names
    the first unknown one."""
    if not only:
        return [b for b in SUITE if b.in_default_run]
    names = [n.strip() for n in only.split(",") if n.strip()]
    for name in names:
        if name not in BY_NAME:
            raise KeyError(name)
    return [b for b in SUITE if b.name in names]


def parent(stem: str) -> Benchmark | None:
    """The suite script that wrote results/STEM.md: NAME itself, or NAME_TAG for a tagged run."""
    return BY_NAME.get(stem) or next((b for b in SUITE if stem.startswith(b.name + "_")), None)


def report(results: Path, rerun: set[str]) -> str:
    """REPORT.md: every results/*.md in suite order (a tagged run right after its script's own
    table, tables no script of the suite wrote last), each under a heading with the command that
    reruns it at the suite's settings and whether this run measured it."""
    found = sorted(p.stem for p in results.glob("*.md") if p.stem != "REPORT")
    rank = {b.name: i for i, b in enumerate(SUITE)}

    def key(stem: str) -> tuple[int, str]:
        bench = parent(stem)
        return (rank[bench.name] if bench else len(SUITE), stem)

    lines = [
        "# Benchmark report",
        "",
        "Gathered by `python -m benchmarks` from the tables in this folder. Each table says "
        "when, on which machine and with which versions it was measured.",
    ]
    for stem in sorted(found, key=key):
        bench = parent(stem)
        if bench is None:
            title, how = stem.replace("_", " "), "no script of the suite"
        else:
            tag = stem[len(bench.name) + 1 :]
            title = f"{bench.title} ({tag})" if tag else bench.title
            how = f"`{bench.command()}`"
        state = "measured by this run" if stem in rerun else "from an earlier run"
        lines += ["", f"## {title}", "", f"Suite command: {how}. This table: {state}.", ""]
        lines.append((results / f"{stem}.md").read_text().strip())
    return "\n".join(lines) + "\n"
