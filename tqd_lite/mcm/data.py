"""MCM's two data sources in the toy world (docs/papers.md section 2), and the frame-level metric.

MCM's premise: the teacher was trained on videos with rich motion but **poor visual quality**
(like public web video), while **high-quality still images** are plentiful. In tqd-lite:

* **teacher clips**: the pool's *motion-rich* training clips (mq >= 0.5 > vq, not held out),
  each with a class label, the number of sprites in the scene (0: one sprite, 1: two), so
  the teacher can be class-conditional with a null class and distillation can use
  classifier-free guidance [our choice: the toy world has no captions; the sprite count is a
  visible property of the content, not of its quality];
* **high-quality images**: single sharp frames (visual quality 1) of newly drawn scenes.

The golden clips neither source contains are the pool's held-out golden clips, the reference
of the clip-level Fréchet distance. Frames are compared with the high-quality images by a
*frame* Fréchet distance on image statistics (:func:`frame_statistics`): the luma power spectrum
in radial bands, colour means and spreads, and the sparsity of luma gradients, each standardised
by the image set. We first tried the video encoder on frames held still, but it placed pure noise
closer to sharp images than the held-out golden clips (FD 3.4 against 11.9; the encoder reads
noise as "undegraded"), which would reward a student for speckle; ``tests/test_distill.py``
checks that this metric orders sharp < slightly noisy < blurred or noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tqd_lite.diffusion.train import ClipBank
from tqd_lite.profiles import Profile
from tqd_lite.quality.metrics import frechet_distance
from tqd_lite.quality.splits import scored_folder
from tqd_lite.world.clips import all_frames
from tqd_lite.world.pool import CLIP_FOLDER, MANIFEST, read_manifest
from tqd_lite.world.render import ClipSpec, render_clip
from tqd_lite.world.video_io import read_clip

NUM_SCENE_CLASSES = 2  # one or two sprites
# Random draws world.render_sharp makes before it draws the sprite count: camera angle and
# speed, wave angle, wavelength and phase, two RGB colours (6), the fine checker's scale.
_DRAWS_BEFORE_SPRITE_COUNT = 12


def scene_class(seed: int) -> int:
    """The class label of the scene rendered from ``seed``: its number of sprites minus one.

    Replays the renderer's random stream up to its sprite-count draw instead of rendering
    (``tests/test_distill.py`` checks the replay against the renderer itself).
    """
    rng = np.random.default_rng(seed)
    rng.uniform(size=_DRAWS_BEFORE_SPRITE_COUNT)
    return int(rng.integers(1, 3)) - 1


def teacher_mask(table: dict) -> np.ndarray:
    """The teacher's clips in a scored pool table: motion-rich and not held out (training)."""
    return np.asarray(table["set_a"], dtype=bool) & (np.asarray(table["category"]) == "motion_rich")


def scene_classes(table: dict, folder: str | Path, mask: np.ndarray) -> torch.Tensor:
    """Class labels ``(N,)`` of the clips selected by ``mask``, from the pool's manifest seeds."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise FileNotFoundError(
            f"class labels need the seeds in {folder / MANIFEST}; a folder of your own videos has "
            "none (train the teacher on the profile's pool, or give labels yourself)"
        )
    manifest = read_manifest(folder)
    seed_of = dict(zip(manifest["file"], manifest["seed"].astype(np.int64), strict=True))
    missing = [f for f in table["file"][mask] if f not in seed_of]
    if missing:
        raise ValueError(f"{len(missing)} clips are not in {folder / MANIFEST}, e.g. {missing[0]!r}")
    return torch.tensor([scene_class(int(seed_of[f])) for f in table["file"][mask]], dtype=torch.long)


def load_teacher_bank(profile: Profile, data_seed: int = 0, progress: bool = True) -> ClipBank:
    """The teacher's training clips (motion-rich, visually poor) with their scene classes."""
    table, folder = scored_folder(profile, data_seed, progress=progress)
    mask = teacher_mask(table)
    clips = torch.stack(
        [
            read_clip(folder / CLIP_FOLDER / f, profile.num_frames, profile.frame_size)
            for f in table["file"][mask]
        ]
    )
    return ClipBank.from_float(
        clips, table["mq"][mask], table["vq"][mask], scene_classes(table, folder, mask)
    )


