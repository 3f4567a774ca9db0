"""Real footage made offline: photographs that matplotlib ships, panned and zoomed into short clips.

Nothing can be downloaded here, so the scorer and the judge are shown on a real photograph (Grace
Hopper's portrait and matplotlib's other sample images) rather than only on clips the toy world
renders. A camera window glides across the photograph and slowly zooms; each clip has a blurred
twin (the same motion, less detail) and a still twin (the same frames' detail, no motion).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

from tqd_lite.world.degrade import blur

SAMPLE_PHOTOS = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png")
TRAINING_PHOTOS = SAMPLE_PHOTOS[:2]  # the judge learns photographs' visual quality from these two
HELD_OUT_PHOTO = SAMPLE_PHOTOS[2]  # ... and is tested on this one
MAX_PAN_SPEED = 0.04  # shorter sides per frame


@functools.cache
def sample_photo(name: str = "grace_hopper.jpg") -> torch.Tensor:
    """One of matplotlib's sample images as ``(3, H, W)`` floats in [0, 1] (read once, then cached)."""
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data(name, asfileobj=True) as handle:
        image = np.asarray(matplotlib.image.imread(handle, format=name.rsplit(".", 1)[-1]), dtype=np.float32)
    image = image / 255.0 if image.max() > 1.0 else image
    return torch.from_numpy(image[..., :3].copy()).permute(2, 0, 1)


def pan_and_zoom(
    photo: torch.Tensor,
    *,
    size: int,
    num_frames: int,
    start: tuple[float, float],
    velocity: tuple[float, float],
    window: float = 0.35,
    zoom: float = 0.97,
) -> torch.Tensor:
    """A clip ``(3, F, size, size)``: a square window of ``window`` x the photo's shorter side, centred at
    ``start`` (fractions of width and height), moving by ``velocity`` (fractions of the shorter side)
    per frame and shrinking by ``zoom`` per frame."""
    _, h, w = photo.shape
    side = window * min(h, w)
    frames = []
    for t in range(num_frames):
        cx, cy = start[0] * w + velocity[0] * t * min(h, w), start[1] * h + velocity[1] * t * min(h, w)
        half = side * zoom**t / 2
        # affine_grid's coordinates are in [-1, 1] across the whole photo
        theta = torch.tensor(
            [[half / (w / 2), 0.0, 2 * cx / w - 1], [0.0, half / (h / 2), 2 * cy / h - 1]],
            dtype=torch.float32,
        )
        grid = F.affine_grid(theta[None], [1, 3, size, size], align_corners=False)
        # area-like sampling: bilinear from a photo pre-shrunk to about the window's scale
        scale = max(1, int(side / size))
        small = F.avg_pool2d(photo[None], scale) if scale > 1 else photo[None]
        frames.append(F.grid_sample(small, grid, mode="bilinear", align_corners=False)[0])
    return torch.stack(frames, dim=1).clamp(0, 1)


def random_pan(
    rng: np.random.Generator,
    photo: torch.Tensor,
    *,
    size: int,
    num_frames: int,
    speed: float,
    window: float = 0.35,
) -> torch.Tensor:
    """A :func:`pan_and_zoom` clip from a random start near the centre, in a random direction."""
    angle = rng.uniform(0, 2 * np.pi)
    return pan_and_zoom(
        photo,
        size=size,
        num_frames=num_frames,
        start=(rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65)),
        velocity=(speed * np.cos(angle), speed * np.sin(angle)),
        window=window,
    )


def footage_triplets(
    *,
    size: int,
    num_frames: int,
    clips_per_photo: int = 4,
    seed: int = 0,
    photos: tuple[str, ...] = SAMPLE_PHOTOS,
) -> dict[str, torch.Tensor]:
    """``{"moving", "blurred", "still"}``, each ``(N, 3, F, size, size)``: panned clips of the sample photos,
    their blurred twins (blur at strength 1) and still twins (the first frame held)."""
    rng = np.random.default_rng(seed)
    moving = []
    for name in photos:
        photo = sample_photo(name)
        for _ in range(clips_per_photo):
            speed = rng.uniform(MAX_PAN_SPEED / 2, MAX_PAN_SPEED)
            moving.append(random_pan(rng, photo, size=size, num_frames=num_frames, speed=speed))
    moving = torch.stack(moving)
    still = moving[:, :, :1].expand_as(moving).contiguous()
    return {"moving": moving, "blurred": blur(moving, 1.0), "still": still}
