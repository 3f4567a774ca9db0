"""What broken video generators produce: the failure modes a quality metric must not reward.

Each function makes clips ``(B, 3, F, H, W)`` in [0, 1] that look, to a naive measurement, like
detail or motion: per-frame noise has high-frequency energy, flicker and hard cuts change every
frame, speckled colour fields and muddy fields resemble an undertrained denoiser's samples. The metric sanity
table (:mod:`tqd_lite.quality.sanity`) feeds them to every metric, and the learned judge
(:mod:`tqd_lite.quality.judge`) sees all but one of them as "poor" while it trains.
Every function takes a ``torch.Generator`` so that a table is reproducible.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tqd_lite.world.clips import check_clip
from tqd_lite.world.degrade import gaussian_blur_images

FLICKER_AMPLITUDE = 0.12  # per-frame brightness offsets are uniform in +-this [our choice]
SPECKLE_SHARE = 0.15  # share of pixels replaced by random colours in every frame [our choice]
# Muddy fields, fitted by eye to the samples of data/models/golden_quick (notebook 01, section 8):
MUD_BLUR = 1.2  # Gaussian sigma of the smoothed frame, in pixels per 16 px of frame
MUD_FADE = 0.5  # share of the smoothed frame's colour contrast that is lost
MUD_TEXTURE = 0.6  # amplitude of the scrambled fine detail laid back on top
MUD_DRIFT = 0.015  # standard deviation of the per-frame step of each channel's colour drift
MUD_PATCH = 4  # side of the scrambled detail patches, in pixels per 16 px of frame


def _uniform(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=generator)


def gaussian_noise(clips: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """``clips`` plus fresh Gaussian noise of standard deviation ``sigma`` in every frame."""
    check_clip(clips, batched=True, name="clips")
    return (clips + sigma * torch.randn(clips.shape, generator=generator)).clamp(0, 1)


def uniform_noise(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Every pixel of every frame uniform in [0, 1]."""
    return _uniform(shape, generator)


