"""Shared fixtures: small rendered clips and a folder of real video files, made once per session."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tqd_lite.world.render import ClipSpec, render_clip, render_clips
from tqd_lite.world.video_io import write_video


def _golden_batch(n: int, seed: int, size: int = 16) -> torch.Tensor:
    """Sharp, fast-moving clips (what the pool calls golden), from independent scenes."""
    rng = np.random.default_rng(seed)
    specs = [
        ClipSpec(
            int(rng.integers(2**31 - 1)), float(rng.uniform(0.9, 1)), float(rng.uniform(0.6, 1)), size=size
        )
        for _ in range(n)
    ]
    return render_clips(specs)


@pytest.fixture(scope="session")
def sharp_moving_clip() -> torch.Tensor:
    return render_clip(ClipSpec(seed=3, visual_quality=1.0, motion_intensity=1.0))


@pytest.fixture(scope="session")
def video_folder(tmp_path_factory) -> tuple:
    """Six 16x16 clips of one scene on disk (motion 0.2 i, visual quality 1 - 0.15 i), and the clips."""
    folder = tmp_path_factory.mktemp("videos")
    clips = [
        render_clip(ClipSpec(seed=4, motion_intensity=0.2 * s, visual_quality=1 - 0.15 * s)) for s in range(6)
    ]
    for i, clip in enumerate(clips):
        write_video(folder / f"clip_{i}.mp4", clip)
    return folder, clips


@pytest.fixture(scope="session")
def golden_and_heldout() -> tuple[torch.Tensor, torch.Tensor]:
    """Two independent sets of 96 golden-like 16x16 clips."""
    return _golden_batch(96, seed=1), _golden_batch(96, seed=2)
