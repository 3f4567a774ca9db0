"""Evaluation metrics for generated clips, shared by the TQD and MCM experiments.

* **dynamic degree** (in the spirit of VBench): the share of clips whose motion score
  exceeds a threshold; VBench thresholds RAFT optical flow, we threshold our normal-flow
  motion score at ``DYNAMIC_THRESHOLD`` frame widths per frame [our choice].
* **mean motion score** and **per-frame visual score** (:mod:`tqd_lite.quality.scores`), raw or placed
  on a training corpus's [0, 1] scale with a :class:`~tqd_lite.quality.scores.PercentileNormaliser`.
* **Fréchet distance** between two sets of clips on the features of the project's own video
  encoder (:mod:`tqd_lite.quality.encoder`), as FVD does with I3D features. Every degradation moves clips
  far from golden; the distance grows with strength over most of the range, but it saturates
  (and can dip) for the strongest freezes and stutters, so read differences among strong
  degradations as ties. The encoder was trained to recognise these very degradations: the sweep
  shows the design works, it is not an independent validation of the metric.
"""

from __future__ import annotations

import numpy as np
import torch

from tqd_lite.quality.encoder import VideoEncoder, load_encoder
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world.clips import check_clip

DYNAMIC_THRESHOLD = 0.03  # frame widths per frame: "it visibly moves" [our choice]


@torch.no_grad()
def clip_features(
    clips: torch.Tensor, encoder: VideoEncoder | None = None, batch_size: int = 256
) -> np.ndarray:
    """Encoder features ``(B, FEATURE_DIM)`` of a batch of clips ``(B, 3, F, H, W)``."""
    check_clip(clips, batched=True, name="clips")
    encoder = encoder if encoder is not None else load_encoder(clips.shape[-1])
    device = next(encoder.parameters()).device
    parts = [encoder.features(chunk.to(device)).cpu() for chunk in clips.split(batch_size)]
    return torch.cat(parts).double().numpy()


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (Heusel et al., 2017):

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``.
    The matrix square roots use symmetric eigendecompositions, which stay real and stable
    where ``scipy.linalg.sqrtm`` of the non-symmetric ``S_a S_b`` can return complex noise.
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, D) with the same D, got {a.shape} and {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError(f"each feature set needs at least 2 samples, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))

    def psd_sqrt(m: np.ndarray) -> np.ndarray:
        values, vectors = np.linalg.eigh((m + m.T) / 2)
        return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T

    root_a = psd_sqrt(cov_a)
    cross = psd_sqrt(root_a @ cov_b @ root_a)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * cross))


def frechet_video_distance(
    clips_a: torch.Tensor, clips_b: torch.Tensor, encoder: VideoEncoder | None = None
) -> float:
    """Fréchet distance between two batches of clips on the toy-world encoder's features."""
    return frechet_distance(clip_features(clips_a, encoder), clip_features(clips_b, encoder))


def dynamic_share(motion_raw: np.ndarray, frame_size: int, threshold: float = DYNAMIC_THRESHOLD) -> float:
    """Share of raw motion scores (pixels per frame) above ``threshold`` frame widths per frame."""
    return float(np.mean(np.asarray(motion_raw) > threshold * frame_size))


def dynamic_degree(clips: torch.Tensor, threshold: float = DYNAMIC_THRESHOLD) -> float:
    """Share of clips whose motion exceeds ``threshold`` frame widths per frame."""
    check_clip(clips, batched=True, name="clips")
    with torch.no_grad():
        return dynamic_share(motion_score(clips).numpy(), clips.shape[-1], threshold)


def evaluate_clips(
    clips: torch.Tensor,
    reference: torch.Tensor | None = None,
    motion_normaliser: PercentileNormaliser | None = None,
    visual_normaliser: PercentileNormaliser | None = None,
    encoder: VideoEncoder | None = None,
) -> dict[str, float]:
    """All metrics of a set of generated clips, as one dictionary.

    ``reference``: clips to measure the Fréchet distance to (e.g. held-out golden clips).
    The normalisers put motion and visual scores on a training corpus's [0, 1] scale.
    """
    check_clip(clips, batched=True, name="clips")
    with torch.no_grad():
        motion = motion_score(clips).numpy()
        visual = visual_score(clips).numpy()
    result = {
        "num_clips": int(len(clips)),
        "dynamic_degree": dynamic_share(motion, clips.shape[-1]),
        "motion_raw": float(motion.mean()),
        "visual_raw": float(visual.mean()),
    }
    if motion_normaliser is not None:
        result["mq"] = float(motion_normaliser.transform(motion).mean())
    if visual_normaliser is not None:
        result["vq"] = float(visual_normaliser.transform(visual).mean())
    if reference is not None:
        result["frechet_distance"] = frechet_video_distance(clips, reference, encoder)
    return result