def saturated_noise(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Every channel of every pixel 0 or 1 at random: the "saturated RGB noise" of a diverged sampler."""
    return (_uniform(shape, generator) < 0.5).float()


def smooth_fields(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """One smooth random colour field per clip, the same in every frame: colour blobs, no sprite."""
    b, c, f, h, w = shape
    coarse = _uniform((b, c, 3, 3), generator)  # a 3 x 3 grid of colours, bilinearly upsampled
    field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True).clamp(0, 1)
    return field.unsqueeze(2).expand(b, c, f, h, w).contiguous()


def speckle(clips: torch.Tensor, generator: torch.Generator, share: float = SPECKLE_SHARE) -> torch.Tensor:
    """Replace a fresh random ``share`` of the pixels of every frame by random colours."""
    b, c, f, h, w = clips.shape
    mask = _uniform((b, 1, f, h, w), generator) < share
    return torch.where(mask, _uniform(clips.shape, generator), clips)


def speckled_fields(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """Smooth colour fields with per-frame speckle: what an undertrained denoiser samples."""
    return speckle(smooth_fields(shape, generator), generator)


def flat_grey(shape: tuple[int, ...], generator: torch.Generator, sigma: float = 0.01) -> torch.Tensor:
    """Mid-grey frames plus faint per-frame noise: nothing there, yet every pixel changes."""
    return (0.5 + sigma * torch.randn(shape, generator=generator)).clamp(0, 1)


def brightness_flicker(
    clips: torch.Tensor, generator: torch.Generator, amplitude: float = FLICKER_AMPLITUDE
) -> torch.Tensor:
    """Add one random brightness offset per frame (uniform in +-``amplitude``): nothing moves."""
    b, _, f, _, _ = clips.shape
    offsets = amplitude * (2 * _uniform((b, 1, f, 1, 1), generator) - 1)
    return (clips + offsets).clamp(0, 1)


def shuffle_frames(clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each clip's frames in a random order (never the original one): every frame right, the motion wrong."""
    f = clips.shape[2]
    out = []
    for clip in clips:
        order = torch.randperm(f, generator=generator)
        while torch.equal(order, torch.arange(f)):
            order = torch.randperm(f, generator=generator)
        out.append(clip[:, order])
    return torch.stack(out)


def hard_cuts(clips: torch.Tensor) -> torch.Tensor:
    """Frame ``t`` of clip ``i`` is frame ``t`` of clip ``(i + t) mod B``: a cut at every frame."""
    b, _, f, _, _ = clips.shape
    if b < f:
        raise ValueError(f"hard_cuts needs at least as many clips as frames ({f}), got {b}")
    frames = [clips[(torch.arange(b) + t) % b, :, t] for t in range(f)]  # each (B, C, H, W)
    return torch.stack(frames, dim=2)


def _scramble_patches(detail: torch.Tensor, patch: int, generator: torch.Generator) -> torch.Tensor:
    """Move ``patch`` x ``patch`` tiles to random places, one permutation per clip for every frame."""
    b, c, f, h, w = detail.shape
    gh, gw = h // patch, w // patch
    # (B, C, F, gh*p, gw*p) -> (B, gh*gw, C, F, p, p)
    tiles = detail.reshape(b, c, f, gh, patch, gw, patch).permute(0, 3, 5, 1, 2, 4, 6).flatten(1, 2)
    tiles = torch.stack([t[torch.randperm(gh * gw, generator=generator)] for t in tiles])
    return tiles.reshape(b, gh, gw, c, f, patch, patch).permute(0, 3, 4, 1, 5, 2, 6).reshape(b, c, f, h, w)


def muddy_fields(
    clips: torch.Tensor,
    generator: torch.Generator,
    *,
    blur: float = MUD_BLUR,
    fade: float = MUD_FADE,
    texture: float = MUD_TEXTURE,
    drift: float = MUD_DRIFT,
) -> torch.Tensor:
    """Golden clips turned into what our undertrained video models sample: washed-out colour fields
    where sprites are smeared blobs, with fragments of texture in the wrong places and colours that
    drift from frame to frame.

    Each frame is smoothed, loses ``fade`` of its colour contrast, gets its own fine detail back
    scrambled in patches (so stripes and checks appear, but not on a sprite), and a per-channel
    colour random walk over the frames (steps of std ``drift``) is added. Sizes scale with the frame.
    """
    check_clip(clips, batched=True, name="clips")
    b, c, f, h, w = clips.shape
    scale = h / 16
    # not degrade.blur_frames: its contiguous result changes the grey mean's summation order, and
    # with it the committed tables' mud by one float ulp
    frames = clips.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w)
    smooth = gaussian_blur_images(frames, blur * scale).reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4)
    detail = _scramble_patches(clips - smooth, max(2, round(MUD_PATCH * scale)), generator)
    grey = smooth.mean(dim=(1, 3, 4), keepdim=True)  # (B, 1, F, 1, 1)
    walk = (drift * torch.randn((b, c, f, 1, 1), generator=generator)).cumsum(2)
    # mud = grey + (1 - fade)(smooth - grey) + texture * scrambled detail + centred drift
    mud = grey + (1 - fade) * (smooth - grey) + texture * detail + walk - walk.mean(2, keepdim=True)
    return mud.clamp(0, 1)


def random_muddy_fields(clips: torch.Tensor, rng, generator: torch.Generator) -> torch.Tensor:
    """:func:`muddy_fields` with its settings drawn around the defaults (``rng``: a numpy Generator),
    for training data: a learned metric should reject mud of any shade, not one recipe."""
    return muddy_fields(
        clips,
        generator,
        blur=float(rng.uniform(0.5, 1.5)) * MUD_BLUR,
        fade=float(rng.uniform(0.2, 0.8)),
        texture=float(rng.uniform(0.3, 1.0)),
        drift=float(rng.uniform(0, 2)) * MUD_DRIFT,
    )


def contrast(clips: torch.Tensor, factor: float) -> torch.Tensor:
    """Stretch every clip's contrast about its own mean by ``factor``."""
    mean = clips.mean(dim=(1, 2, 3, 4), keepdim=True)
    return ((clips - mean) * factor + mean).clamp(0, 1)


def hue_shift(clips: torch.Tensor, degrees: float) -> torch.Tensor:
    """Rotate every colour about the grey axis by ``degrees`` (a global hue shift; grey stays grey)."""
    theta = math.radians(degrees)
    axis = torch.ones(3) / math.sqrt(3)
    # Rodrigues: R = cos(t) I + sin(t) [k]_x + (1 - cos(t)) k k^T
    cross = torch.tensor([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    rotation = (
        math.cos(theta) * torch.eye(3)
        + math.sin(theta) * cross
        + (1 - math.cos(theta)) * torch.outer(axis, axis)
    )
    return torch.einsum("rc,bcfhw->brfhw", rotation, clips).clamp(0, 1)
