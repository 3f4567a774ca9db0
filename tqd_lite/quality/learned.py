"""The learned metrics of one frame size: train, calibrate, save and load the tracker and the judge.

``python -m tqd_lite train-metrics --size 16`` trains both on freshly rendered clips, measures
them on renders they never saw (the judge's rank correlation with the true knobs, the tracker's
localisation error and missed sprites) and saves ``data/metrics/{tracker,judge}_{size}/`` as
``save_pretrained`` folders, each with a ``provenance.json`` naming the command, seed, device,
commit, training time and calibration. The world may still change; retraining is that one command.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from tqd_lite.paths import data_dir
from tqd_lite.quality.judge import JudgeTrainingConfig, QualityJudge, judge_clips, train_judge
from tqd_lite.quality.tracker import (
    MIN_VISIBLE,
    SpriteTracker,
    TrackerTrainingConfig,
    detect_sprites,
    train_tracker,
)
from tqd_lite.world.render import random_spec, render_clip_with_truth

CALIBRATION_SEED = 123_456  # held-out renders: a seed stream the training never draws from
KINDS = {"tracker": SpriteTracker, "judge": QualityJudge}


def metric_path(kind: str, size: int) -> Path:
    """``data/metrics/{kind}_{size}/``, a ``save_pretrained`` folder."""
    return data_dir() / "metrics" / f"{kind}_{size}"


_loaded: dict[tuple[str, int], torch.nn.Module] = {}


def load_metric_model(kind: str, size: int):
    """The committed tracker or judge for ``size`` x ``size`` clips (cached after the first load)."""
    if (kind, size) not in _loaded:
        path = metric_path(kind, size)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"no {kind} for {size}x{size} clips at {path}; train one with "
                f"`python -m tqd_lite train-metrics --size {size}`"
            )
        _loaded[(kind, size)] = KINDS[kind].from_pretrained(path).eval()
    return _loaded[(kind, size)]


def load_tracker(size: int) -> SpriteTracker:
    return load_metric_model("tracker", size)


def load_judge(size: int) -> QualityJudge:
    return load_metric_model("judge", size)


def calibration_renders(size: int, num_frames: int, n: int = 256):
    """Held-out renders with uniformly random knobs: ``(clips, specs, truths)``."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    specs = [random_spec(rng, size=size, num_frames=num_frames) for _ in range(n)]
    pairs = [render_clip_with_truth(spec) for spec in specs]
    return torch.stack([c for c, _ in pairs]), specs, [t for _, t in pairs]


def calibrate_judge(judge: QualityJudge, size: int, num_frames: int) -> dict[str, float]:
    """Spearman rank correlation of the judge's predictions with the true knobs on held-out renders."""
    clips, specs, _ = calibration_renders(size, num_frames)
    predicted = judge_clips(clips, judge)
    return {
        "rank_correlation_visual": float(
            spearmanr(predicted["visual"], [s.visual_quality for s in specs])[0]
        ),
        "rank_correlation_motion": float(
            spearmanr(predicted["motion"], [s.motion_intensity for s in specs])[0]
        ),
        "mean_world_probability": float(predicted["world"].mean()),
        "calibration_clips": len(specs),
    }


def calibrate_tracker(tracker: SpriteTracker, size: int, num_frames: int) -> dict[str, float]:
    """Localisation error (pixels) and missed or spurious detections on held-out renders."""
    clips, _, truths = calibration_renders(size, num_frames)
    detections = detect_sprites(clips, tracker)
    errors, missed, visible_total, spurious = [], 0, 0, 0
    for truth, per_frame in zip(truths, detections, strict=True):
        area = truth.masks.sum(dim=(2, 3))  # (S, F)
        visible = area >= MIN_VISIBLE * np.pi * truth.radii.view(-1, 1) ** 2
        for f, found in enumerate(per_frame):
            centres = truth.centres[visible[:, f], f].numpy()  # (S_visible, 2)
            visible_total += len(centres)
            spurious += max(0, len(found) - len(centres))
            for centre in centres:
                if len(found) == 0:
                    missed += 1
                    continue
                nearest = np.linalg.norm(found - centre, axis=1).min()
                if nearest > 0.25 * size:
                    missed += 1
                else:
                    errors.append(nearest)
    return {
        "median_error_px": float(np.median(errors)),
        "p90_error_px": float(np.percentile(errors, 90)),
        "missed_share": missed / max(1, visible_total),
        "spurious_per_frame": spurious / (len(truths) * num_frames),
        "calibration_clips": len(truths),
    }


def default_configs(
    size: int, num_frames: int, seed: int = 0
) -> tuple[TrackerTrainingConfig, JudgeTrainingConfig]:
    """Training budgets by frame size, measured to pass the sanity table (see the closing notes of
    the issue that added them). The tracker gets fewer steps and frames per step at 32 px, where
    a step costs about 4x; the judge strides its input, so a 32-px step costs about what a 16-px one does."""
    small = size <= 16
    tracker = TrackerTrainingConfig(
        size=size,
        num_frames=num_frames,
        train_clips=3000,
        steps=1500 if small else 1000,
        batch_frames=128 if small else 64,
        seed=seed,
    )
    judge = JudgeTrainingConfig(size=size, num_frames=num_frames, train_clips=6000, steps=2000, seed=seed)
    return tracker, judge


def train_and_save(kind: str, config, provenance_block: dict, *, device="cpu", progress: bool = True) -> Path:
    """Train one learned metric, calibrate it and save it with its provenance."""
    train, calibrate = {
        "tracker": (train_tracker, calibrate_tracker),
        "judge": (train_judge, calibrate_judge),
    }[kind]
    model, info = train(config, device, progress=progress)
    model = model.cpu()
    last = info["losses"][-50:]
    block = {
        **provenance_block,
        "train_seconds": round(info["train_seconds"], 1),
        "final_loss": round(sum(last) / len(last), 4),
    }
    path = metric_path(kind, config.size)
    model.save_pretrained(path)
    record = {
        "provenance": block,
        "config": asdict(config),
        "calibration": calibrate(model, config.size, config.num_frames),
    }
    (path / "provenance.json").write_text(json.dumps(record, indent=2) + "\n")
    _loaded.pop((kind, config.size), None)
    return path
