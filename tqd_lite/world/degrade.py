"""Degradations with a strength in [0, 1]: visual ones keep the motion, motion ones keep the visuals.

TQD's gradient analysis (docs/papers.md, section 1) compares a golden clip with versions of it that
lose *one* kind of quality: blurred, downsampled or compressed frames keep every movement;
frozen, stuttering or slowed frames keep every pixel of detail. The toy world also uses the
visual ones to realise its visual-quality knob (see quantise for why it is not block-based).

Strength 0 is always the identity. Visual degradations act on each frame alone; motion
degradations only re-index frames (every output frame is an exact copy of an input frame), so
each family leaves the other kind of quality untouched by construction. At strength 1 each
motion degradation is at the extreme of its own kind but still moves once: a still clip is not
a degraded motion but a static scene (the world's ``m = 0``), and if all three ended there,
"strength" would stop meaning "more frozen", "more stuttering" or "slower".
All functions take a clip ``(C, F, H, W)`` or a batch ``(B, C, F, H, W)`` in [0, 1].
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tqd_lite.world.clips import batchwise, check_clip

# Our choices of scale, in pixels: the toy textures have periods of 2-4 px whatever the frame size.
MAX_BLUR_SIGMA = 1.5  # Gaussian sigma at strength 1
MAX_DOWNSAMPLE_FACTOR = 4.0  # shrink factor at strength 1
MAX_DCT_STEP = 0.5  # quantisation step of the DC coefficient at strength 1
DCT_STEP_SLOPE = 8.0  # how much coarser the finest frequencies are quantised than the DC


def _check_strength(strength: float) -> float:
    strength = float(strength)
    if not 0.0 <= strength <= 1.0 or math.isnan(strength):
        raise ValueError(f"degradation strength must be in [0, 1], got {strength}")
    return strength


def _per_frame(clips: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``(B, C, F, H, W)`` -> ``(B*F, C, H, W)`` images, plus the shape to undo it."""
    b, c, f, h, w = clips.shape
    return clips.permute(0, 2, 1, 3, 4).reshape(b * f, c, h, w), (b, c, f, h, w)


