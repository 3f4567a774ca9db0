"""A sprite tracker trained on the renderer's ground truth, and the motion measures it gives.

The renderer knows where every sprite is in every frame (:class:`~tqd_lite.world.render.SceneTruth`).
A small fully convolutional network learns, frame by frame, a heatmap with a peak at each sprite's
centre (CenterNet's keypoint heatmap, Zhou et al., 2019, without its size and offset heads).
Peaks are the detections; linking them from frame to frame (Hungarian matching within a
maximum jump) gives tracks. From the tracks:

* **sprite count**: mean detections per frame (0 for the background alone, noise or colour fields);
* **tracked speed**: mean displacement of linked sprites, in frame widths per frame. A still
  scene reads 0 however its brightness flickers, since flicker moves no sprite;
* **smoothness**: the length-weighted mean cosine between consecutive steps of a track,
  ``sum v(t) . v(t+1) / sum |v(t)| |v(t+1)|`` clipped to [0, 1]: 1 for steady motion, about 0
  for frames in random order or cut together (steps of random points anti-correlate), and for
  stutter (a held frame has no step to agree with);
* **coherent speed** = tracked speed x smoothness; a clip is *dynamic* when it exceeds
  ``DYNAMIC_THRESHOLD`` frame widths per frame, the share of dynamic clips is the
  **coherent-motion dynamic degree** (in the spirit of VBench's dynamic degree, Huang et al.
  2024, which counts a video as dynamic when enough frame pairs move by more than 6 px at a
  256-px side, measured with RAFT flow; we use the same threshold per frame width);
* **flicker index**: mean frame-to-frame change of the mean brightness of the pixels away from
  every detected sprite, regions that should not change (in the spirit of VBench's temporal
  flickering).

One tracker per frame size, a ``save_pretrained`` folder ``data/metrics/tracker_{size}/``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from scipy.optimize import linear_sum_assignment
from tqdm.auto import tqdm

from tqd_lite.quality.fitting import fit
from tqd_lite.world import failures
from tqd_lite.world.clips import all_frames, check_clip, luminance
from tqd_lite.world.render import random_spec, render_clip_with_truth

HEATMAP_SIGMA = 1.0 / 16  # Gaussian width of a target peak, in frame widths (1 px at 16x16)
DETECTION_THRESHOLD = 0.35  # heatmap peak height that counts as a sprite
MIN_VISIBLE = 0.3  # a sprite counts in a frame when this share of its area is visible
MAX_JUMP = 0.35  # frame widths: farther apart, two detections are not the same sprite
# frame widths per frame of coherent speed: VBench's 6 px at a 256-px side (docs/papers.md, section 4)
DYNAMIC_THRESHOLD = 6.0 / 256
SPRITE_CLEARANCE = 0.3  # frame widths around a detection left out of the flicker index


class SpriteTracker(ModelMixin, ConfigMixin):
    """Dilated 3x3 convolutions on one frame -> a sprite-centre heatmap (logits) of the same size.

    The dilations (1, 2, 4, 8, 1) give a 33-pixel receptive field, wider than the largest
    sprite at 32x32, so every pixel sees whether it is a sprite's centre.
    """

    @register_to_config
    def __init__(self, width: int = 32, dilations: tuple[int, ...] = (1, 2, 4, 8, 1)):
        super().__init__()
        layers, c_in = [], 3
        for d in dilations:
            layers += [nn.Conv2d(c_in, width, 3, padding=d, dilation=d), nn.GroupNorm(8, width), nn.SiLU()]
            c_in = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Conv2d(width, 1, 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` frames in [0, 1] -> ``(N, H, W)`` heatmap logits."""
        return self.head(self.body(frames * 2 - 1)).squeeze(1)


def centre_heatmaps(truth_centres: torch.Tensor, visible: torch.Tensor, size: int) -> torch.Tensor:
    """Target heatmaps ``(F, H, W)``: the max over visible sprites of a Gaussian at each centre.

    ``truth_centres``: ``(S, F, 2)`` in pixels; ``visible``: ``(S, F)`` booleans.
    """
    coords = torch.arange(size, dtype=torch.float32) + 0.5  # pixel centres
    sigma = HEATMAP_SIGMA * size
    frames = truth_centres.shape[1]
    heat = torch.zeros(frames, size, size)
    for centres, seen in zip(truth_centres, visible, strict=True):
        # exp(-|p - c|^2 / (2 sigma^2)) over the pixel grid, per frame
        gx = torch.exp(-((coords.view(1, -1) - centres[:, :1]) ** 2) / (2 * sigma**2))  # (F, W)
        gy = torch.exp(-((coords.view(1, -1) - centres[:, 1:]) ** 2) / (2 * sigma**2))  # (F, H)
        peak = gy.unsqueeze(2) * gx.unsqueeze(1) * seen.float().view(-1, 1, 1)  # (F, H, W)
        heat = torch.maximum(heat, peak)
    return heat