def high_quality_images(
    num_images: int, size: int, num_frames: int, seed: int = 1_000_003
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images (N, 3, H, W), labels (N,))``: one random frame each of ``num_images`` sharp scenes.

    Scenes are drawn from a seed stream of their own (``seed``), with random motion so the
    frames show every sprite position; visual quality 1 means no degradation at all.
    """
    if num_images < 1:
        raise ValueError(f"num_images must be >= 1, got {num_images}")
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(num_images):
        scene = int(rng.integers(0, 2**31 - 1))
        spec = ClipSpec(scene, 1.0, float(rng.uniform()), num_frames=num_frames, size=size)
        images.append(render_clip(spec)[:, int(rng.integers(num_frames))])  # (3, H, W)
        labels.append(scene_class(scene))
    return torch.stack(images), torch.tensor(labels, dtype=torch.long)


def frames_as_still_clips(frames: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``(N, 3, H, W)`` -> ``(N, 3, F, H, W)``: each frame held still for ``num_frames`` frames."""
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be (N, 3, H, W), got {tuple(frames.shape)}")
    return frames.unsqueeze(2).expand(-1, -1, num_frames, -1, -1).contiguous()


def frame_statistics(frames: torch.Tensor, bands: int = 6) -> np.ndarray:
    """Image statistics ``(N, bands + 8)`` of ``(N, 3, H, W)`` frames in [0, 1]:

    * log10 luma power in ``bands`` radial frequency bands (blur removes the high ones, noise
      lifts them all);
    * the mean and standard deviation of each colour channel;
    * the share of nearly flat luma gradients (|g| < 0.01) and the log kurtosis of the
      gradients: edges of sharp sprites are sparse (heavy-tailed), noise is not.
    """
    if frames.ndim != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be (N, 3, H, W), got {tuple(frames.shape)}")
    frames = frames.double()
    luma = 0.299 * frames[:, 0] + 0.587 * frames[:, 1] + 0.114 * frames[:, 2]  # (N, H, W)
    luma = luma - luma.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(luma).abs().pow(2)
    fy, fx = (torch.fft.fftfreq(n, dtype=torch.float64) * 2 for n in luma.shape[1:])
    radius = torch.sqrt(fy.view(-1, 1) ** 2 + fx.view(1, -1) ** 2)  # 1 = Nyquist
    edges = torch.linspace(0, radius.max().item() + 1e-9, bands + 1)
    spectrum = [
        torch.log10(power[:, (radius >= low) & (radius < high)].mean(dim=1) + 1e-8)
        for low, high in zip(edges[:-1], edges[1:], strict=True)
    ]
    colour = torch.cat([frames.mean(dim=(2, 3)), frames.std(dim=(2, 3))], dim=1)  # (N, 6)
    gradients = torch.cat([luma.diff(dim=1).flatten(1), luma.diff(dim=2).flatten(1)], dim=1)
    flat = (gradients.abs() < 0.01).double().mean(dim=1)
    second = gradients.pow(2).mean(dim=1).clamp(min=1e-12)
    kurtosis = torch.log(gradients.pow(4).mean(dim=1) / second.pow(2) + 1e-12)
    return torch.cat([torch.stack(spectrum, 1), colour, flat[:, None], kurtosis[:, None]], 1).numpy()


def frame_frechet_distance(clips: torch.Tensor, images: torch.Tensor) -> float:
    """Fréchet distance between the frames of ``clips`` ``(B, 3, F, H, W)`` and ``images``
    ``(N, 3, H, W)`` on :func:`frame_statistics`, each statistic standardised by the images'
    mean and spread (so no one statistic dominates by its units)."""
    real = frame_statistics(images)
    mean, spread = real.mean(axis=0), real.std(axis=0) + 1e-12
    fake = frame_statistics(all_frames(clips))
    return frechet_distance((fake - mean) / spread, (real - mean) / spread)
