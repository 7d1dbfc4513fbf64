"""Sample grids: rows of (photo | stylized) saved as PNG, to see what the generator does."""

from __future__ import annotations

from pathlib import Path

import cv2
import torch


def save_grid(path: Path, photos: torch.Tensor, stylized: torch.Tensor) -> None:
    """One row per photo: the photo on the left, its stylization on the right."""
    rows = torch.cat([photos, stylized], dim=3)  # [N, 3, H, 2W]
    grid = torch.cat(list(rows), dim=1)  # [3, N*H, 2W]
    rgb = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode the sample grid {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(png.tobytes())
    tmp.replace(path)
