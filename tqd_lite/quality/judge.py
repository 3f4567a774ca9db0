"""A learned quality judge: the toy world's stand-in for the TQD paper's video reward model.

TQD scores clips with a video reward model that rates visual quality and motion quality
(docs/papers.md, section 1). The toy world knows both knobs of every clip it renders, so a
small 3-D conv net can learn to predict them, and a third output: does this look like the
world at all? It trains on rendered clips with their true knobs, and on the failure modes of
:mod:`tqd_lite.world.failures` labelled as poor:

================================  =====================  ==================  =====
input                             visual target          motion target       world
================================  =====================  ==================  =====
rendered clip, knobs (q, m)       q                      m                   1
  ... with a motion artefact s    q                      m (1 - s)           1
  ... plus Gaussian noise sigma   q max(0, 1 - sigma/s0) as above            1
background alone (no sprite)      q                      m                   0
still scene with flicker          q                      0                   0
hard cuts                         mean q                 0                   0
noise, speckled fields, grey      0                      0                   0
muddy fields                      0                      0                   0
photo, panned at speed v, s       1 - s                  v / MAX_PAN_SPEED   0
================================  =====================  ==================  =====

``s0 = NOISE_VISUAL_SCALE``; ``s`` the strength of a visual degradation of a photograph (two of
matplotlib's three sample photos, :mod:`tqd_lite.world.footage`: rendered textures alone did not
teach it that a blurred photograph is less sharp). **Shuffled frames are held out** of training:
the sanity table shows whether the judge still ranks them below golden clips. Nor does it see any
model's samples: muddy fields imitate them, and the table's "undertrained samples" and "generated"
rows show whether that carries over. The judge's penultimate features (mean and std pooled, like
the FVD encoder's) are the feature space of the distribution distances
(:mod:`tqd_lite.quality.distances`); an auxiliary thumbnail head keeps layout and colour in them.

One judge per frame size, a ``save_pretrained`` folder ``data/metrics/judge_{size}/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from tqdm.auto import tqdm

from tqd_lite.quality.fitting import fit
from tqd_lite.world import failures
from tqd_lite.world.clips import check_clip
from tqd_lite.world.degrade import MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.footage import MAX_PAN_SPEED, TRAINING_PHOTOS, random_pan, sample_photo
from tqd_lite.world.render import random_spec, render_clip, render_clip_with_truth

THUMBNAIL = (2, 4, 4)  # (F, H, W) of the auxiliary reconstruction target
NOISE_VISUAL_SCALE = 0.1  # Gaussian noise of this sigma leaves no visual quality [our choice]
# share of world clips given a motion artefact: at 0.2 the first simple-world judge at 16 px read
# slow_down 0.5 as less sharp (0.50 against golden's 0.60-0.67); more examples teach it that a
# motion artefact leaves the visual knob alone [our choice]
MOTION_ARTEFACT_SHARE = 0.4
MAX_NOISE = 0.15
HELD_OUT_FAMILY = "shuffled frames"
NEGATIVES = (
    "background", "flicker", "cuts", "uniform_noise", "saturated_noise", "speckled_fields", "grey", "mud",
)  # fmt: skip


class QualityJudge(ModelMixin, ConfigMixin):
    """Four strided 3-D conv blocks, mean+std pooling, a feature layer, and three judgements.

    ``input_stride``: the first block's spatial stride, ``size / 16``, so that larger frames cost
    about what 16x16 ones do; a strided 3x3 convolution still sees single-pixel detail.
    """

    @register_to_config
    def __init__(self, width: int = 32, feature_dim: int = 64, input_stride: int = 1):
        super().__init__()

        def block(c_in: int, c_out: int, stride: tuple[int, int, int]) -> nn.Sequential:
            return nn.Sequential(nn.Conv3d(c_in, c_out, 3, stride, 1), nn.GroupNorm(8, c_out), nn.SiLU())

        w = width
        self.body = nn.Sequential(
            block(3, w, (1, input_stride, input_stride)),  # (B, w, F, H/s, W/s): s = size / 16
            block(w, 2 * w, (1, 2, 2)),  # (B, 2w, F, H/2, W/2)
            block(2 * w, 2 * w, (2, 2, 2)),  # (B, 2w, F/2, H/4, W/4)
            block(2 * w, 2 * w, (2, 1, 1)),  # (B, 2w, F/4, H/4, W/4)
        )
        self.feature = nn.Linear(4 * w, feature_dim)
        self.judgements = nn.Linear(feature_dim, 3)  # visual, motion, world (logits)
        self.thumbnail = nn.Linear(feature_dim, 3 * int(np.prod(THUMBNAIL)))

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` in [0, 1] -> ``(B, feature_dim)``."""
        h = self.body(clips * 2 - 1).flatten(2)  # (B, 2w, F'H'W')
        return self.feature(torch.cat([h.mean(-1), h.std(-1)], dim=1))

    def forward(self, clips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Judgement logits ``(B, 3)`` and thumbnail ``(B, 3 * prod(THUMBNAIL))``."""
        h = F.silu(self.features(clips))
        return self.judgements(h), self.thumbnail(h)


@torch.no_grad()
def judge_outputs(
    clips: torch.Tensor, judge: QualityJudge, batch_size: int = 256
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One pass of the judge: its features ``(B, feature_dim)`` (the space of FD, KID and
    precision/recall) and per-clip ``visual``, ``motion`` (predicted knobs in [0, 1]) and ``world``
    (a probability)."""
    check_clip(clips, batched=True, name="clips")
    features = torch.cat([judge.features(chunk) for chunk in clips.split(batch_size)])  # (B, D)
    probabilities = judge.judgements(F.silu(features)).sigmoid().double().numpy()  # (B, 3)
    judged = {"visual": probabilities[:, 0], "motion": probabilities[:, 1], "world": probabilities[:, 2]}
    return features.double().numpy(), judged


def judge_clips(clips: torch.Tensor, judge: QualityJudge, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Per-clip ``visual``, ``motion`` and ``world`` (see :func:`judge_outputs`)."""
    return judge_outputs(clips, judge, batch_size)[1]


def judge_features(clips: torch.Tensor, judge: QualityJudge, batch_size: int = 256) -> np.ndarray:
    """The judge's features ``(B, feature_dim)`` (see :func:`judge_outputs`)."""
    return judge_outputs(clips, judge, batch_size)[0]


# ----------------------------------------------------------------------------- training data
def _world_example(rng: np.random.Generator, generator: torch.Generator, size: int, num_frames: int):
    spec = random_spec(rng, size=size, num_frames=num_frames)
    clip, visual, motion = render_clip(spec)[None], spec.visual_quality, spec.motion_intensity
    if rng.random() < MOTION_ARTEFACT_SHARE:
        artefact, strength = str(rng.choice(sorted(MOTION_DEGRADATIONS))), float(rng.uniform(0.2, 1))
        clip, motion = MOTION_DEGRADATIONS[artefact](clip, strength), motion * (1 - strength)
    if rng.random() < 0.25:
        sigma = float(rng.uniform(0, MAX_NOISE))
        clip, visual = (
            failures.gaussian_noise(clip, sigma, generator),
            visual * max(0.0, 1 - sigma / NOISE_VISUAL_SCALE),
        )
    return clip[0], (visual, motion, 1.0)


def _negative_example(rng: np.random.Generator, generator: torch.Generator, size: int, num_frames: int):
    kind = str(rng.choice(NEGATIVES))
    shape = (1, 3, num_frames, size, size)
    if kind == "background":
        spec = random_spec(rng, size=size, num_frames=num_frames)
        clip, _ = render_clip_with_truth(spec, sprites=False)
        return clip, (spec.visual_quality, spec.motion_intensity, 0.0)
    if kind == "flicker":
        spec = random_spec(rng, size=size, num_frames=num_frames, motion=0.0)
        return failures.brightness_flicker(render_clip(spec)[None], generator)[0], (
            spec.visual_quality,
            0.0,
            0.0,
        )
    if kind == "cuts":
        specs = [random_spec(rng, size=size, num_frames=num_frames) for _ in range(num_frames)]
        clips = torch.stack([render_clip(s) for s in specs])
        return failures.hard_cuts(clips)[0], (float(np.mean([s.visual_quality for s in specs])), 0.0, 0.0)
    if kind == "mud":
        clip = render_clip(random_spec(rng, size=size, num_frames=num_frames))[None]
        return failures.random_muddy_fields(clip, rng, generator)[0], (0.0, 0.0, 0.0)
    make = {
        "uniform_noise": failures.uniform_noise,
        "saturated_noise": failures.saturated_noise,
        "speckled_fields": failures.speckled_fields,
        "grey": failures.flat_grey,
    }[kind]
    return make(shape, generator)[0], (0.0, 0.0, 0.0)


def _photo_example(rng: np.random.Generator, generator: torch.Generator, size: int, num_frames: int):
    """A photograph panned into a clip (two of the three sample photos; the third is held out), with
    one visual degradation at strength ``s``: visual ``1 - s``, motion the pan speed, not the world."""
    photo = sample_photo(TRAINING_PHOTOS[int(rng.integers(len(TRAINING_PHOTOS)))])
    motion = float(rng.uniform(0, 1)) if rng.random() < 0.8 else 0.0
    window = float(rng.uniform(0.2, 0.6))
    clip = random_pan(
        rng, photo, size=size, num_frames=num_frames, speed=motion * MAX_PAN_SPEED, window=window
    )
    kind, strength = str(rng.choice(sorted(VISUAL_DEGRADATIONS))), float(rng.uniform(0, 1))
    return VISUAL_DEGRADATIONS[kind](clip, strength), (1 - strength, motion, 0.0)


def judge_example(rng: np.random.Generator, size: int, num_frames: int) -> tuple[torch.Tensor, np.ndarray]:
    """One training clip ``(3, F, H, W)`` and its targets ``(visual, motion, world)``: 50% world clips,
    30% negatives, 20% photographs."""
    generator = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
    draw = rng.random()
    make = _world_example if draw < 0.5 else _negative_example if draw < 0.8 else _photo_example
    clip, targets = make(rng, generator, size, num_frames)
    return clip, np.array(targets, dtype=np.float32)


@dataclass
class JudgeTrainingConfig:
    size: int = 16
    num_frames: int = 8
    train_clips: int = 6000
    steps: int = 2000
    batch_size: int = 64
    learning_rate: float = 2e-3
    seed: int = 0


def judge_loss(model: QualityJudge, clips: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Squared error of the two predicted knobs, cross-entropy of "world", squared error of the thumbnail.

    The knobs' error is weighted 8x: a cross-entropy on soft targets near 0.5 gave them too little
    gradient to learn within minutes (Spearman rho < 0.1 after 400 steps).
    """
    logits, thumbnail = model(clips)
    target_thumbnail = F.adaptive_avg_pool3d(clips, THUMBNAIL).flatten(1)
    knobs = 8 * F.mse_loss(logits[:, :2].sigmoid(), targets[:, :2])
    world = F.binary_cross_entropy_with_logits(logits[:, 2], targets[:, 2])
    return knobs + world + 4 * F.mse_loss(thumbnail, target_thumbnail)


def train_judge(config: JudgeTrainingConfig, device: torch.device | str = "cpu", progress: bool = True):
    """Train a judge on freshly rendered clips. Returns ``(model, {"losses", "train_seconds"})``."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    pairs = [
        judge_example(rng, config.size, config.num_frames)
        for _ in tqdm(range(config.train_clips), desc="rendering judge data", disable=not progress)
    ]
    clips = torch.stack([c for c, _ in pairs])
    targets = torch.from_numpy(np.stack([t for _, t in pairs]))
    model = QualityJudge(input_stride=max(1, config.size // 16)).to(device)
    info = fit(
        model,
        lambda batch: judge_loss(model, clips[batch].to(device), targets[batch].to(device)),
        len(clips),
        steps=config.steps,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        seed=config.seed,
        desc="training judge",
        progress=progress,
    )
    return model, info
