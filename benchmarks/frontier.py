"""The speed/quality frontier of generator variants: which ones no other variant beats on both
speed and style loss, and the plot that shows it."""

from __future__ import annotations

from pathlib import Path


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names of the (loss, fps) points no other point beats on both (lower loss, higher fps),
    sorted by loss."""
    front = [
        name
        for name, (loss, speed) in points.items()
        if not any(
            (o_loss <= loss and o_speed >= speed) and (o_loss, o_speed) != (loss, speed)
            for o_loss, o_speed in points.values()
        )
    ]
    return sorted(front, key=lambda name: points[name])


def plot_frontier(points: dict[str, tuple[float, float]], title: str, path: Path) -> None:
    """fps against style loss, every variant labelled, the frontier joined by a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 5))
    for name, (loss, speed) in points.items():
        ax.scatter(loss, speed, color="tab:blue", zorder=3)
        ax.annotate(name, (loss, speed), textcoords="offset points", xytext=(4, 4), fontsize=8)
    front = pareto_front(points)
    ax.plot(*zip(*(points[n] for n in front), strict=True), color="tab:orange", label="frontier")
    ax.axhline(30, color="grey", lw=0.8, ls="--", label="30 fps")
    ax.set_xlabel("style loss after the short training (lower is closer to the painting)")
    ax.set_ylabel("ONNX Runtime fps, 640x360, batch 1")
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
