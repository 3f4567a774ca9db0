"""A small video encoder, trained on the toy world, whose features the Fréchet distance uses.

FVD uses an I3D network pretrained on Kinetics; nothing can be downloaded here, so tqd-lite
trains its own feature network on rendered clips [our choice]. Like Inception for FID, it is
a classifier/regressor whose penultimate layer becomes the feature space. Its tasks make the
features see exactly what the papers care about:

* the visual degradation (none / blur / downsample / quantise) and its strength,
* how much the clip moves (its measured motion score, so every motion artefact lowers it as
  a still scene would) and the motion artefact (none / freeze / stutter / slow-down) with its
  strength; any clip that does not move is labelled "still", whether the scene is static or a
  full-strength artefact stopped it, since the two look the same,
* additive noise level (generated samples are often noisy),
* a 2 x 4 x 4 thumbnail of the clip (layout and colour, so content matters too).

One encoder per frame size, saved as the folder ``data/encoder/encoder_{size}/`` (diffusers'
``save_pretrained``) with a ``provenance.json`` naming the command, seed and device that trained it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from tqdm.auto import tqdm

from tqd_lite.paths import data_dir
from tqd_lite.quality.scores import motion_score
from tqd_lite.world.degrade import MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.render import MAX_SPRITE_SPEED, ClipSpec, render_clip

VISUAL_CLASSES = ("none", *sorted(VISUAL_DEGRADATIONS))
MOTION_CLASSES = ("none", *sorted(MOTION_DEGRADATIONS), "still")
STILL_BELOW = 0.02  # measured motion (in MAX_SPRITE_SPEED units) under which a clip is "still"
THUMBNAIL = (2, 4, 4)  # (F, H, W) of the reconstruction target
MAX_NOISE = 0.15
FEATURE_DIM = 64


class VideoEncoder(ModelMixin, ConfigMixin):
    """Four strided 3-D conv blocks, global pooling, and a ``FEATURE_DIM`` feature layer.

    A diffusers ``ModelMixin``, so a trained encoder is a folder (config + safetensors) that
    ``VideoEncoder.from_pretrained`` loads.
    """

    @register_to_config
    def __init__(self, width: int = 24, feature_dim: int = FEATURE_DIM):
        super().__init__()

        def block(c_in: int, c_out: int, stride: tuple[int, int, int]) -> nn.Sequential:
            return nn.Sequential(nn.Conv3d(c_in, c_out, 3, stride, 1), nn.GroupNorm(8, c_out), nn.SiLU())

        w = width
        self.body = nn.Sequential(
            block(3, w, (1, 1, 1)),  # (B, w, F, H, W)
            block(w, 2 * w, (1, 2, 2)),  # (B, 2w, F, H/2, W/2)
            block(2 * w, 2 * w, (2, 2, 2)),  # (B, 2w, F/2, H/4, W/4)
            block(2 * w, 2 * w, (2, 1, 1)),  # (B, 2w, F/4, H/4, W/4)
        )
        self.feature = nn.Linear(4 * w, feature_dim)  # mean and std pooling -> features
        n_thumb = 3 * int(np.prod(THUMBNAIL))
        # heads: visual class, motion class, then regressions: visual strength, motion, motion strength, noise
        self.heads = nn.Linear(feature_dim, len(VISUAL_CLASSES) + len(MOTION_CLASSES) + 4 + n_thumb)

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` in [0, 1] -> ``(B, FEATURE_DIM)``."""
        h = self.body(clips * 2 - 1).flatten(2)  # (B, 2w, F'H'W')
        pooled = torch.cat([h.mean(-1), h.std(-1)], dim=1)
        return self.feature(pooled)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.heads(F.silu(self.features(clips)))


@dataclass
class EncoderTrainingConfig:
    size: int = 16
    num_frames: int = 8
    train_clips: int = 3072
    steps: int = 600
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0

    def __post_init__(self):
        for name in ("train_clips", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"EncoderTrainingConfig.{name} must be >= 1, got {getattr(self, name)}")