def _tracker_example(
    rng: np.random.Generator, size: int, num_frames: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """One training clip ``(3, F, H, W)`` and its target heatmaps ``(F, H, W)``.

    Half are world clips at any visual quality and motion (some with colour changes, noise or turned
    into muddy fields, whose smeared sprites still count and whose scrambled texture must not), the
    rest have no sprite to find: the background alone (possibly muddy), noise, speckled colour
    fields, flat grey.
    The tracker sees single frames, so it never trains on flicker, shuffled frames or cuts.
    """
    generator = torch.Generator().manual_seed(int(rng.integers(2**31 - 1)))
    shape = (1, 3, num_frames, size, size)
    kind = rng.choice(["world", "world", "world", "world", "background", "noise", "fields", "grey"])
    if kind in ("noise", "fields", "grey"):
        make = {
            "noise": failures.uniform_noise,
            "fields": failures.speckled_fields,
            "grey": failures.flat_grey,
        }
        return make[kind](shape, generator)[0], torch.zeros(num_frames, size, size)
    spec = random_spec(rng, size=size, num_frames=num_frames)
    clip, truth = render_clip_with_truth(spec, sprites=kind == "world")
    if rng.random() < 0.3:  # colour changes move no sprite
        clip = failures.hue_shift(
            failures.contrast(clip[None], float(rng.uniform(0.6, 1.6))), float(rng.uniform(-90, 90))
        )[0]
    if rng.random() < 0.3:
        clip = failures.gaussian_noise(clip[None], float(rng.uniform(0, 0.1)), generator)[0]
    if rng.random() < 0.2:  # muddy fields: sprites smeared but where they were, texture scrambled
        clip = failures.random_muddy_fields(clip[None], rng, generator)[0]
    area = truth.masks.sum(dim=(2, 3))  # (S, F)
    visible = area >= MIN_VISIBLE * math.pi * truth.radii.view(-1, 1) ** 2
    return clip, centre_heatmaps(truth.centres, visible, size)


@dataclass
class TrackerTrainingConfig:
    size: int = 16
    num_frames: int = 8
    train_clips: int = 3000
    steps: int = 1500
    batch_frames: int = 128
    learning_rate: float = 3e-3
    seed: int = 0


def train_tracker(config: TrackerTrainingConfig, device: torch.device | str = "cpu", progress: bool = True):
    """Train a tracker on freshly rendered frames. Returns ``(model, {"losses", "train_seconds"})``."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    pairs = [
        _tracker_example(rng, config.size, config.num_frames)
        for _ in tqdm(range(config.train_clips), desc="rendering tracker data", disable=not progress)
    ]
    frames = all_frames(torch.stack([c for c, _ in pairs]))  # (N F, 3, H, W)
    targets = torch.cat([h for _, h in pairs])  # (N F, H, W)
    model = SpriteTracker().to(device)

    def loss_of(batch: torch.Tensor) -> torch.Tensor:
        logits, target = model(frames[batch].to(device)), targets[batch].to(device)
        # per-pixel cross-entropy on soft targets, centres weighted up (they are ~2% of the pixels)
        weight = 1 + 20 * target
        return (F.binary_cross_entropy_with_logits(logits, target, reduction="none") * weight).mean()

    info = fit(
        model,
        loss_of,
        len(frames),
        steps=config.steps,
        batch_size=config.batch_frames,
        learning_rate=config.learning_rate,
        seed=config.seed,
        desc="training tracker",
        progress=progress,
    )
    return model, info


# ----------------------------------------------------------------------------- detections
@torch.no_grad()
def detect_sprites(
    clips: torch.Tensor, tracker: SpriteTracker, batch_frames: int = 1024
) -> list[list[np.ndarray]]:
    """Sprite centres per clip and frame: ``out[b][f]`` is a ``(K, 2)`` array of ``(x, y)`` in pixels."""
    check_clip(clips, batched=True, name="clips")
    b, _, f, h, w = clips.shape
    frames = all_frames(clips)  # (B F, 3, H, W)
    heat = torch.cat([torch.sigmoid(tracker(chunk)) for chunk in frames.split(batch_frames)])  # (B F, H, W)
    window = 3 if h <= 16 else 5
    peaks = (heat == F.max_pool2d(heat[:, None], window, 1, window // 2)[:, 0]) & (heat > DETECTION_THRESHOLD)
    out: list[list[np.ndarray]] = [[None] * f for _ in range(b)]
    padded = F.pad(heat, (1, 1, 1, 1))
    offsets = torch.tensor([-1.0, 0.0, 1.0])
    for n in range(b * f):
        ys, xs = torch.nonzero(peaks[n], as_tuple=True)
        centres = []
        for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
            # sub-pixel centre: the heat-weighted mean of the 3 x 3 neighbourhood of the peak
            patch = padded[n, y : y + 3, x : x + 3]
            total = patch.sum()
            centres.append(
                [
                    x + 0.5 + (patch.sum(0) * offsets).sum() / total,
                    y + 0.5 + (patch.sum(1) * offsets).sum() / total,
                ]
            )
        out[n // f][n % f] = np.array(centres, dtype=np.float64).reshape(-1, 2)
    return out


def link(previous: np.ndarray, current: np.ndarray, max_jump: float) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` matching detections of two frames: Hungarian on distance, within ``max_jump``."""
    if len(previous) == 0 or len(current) == 0:
        return []
    distance = np.linalg.norm(previous[:, None] - current[None], axis=-1)
    rows, cols = linear_sum_assignment(distance)
    return [(i, j) for i, j in zip(rows, cols, strict=True) if distance[i, j] <= max_jump]


def track_statistics(detections: list[np.ndarray], size: int) -> dict[str, float]:
    """Count, tracked speed, smoothness and coherent speed of one clip's per-frame detections."""
    links = [link(a, b, MAX_JUMP * size) for a, b in zip(detections[:-1], detections[1:], strict=True)]
    steps, agreement, lengths = [], [], []
    for t, pairs in enumerate(links):
        for i, j in pairs:
            velocity = detections[t + 1][j] - detections[t][i]
            steps.append(np.linalg.norm(velocity))
            after = dict(links[t + 1]).get(j) if t + 1 < len(links) else None
            if after is not None:
                following = detections[t + 2][after] - detections[t + 1][j]
                # v(t) . v(t+1) and |v(t)| |v(t+1)|: do consecutive steps of a track agree?
                agreement.append(float(velocity @ following))
                lengths.append(float(np.linalg.norm(velocity) * np.linalg.norm(following)))
    speed = float(np.mean(steps)) / size if steps else 0.0
    # length-weighted mean cosine of consecutive steps: 1 for steady motion, < 0 for random jumps
    smoothness = float(np.clip(sum(agreement) / sum(lengths), 0, 1)) if sum(lengths) > 0 else 0.0
    return {
        "sprite_count": float(np.mean([len(d) for d in detections])),
        "tracked_speed": speed,
        "smoothness": smoothness,
        "coherent_speed": speed * smoothness,
    }


def flicker_index(clips: torch.Tensor, detections: list[list[np.ndarray]]) -> np.ndarray:
    """Per clip: mean |change of mean luma| between consecutive frames, away from every detected sprite."""
    b, _, f, h, w = clips.shape
    luma = luminance(clips)  # (B, F, H, W)
    yy, xx = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    values = np.zeros(b)
    for n in range(b):
        keep = torch.ones(f, h, w, dtype=torch.bool)  # pixels far from this frame's sprites
        for t, centres in enumerate(detections[n]):
            for x, y in centres:
                keep[t] &= (xx - x) ** 2 + (yy - y) ** 2 > (SPRITE_CLEARANCE * w) ** 2
        changes = []
        for t in range(f - 1):
            region = keep[t] & keep[t + 1]
            if region.sum() >= 0.1 * h * w:
                changes.append((luma[n, t + 1][region].mean() - luma[n, t][region].mean()).abs().item())
        values[n] = np.mean(changes) if changes else 0.0
    return values


def tracker_measures(clips: torch.Tensor, tracker: SpriteTracker) -> dict[str, np.ndarray]:
    """Per-clip arrays: sprite_count, tracked_speed, smoothness, coherent_speed, dynamic, flicker."""
    size = clips.shape[-1]
    detections = detect_sprites(clips, tracker)
    rows = [track_statistics(d, size) for d in detections]
    out = {key: np.array([r[key] for r in rows]) for key in rows[0]}
    out["dynamic"] = (out["coherent_speed"] > DYNAMIC_THRESHOLD).astype(np.float64)
    out["flicker"] = flicker_index(clips, detections)
    return out