def _from_frames(images: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    b, c, f, h, w = shape
    return images.reshape(b, f, c, h, w).permute(0, 2, 1, 3, 4).contiguous()


def gaussian_blur_images(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(N, C, H, W)`` images with reflect padding.

    Written here because torchvision (which has one) has no CPU wheel on our machines, and
    this is the only image filter we need.
    """
    if sigma <= 0:
        return images
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    c = images.shape[1]
    pad = min(radius, images.shape[-1] - 1, images.shape[-2] - 1)
    # Reflect padding cannot exceed the image size; a wider kernel then sees zero padding.
    out = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    extra = radius - pad
    out = F.pad(out, (extra, extra, extra, extra), mode="replicate") if extra else out
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def blur_frames(clips: torch.Tensor, sigma: float) -> torch.Tensor:
    """:func:`gaussian_blur_images` applied to every frame of clips ``(B, C, F, H, W)``."""
    images, shape = _per_frame(clips)
    return _from_frames(gaussian_blur_images(images, sigma), shape)


# ----------------------------------------------------------------------------- visual
@batchwise
def blur(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """Gaussian blur of every frame, sigma = strength * MAX_BLUR_SIGMA pixels."""
    return blur_frames(clips, _check_strength(strength) * MAX_BLUR_SIGMA)


@batchwise
def downsample(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """Shrink every frame by 1 + strength * (MAX_DOWNSAMPLE_FACTOR - 1) and scale it back up.

    Area averaging down, bilinear up: the low-resolution look of upscaled web video.
    """
    strength = _check_strength(strength)
    if strength == 0:
        return clips.clone()
    images, shape = _per_frame(clips)
    h, w = images.shape[-2:]
    factor = 1 + strength * (MAX_DOWNSAMPLE_FACTOR - 1)
    small = (max(1, round(h / factor)), max(1, round(w / factor)))
    low = F.interpolate(images, size=small, mode="area")
    up = F.interpolate(low, size=(h, w), mode="bilinear", align_corners=False)
    return _from_frames(up.clamp(0, 1), shape)


def _dct_matrix(n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Orthonormal DCT-II matrix D, so that the 2-D transform of an image X is D X D^T."""
    k = torch.arange(n, dtype=dtype, device=device).view(-1, 1)
    i = torch.arange(n, dtype=dtype, device=device).view(1, -1)
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2 / n)
    d[0] /= math.sqrt(2)
    return d


@batchwise
def quantise(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """Coarse quantisation of each frame's DCT coefficients, the lossy step of a compressor.

    Coefficient (u, v) of an H x W frame is truncated to a multiple of
    ``strength * MAX_DCT_STEP * (1 + DCT_STEP_SLOPE (u / H + v / W))``, so fine detail goes
    first, with ringing; strong settings leave only coarse shapes. Unlike JPEG we transform the
    whole frame, not 8x8 blocks [our choice]: at 16x16 a block grid would itself be most of the
    remaining high-frequency energy, and a detail measure would read heavy compression as sharp.
    """
    strength = _check_strength(strength)
    if strength == 0:
        return clips.clone()
    images, shape = _per_frame(clips)  # (N, C, H, W)
    h, w = images.shape[-2:]
    d_h, d_w = (_dct_matrix(n, images.dtype, images.device) for n in (h, w))
    # coefficients = D_h X D_w^T
    coeffs = d_h @ images @ d_w.T
    u = torch.arange(h, dtype=images.dtype, device=images.device).view(-1, 1) / h
    v = torch.arange(w, dtype=images.dtype, device=images.device).view(1, -1) / w
    step = strength * MAX_DCT_STEP * (1 + DCT_STEP_SLOPE * (u + v))
    # dead-zone quantiser (round toward zero, as codecs do): no coefficient ever grows, so
    # quantisation only removes detail; rounding to nearest could paint new texture
    coeffs = torch.trunc(coeffs / step) * step
    # X = D_h^T coefficients D_w
    return _from_frames((d_h.T @ coeffs @ d_w).clamp(0, 1), shape)


# ----------------------------------------------------------------------------- motion
def _reindex(clips: torch.Tensor, index: list[int]) -> torch.Tensor:
    return clips[:, :, index]


@batchwise
def freeze(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """The clip stops moving partway: frames after ``1 + round((1 - strength) (F - 2))`` repeat it.

    At strength 1 it moves for one frame and then stands still.
    """
    strength = _check_strength(strength)
    f = clips.shape[2]
    last = 1 + round((1 - strength) * (f - 2))
    return _reindex(clips, [min(i, last) for i in range(f)])


@batchwise
def stutter(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """Frames are held in runs of ``1 + round(strength (F - 2))``: jerky, dropped-frame motion.

    The content still travels as far as the original; at strength 1 it jumps once.
    """
    strength = _check_strength(strength)
    f = clips.shape[2]
    hold = 1 + round(strength * (f - 2))
    return _reindex(clips, [(i // hold) * hold for i in range(f)])


@batchwise
def slow_down(clips: torch.Tensor, strength: float) -> torch.Tensor:
    """Playback at speed ``1 - strength (1 - 1 / (F - 1))``, duplicating the nearest frame (no blending).

    At strength 1 the whole clip covers what one frame interval covered.
    """
    strength = _check_strength(strength)
    f = clips.shape[2]
    speed = 1 - strength * (1 - 1 / (f - 1))
    return _reindex(clips, [math.floor(i * speed + 0.5) for i in range(f)])


VISUAL_DEGRADATIONS = {"blur": blur, "downsample": downsample, "quantise": quantise}
MOTION_DEGRADATIONS = {"freeze": freeze, "stutter": stutter, "slow_down": slow_down}
DEGRADATIONS = {**VISUAL_DEGRADATIONS, **MOTION_DEGRADATIONS}


def degrade(clips: torch.Tensor, kind: str, strength: float) -> torch.Tensor:
    """Apply the degradation called ``kind`` (see DEGRADATIONS) at ``strength`` in [0, 1]."""
    if kind not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {kind!r}; expected one of {sorted(DEGRADATIONS)}")
    check_clip(clips)
    return DEGRADATIONS[kind](clips, strength)
