"""The raw "web-like" pool: visual quality and motion intensity negatively correlated.

TQD's starting observation (docs/papers.md, section 1) is that over a web corpus MQ and VQ
correlate negatively (r = -0.24) and only about 22% of clips are high in both. We mirror it
by drawing each clip's two knobs from a Gaussian copula with a negative latent correlation:
``(z_q, z_m) ~ N(0, [[1, rho], [rho, 1]])``, ``q = Phi(z_q)``, ``m = Phi(z_m)``, so each knob is
uniform on [0, 1] and only their dependence is set. Which visual degradation realises a low
``q`` is drawn per clip, and a share of clips also gets a web-style motion artefact (freeze,
stutter, slow-down) at a random strength. The correlation and golden share that count are the
*measured* ones (:mod:`tqd_lite.quality.corpus`), reported by ``make-data`` and notebook 01.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tqd_lite.files import load_csv, load_json
from tqd_lite.profiles import Profile
from tqd_lite.world.degrade import MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.render import WORLD, ClipSpec, WorldStyle, render_clip
from tqd_lite.world.video_io import write_video

MANIFEST = "manifest.csv"
CLIP_FOLDER = "clips"
PROBE_SEED = 900_000  # the rendering fingerprint's probe clips (any fixed seeds)


@dataclass(frozen=True)
class PoolConfig:
    """How the pool is drawn. The defaults give a measured r(VQ, MQ) near the paper's -0.24."""

    num_clips: int = 800
    size: int = 16
    num_frames: int = 8
    # measured with benchmarks/probe_world_dilemma.py: -0.3 gave r = -0.243 in the classic world,
    # -0.37 gives -0.248 (16 px) and -0.239 (32 px) in the simple one, whose coarser textures tie
    # the visual score less to the knob
    latent_correlation: float = -0.37
    motion_artefact_share: float = 0.15
    seed: int = 0

    def __post_init__(self):
        if not -1.0 < self.latent_correlation < 1.0:
            raise ValueError(f"latent_correlation must be in (-1, 1), got {self.latent_correlation}")
        if not 0.0 <= self.motion_artefact_share <= 1.0:
            raise ValueError(f"motion_artefact_share must be in [0, 1], got {self.motion_artefact_share}")
        if self.num_clips < 1:
            raise ValueError(f"num_clips must be >= 1, got {self.num_clips}")

    @classmethod
    def from_profile(cls, profile: Profile, seed: int = 0) -> PoolConfig:
        return cls(
            num_clips=profile.pool_size, size=profile.frame_size, num_frames=profile.num_frames, seed=seed
        )


@dataclass(frozen=True)
class PoolClip:
    """One pool entry: the spec it is rendered from and its optional motion artefact."""

    file: str
    spec: ClipSpec
    motion_degradation: str = "none"
    motion_strength: float = 0.0

    def render(self, style: WorldStyle = WORLD):
        clip = render_clip(self.spec, style)
        if self.motion_degradation == "none":
            return clip
        return MOTION_DEGRADATIONS[self.motion_degradation](clip, self.motion_strength)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))


KNOB_DECIMALS = 9  # far below any visible change, far above the BLAS kernels' last-bit noise


def sample_pool(config: PoolConfig) -> list[PoolClip]:
    """Draw the pool's clips (deterministic in ``config.seed``); nothing is rendered yet."""
    rng = np.random.default_rng(config.seed)
    rho = config.latent_correlation
    # Gaussian copula: correlated normals -> uniform marginals with a negative dependence.
    z = rng.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]], size=config.num_clips)
    # numpy takes the covariance's SVD through the CPU's BLAS kernels, whose last bits differ between
    # CPUs (OpenBLAS's Haswell and SkylakeX kernels gave different pool fingerprints): rounding
    # the knobs makes every machine draw the same pool
    quality, motion = (np.round(_normal_cdf(z[:, k]), KNOB_DECIMALS) for k in (0, 1))
    visual_kinds = sorted(VISUAL_DEGRADATIONS)
    motion_kinds = sorted(MOTION_DEGRADATIONS)
    clip_seeds = rng.integers(0, 2**31 - 1, size=config.num_clips)
    clips = []
    for i in range(config.num_clips):
        spec = ClipSpec(
            seed=int(clip_seeds[i]),
            visual_quality=float(quality[i]),
            motion_intensity=float(motion[i]),
            visual_degradation=visual_kinds[rng.integers(len(visual_kinds))],
            num_frames=config.num_frames,
            size=config.size,
        )
        artefact, strength = "none", 0.0
        if rng.random() < config.motion_artefact_share:
            artefact, strength = motion_kinds[rng.integers(len(motion_kinds))], float(rng.uniform(0.3, 1.0))
        clips.append(PoolClip(f"clip_{i:05d}.mp4", spec, artefact, strength))
    return clips


