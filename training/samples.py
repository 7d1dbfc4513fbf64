"""Sample grids: rows of (photo | stylized) saved as PNG, to see what the generator does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image


def save_grid(path: Path, photos: torch.Tensor, stylized: torch.Tensor) -> None:
    """One row per photo: the photo on the left, its stylization on the right."""
    rows = torch.cat([photos, stylized], dim=3)  # [N, 3, H, 2W]
    grid = torch.cat(list(rows), dim=1)  # [3, N*H, 2W]
    pixels = (grid.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(np.ascontiguousarray(pixels)).save(tmp, format="PNG")
    tmp.replace(path)
