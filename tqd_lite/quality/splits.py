"""Scored folders and their splits: the one way clips reach training and evaluation.

A *scored folder* holds ``clips/*.mp4`` and ``scores.csv`` (normalised mq, vq, category and the
Set-A/B/C and held-out golden masks of section 1 of ``docs/papers.md``). The profile's pool is
rendered and scored on first use (:func:`ensure_scored_pool`); a folder of your own is read as
it is (:func:`scored_folder`). :func:`load_split` returns one split's clips as a batch, which
``tqd_lite.diffusion`` turns into a clip bank.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from tqd_lite.paths import pool_dir
from tqd_lite.profiles import Profile
from tqd_lite.quality.corpus import SCORES_FILE, normalise_and_split, read_scores, score_folder, write_scores
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world.pool import CLIP_FOLDER, PoolConfig, build_pool, probe_clips
from tqd_lite.world.video_io import read_clip

FINGERPRINT_FILE = "scores.fingerprint"


def scoring_fingerprint(size: int, num_frames: int) -> str:
    """A hash of what scoring produces, not of the code's text: the raw scores of the pool's probe
    clips and the table that normalising and splitting them gives. Scores are recomputed when this
    changes, and only then."""
    probes = torch.stack([entry.render() for entry in probe_clips(size, num_frames)])  # (P, 3, F, H, W)
    raw = {
        "file": np.array([f"probe_{i}.mp4" for i in range(len(probes))]),
        "motion_raw": motion_score(probes).double().numpy(),
        "visual_raw": visual_score(probes).double().numpy(),
    }
    table = normalise_and_split(raw, seed=0)
    digest = hashlib.sha256()
    for key in sorted(table):
        values = table[key]
        text = [f"{v:.6e}" for v in values] if values.dtype.kind == "f" else [str(v) for v in values]
        digest.update(f"{key}:{','.join(text)};".encode())
    return digest.hexdigest()[:12]


def ensure_scored_pool(
    profile: Profile, seed: int = 0, folder: Path | None = None, progress: bool = True
) -> dict:
    """The scored pool of ``profile``: built and scored on first use, read from disk after."""
    folder = Path(folder) if folder is not None else pool_dir(profile.name)
    scores_file = folder / SCORES_FILE
    config = PoolConfig.from_profile(profile, seed)
    rendered = build_pool(folder, config, progress=progress)  # resumable: renders only missing clips
    fingerprint_file = folder / FINGERPRINT_FILE
    fingerprint = scoring_fingerprint(profile.frame_size, profile.num_frames)
    fresh = fingerprint_file.exists() and fingerprint_file.read_text() == fingerprint
    if rendered == 0 and scores_file.exists() and fresh:
        return read_scores(scores_file)
    raw, _ = score_folder(folder / CLIP_FOLDER, profile.num_frames, profile.frame_size, progress=progress)
    table = normalise_and_split(raw, seed=seed)
    write_scores(table, scores_file)
    fingerprint_file.write_text(fingerprint)  # scores are recomputed when what scoring gives changes
    return table


def scored_folder(profile: Profile, seed: int = 0, data: str | Path | None = None, progress: bool = True):
    """``(table, folder)``: the profile's pool (built and scored on first use), or a scored folder
    of your own (``clips/`` and ``scores.csv``, as ``make-data`` and ``make-sample`` write)."""
    if data is None:
        folder = pool_dir(profile.name)
        return ensure_scored_pool(profile, seed, folder, progress=progress), folder
    folder = Path(data)
    if not (folder / SCORES_FILE).is_file():
        raise FileNotFoundError(
            f"no {SCORES_FILE} in {folder}: expected a scored folder with clips/ and {SCORES_FILE} "
            f"(score one with `python -m tqd_lite score {folder / CLIP_FOLDER} --out {folder / SCORES_FILE}`)"
        )
    return read_scores(folder / SCORES_FILE), folder


def load_split(
    table: dict, split: str, folder: Path, profile: Profile, limit: int | None = None
) -> torch.Tensor:
    """The clips of one split as a batch ``(B, 3, F, H, W)``, read from their files."""
    files = table["file"][table[split]][:limit]
    if len(files) == 0:
        raise ValueError(f"split {split!r} of {folder} is empty")
    return torch.stack(
        [read_clip(folder / CLIP_FOLDER / f, profile.num_frames, profile.frame_size) for f in files]
    )


def corpus_normalisers(table: dict) -> tuple[PercentileNormaliser, PercentileNormaliser]:
    """The (motion, visual) percentile scales of a scored corpus: mq and vq of new clips on it."""
    return PercentileNormaliser(table["motion_raw"]), PercentileNormaliser(table["visual_raw"])