def _random_training_clip(
    rng: np.random.Generator, size: int, num_frames: int
) -> tuple[torch.Tensor, np.ndarray]:
    """One rendered clip with random degradations, and its targets."""
    visual = int(rng.integers(len(VISUAL_CLASSES)))
    motion = int(rng.integers(len(MOTION_CLASSES) - 1))  # an artefact, or none; "still" is measured
    v_strength = float(rng.uniform(0.1, 1.0)) if visual else 0.0
    m_strength = float(rng.uniform(0.2, 1.0)) if motion else 0.0
    intensity = float(rng.uniform(0, 1))
    noise = float(rng.uniform(0, MAX_NOISE)) if rng.random() < 0.3 else 0.0
    spec = ClipSpec(
        int(rng.integers(2**31 - 1)),
        1.0 - v_strength,
        intensity,
        VISUAL_CLASSES[visual] if visual else "blur",
        num_frames,
        size,
    )
    clip = render_clip(spec)
    if motion:
        clip = MOTION_DEGRADATIONS[MOTION_CLASSES[motion]](clip, m_strength)
    moving = motion_score(clip).item() / (MAX_SPRITE_SPEED * size)  # about 1 at full speed
    if moving < STILL_BELOW:
        motion = MOTION_CLASSES.index("still")
    if noise:
        generator = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
        clip = (clip + noise * torch.randn(clip.shape, generator=generator)).clamp(0, 1)
    return clip, np.array(
        [visual, motion, v_strength, moving, m_strength, noise / MAX_NOISE], dtype=np.float32
    )


def encoder_loss(model: VideoEncoder, clips: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for the two classes, MSE for the four knobs and the thumbnail."""
    out = model(clips)
    nv, nm = len(VISUAL_CLASSES), len(MOTION_CLASSES)
    thumbnail = F.adaptive_avg_pool3d(clips, THUMBNAIL).flatten(1)
    return (
        F.cross_entropy(out[:, :nv], targets[:, 0].long())
        + F.cross_entropy(out[:, nv : nv + nm], targets[:, 1].long())
        + 4 * F.mse_loss(out[:, nv + nm : nv + nm + 4], targets[:, 2:6])
        + 12 * F.mse_loss(out[:, nv + nm + 1], targets[:, 3])  # extra weight: how much it moves
        + 4 * F.mse_loss(out[:, nv + nm + 4 :], thumbnail)
    )


def train_encoder(config: EncoderTrainingConfig, device: torch.device | str = "cpu", progress: bool = True):
    """Train an encoder on freshly rendered clips. Returns ``(model, {"losses": [...], ...})``."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    pairs = [
        _random_training_clip(rng, config.size, config.num_frames)
        for _ in tqdm(range(config.train_clips), desc="rendering encoder data", disable=not progress)
    ]
    clips = torch.stack([c for c, _ in pairs])
    targets = torch.from_numpy(np.stack([t for _, t in pairs]))
    model = VideoEncoder().to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.learning_rate, total_steps=config.steps)
    losses, start = [], time.perf_counter()
    generator = torch.Generator().manual_seed(config.seed)
    for _ in tqdm(range(config.steps), desc="training encoder", disable=not progress):
        batch = torch.randint(len(clips), (config.batch_size,), generator=generator)
        loss = encoder_loss(model, clips[batch].to(device), targets[batch].to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    return model.eval(), {"losses": losses, "train_seconds": time.perf_counter() - start}


def encoder_path(size: int) -> Path:
    """The committed encoder for ``size`` x ``size`` clips: a folder with ``config.json``,
    ``diffusion_pytorch_model.safetensors`` and ``provenance.json``."""
    return data_dir() / "encoder" / f"encoder_{size}"


def save_encoder(model: VideoEncoder, config: EncoderTrainingConfig, provenance_block: dict) -> Path:
    path = encoder_path(config.size)
    model.save_pretrained(path)  # fp32: the Fréchet distance reads its features
    (path / "provenance.json").write_text(
        json.dumps({"provenance": provenance_block, "config": asdict(config)}, indent=2) + "\n"
    )
    return path


_loaded: dict[int, VideoEncoder] = {}


def load_encoder(size: int) -> VideoEncoder:
    """The committed encoder for ``size`` x ``size`` clips (cached after the first load)."""
    if size not in _loaded:
        path = encoder_path(size)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"no feature encoder for {size}x{size} clips at {path}; train one with "
                f"`python -m tqd_lite train-encoder --size {size}`"
            )
        _loaded[size] = VideoEncoder.from_pretrained(path).eval()
    return _loaded[size]
