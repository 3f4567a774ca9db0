"""Frozen samples of an undertrained model: a real failure, held out of every learned metric.

The golden models this project first committed (``golden_quick`` at 16x16, ``golden_full`` at
32x32) sample washed-out colour fields with smeared blobs and fragments of texture, no crisp
sprite (notebook 01, section 8). Before they were caught, the judge called those samples
world-like (P(world) 0.995, inside the golden interval) and precision put them on the golden
manifold. A snapshot of such samples is kept here, so that the sanity table keeps them as an
input ("undertrained samples", family "mud") after the models improve: the metrics are tested on
the failure they must catch, and no learned metric ever trains on it (the judge and tracker
train on synthetic :func:`~tqd_lite.world.failures.muddy_fields` instead).

Stored as ``data/failures/undertrained_{size}.safetensors``: the clips as uint8 and the
provenance (model, sampler, seed, commit) in the file's metadata. Remake with::

    python -m tqd_lite freeze-samples data/models/golden_quick

(the committed files were made at 78f701f, when this module ran as ``python -m
tqd_lite.quality.undertrained``; sampling moved to the command line because quality/ imports
nothing from diffusion/).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from tqd_lite.files import load_safetensors
from tqd_lite.paths import data_dir

UNDERTRAINED_CLIPS = 128  # as many as every other input of the table
SAMPLER_STEPS = 25
SAMPLE_SEED = 1  # the table's "generated" rows use seed 0: these are other samples


def undertrained_path(size: int) -> Path:
    return data_dir() / "failures" / f"undertrained_{size}.safetensors"


def save_undertrained_samples(samples: torch.Tensor, provenance_block: dict) -> Path:
    """Store samples ``(B, 3, F, H, W)`` in [0, 1] of an undertrained model as this frame size's snapshot."""
    path = undertrained_path(samples.shape[-1])
    path.parent.mkdir(parents=True, exist_ok=True)
    as_bytes = (samples * 255).round().to(torch.uint8).contiguous()
    save_file({"clips": as_bytes}, path, metadata={"provenance": json.dumps(provenance_block)})
    return path


def load_undertrained_samples(size: int) -> torch.Tensor | None:
    """The frozen samples ``(B, 3, F, H, W)`` in [0, 1] at this frame size, or ``None`` if there are none."""
    path = undertrained_path(size)
    if not path.is_file():
        return None
    return load_safetensors(path, "frozen-samples file")[0]["clips"].float() / 255


def undertrained_provenance(size: int) -> dict:
    return json.loads(load_safetensors(undertrained_path(size), "frozen-samples file")[1]["provenance"])