def probe_clips(size: int, num_frames: int) -> list[PoolClip]:
    """A few fixed clips that exercise every visual and motion degradation at ``size``."""
    visual, motion = sorted(VISUAL_DEGRADATIONS), sorted(MOTION_DEGRADATIONS)
    return [
        PoolClip(
            f"probe_{i}.mp4",
            ClipSpec(
                seed=PROBE_SEED + i,
                visual_quality=0.3,
                motion_intensity=0.7,
                visual_degradation=visual[i % len(visual)],
                num_frames=num_frames,
                size=size,
            ),
            motion[i % len(motion)] if i < len(motion) else "none",
            0.6,
        )
        for i in range(max(len(visual), len(motion)) + 1)
    ]


def rendering_fingerprint(config: PoolConfig) -> str:
    """A hash of what decides the pool's clips, not of the source text that makes them.

    It covers every clip's knobs (``sample_pool``) and the pixels of a few probe renders as the
    video files store them (uint8), so moving or reformatting code invalidates nothing, while a
    change in what a clip looks like, or in how knobs are drawn, does (``tests/test_pool.py``).
    """
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode())
    for entry in sample_pool(config):
        digest.update(json.dumps(asdict(entry), sort_keys=True).encode())
    for entry in probe_clips(config.size, config.num_frames):
        digest.update((entry.render() * 255).round().to(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def read_manifest(folder: str | Path) -> dict[str, np.ndarray]:
    """The knobs every clip of a built pool was rendered with (``manifest.csv``), as arrays."""
    path = Path(folder) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"pool manifest not found: {path} (build the pool with `python -m tqd_lite make-data`)"
        )
    header, rows = load_csv(path, "pool manifest")
    numbers = ("visual_quality", "motion_intensity", "motion_strength")
    if not rows or not set(numbers) <= set(header):
        raise ValueError(f"{path}: expected rows with the columns {list(numbers)} and more, got {header}")
    table = {key: np.array([row[key] for row in rows]) for key in header}
    for key in numbers:
        table[key] = table[key].astype(float)
    return table


def build_pool(folder: str | Path, config: PoolConfig, progress: bool = True) -> int:
    """Render the pool into ``folder/clips/*.mp4`` with a manifest of every clip's knobs.

    Resumable: clips already on disk are kept (writes are atomic, so a file that exists is whole).
    A folder built with another config, or by other rendering code, is refused rather than
    silently mixed or reused.
    Returns how many clips were rendered now (0 when the pool was already complete).
    """
    folder = Path(folder)
    config_file = folder / "pool.json"
    wanted = {**asdict(config), "rendering": rendering_fingerprint(config)}
    if config_file.exists():
        existing = load_json(config_file, "pool config")
        if existing != wanted:
            raise ValueError(
                f"{folder} already holds a pool built with {existing}, not {wanted} (another config or "
                f"older rendering code); delete it (rm -r {folder}) or choose another folder"
            )
    else:
        (folder / CLIP_FOLDER).mkdir(parents=True, exist_ok=True)
        config_file.write_text(json.dumps(wanted, indent=2))
    clips = sample_pool(config)
    missing = [e for e in clips if not (folder / CLIP_FOLDER / e.file).exists()]
    for entry in tqdm(missing, desc="rendering pool", disable=not progress or not missing):
        write_video(folder / CLIP_FOLDER / entry.file, entry.render())
    with open(folder / MANIFEST, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "file",
                "seed",
                "visual_quality",
                "motion_intensity",
                "visual_degradation",
                "motion_degradation",
                "motion_strength",
            ]
        )
        for e in clips:
            writer.writerow(
                [
                    e.file,
                    e.spec.seed,
                    f"{e.spec.visual_quality:.6f}",
                    f"{e.spec.motion_intensity:.6f}",
                    e.spec.visual_degradation,
                    e.motion_degradation,
                    f"{e.motion_strength:.6f}",
                ]
            )
    return len(missing)
