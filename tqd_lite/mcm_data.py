"""MCM's two data sources in the toy world (papers.md section 2), and the frame-level metric.

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
*frame* Fréchet distance: each frame is shown to the video encoder as a still clip (the frame
repeated F times), so the features see its sharpness, layout and colour and no motion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tqd_lite.metrics import clip_features, frechet_distance
from tqd_lite.pool import CLIP_FOLDER, MANIFEST, read_manifest
from tqd_lite.profiles import Profile
from tqd_lite.train import ClipBank
from tqd_lite.training_run import scored_folder
from tqd_lite.video_io import read_clip
from tqd_lite.world import ClipSpec, render_clip

NUM_SCENE_CLASSES = 2  # one or two sprites
# Random draws world.render_sharp makes before it draws the sprite count: camera angle and
# speed, wave angle, wavelength and phase, two RGB colours (6), the fine checker's scale.
_DRAWS_BEFORE_SPRITE_COUNT = 12


def scene_class(seed: int) -> int:
    """The class label of the scene rendered from ``seed``: its number of sprites minus one.

    Replays the renderer's random stream up to its sprite-count draw instead of rendering
    (``tests/test_mcm_data.py`` checks the replay against the renderer itself).
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


def all_frames(clips: torch.Tensor) -> torch.Tensor:
    """``(B, 3, F, H, W)`` -> ``(B F, 3, H, W)``."""
    return clips.permute(0, 2, 1, 3, 4).reshape(-1, clips.shape[1], *clips.shape[-2:])


def frame_frechet_distance(clips: torch.Tensor, images: torch.Tensor) -> float:
    """Fréchet distance between the frames of ``clips`` ``(B, 3, F, H, W)`` and ``images``
    ``(N, 3, H, W)``, each shown to the video encoder as a still clip."""
    num_frames = clips.shape[2]
    fake = clip_features(frames_as_still_clips(all_frames(clips), num_frames))
    real = clip_features(frames_as_still_clips(images, num_frames))
    return frechet_distance(fake, real)
