"""Every test sees an empty user cache, so what a developer has prepared on this machine (the
pretrained VGG16, TensorRT engines) never changes what the suite trains or measures."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _empty_user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "user-cache"))
