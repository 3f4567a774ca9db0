"""MCM's image discriminator (docs/papers.md section 2): frames of the student's one-step prediction
against high-quality images, with a hinge loss and DiffAugment.

MCM puts small heads on a frozen DINOv2; nothing can be downloaded here, so tqd-lite trains a
small convolutional discriminator from scratch [our choice]. DiffAugment (Zhao et al., 2020)
applies the same random, differentiable augmentations to real and fake images, so a
discriminator that sees few real images cannot simply memorise them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from tqd_lite.world.clips import all_frames

AUGMENTATIONS = ("colour", "translation", "cutout")


class FrameDiscriminator(nn.Module):
    """Images ``(N, 3, H, W)`` in [0, 1] -> one logit each ``(N,)``: strided 3x3 convolutions
    with spectral normalisation (keeps the discriminator Lipschitz, so the hinge game stays
    stable without a pretrained backbone), then the mean over positions."""

    def __init__(self, width: int = 32, levels: int = 3):
        super().__init__()
        layers, channels = [], 3
        for level in range(levels):
            out = width * 2**level
            layers += [spectral_norm(nn.Conv2d(channels, out, 3, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            channels = out
        self.body = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Conv2d(channels, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"the discriminator takes images (N, 3, H, W), got {tuple(images.shape)}")
        return self.head(self.body(images * 2 - 1)).mean(dim=(1, 2, 3))


def discriminator_hinge_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))``: zero once real logits are >= 1
    and fake ones <= -1."""
    return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()


def generator_hinge_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``-mean(D(fake))``: the student is rewarded for frames the discriminator calls real."""
    return -fake_logits.mean()


def random_frames(clips: torch.Tensor, per_clip: int, generator: torch.Generator) -> torch.Tensor:
    """``per_clip`` random frames of each clip ``(B, 3, F, H, W)`` -> ``(B per_clip, 3, H, W)``,
    keeping the gradient (MCM shows the discriminator 2 frames of each one-step prediction)."""
    b, _, f = clips.shape[:3]
    if not 1 <= per_clip <= f:
        raise ValueError(f"per_clip must be in [1, {f}] for clips of {f} frames, got {per_clip}")
    choice = torch.rand(b, f, generator=generator).argsort(dim=1)[:, :per_clip]  # (B, per_clip)
    index = (torch.arange(b).view(-1, 1) * f + choice).flatten().to(clips.device)
    return all_frames(clips)[index]


def diff_augment(
    images: torch.Tensor, generator: torch.Generator, policy: tuple[str, ...] = AUGMENTATIONS
) -> torch.Tensor:
    """DiffAugment of ``(N, 3, H, W)`` in [0, 1]: random brightness, saturation and contrast;
    a shift of up to 1/8 of the image; one square cutout of half the size. As in DiffAugment,
    the operations act in [-1, 1], so padding and the cutout are mid-grey. Every operation is
    differentiable in the images, so the student learns through it.

    Written here (30 lines) rather than taken from ``kornia.augmentation``, which has similar
    operations: kornia would be a new dependency, and every draw here comes from the step's
    seeded ``generator``, so an interrupted distillation resumes exactly.
    """
    unknown = set(policy) - set(AUGMENTATIONS)
    if unknown:
        raise ValueError(f"unknown augmentations {sorted(unknown)}; expected some of {AUGMENTATIONS}")
    n, _, h, w = images.shape
    device = images.device

    def uniform(*shape):
        return torch.rand(*shape, generator=generator).to(device)

    x = images * 2 - 1
    if "colour" in policy:
        x = x + (uniform(n, 1, 1, 1) - 0.5)  # brightness
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (uniform(n, 1, 1, 1) * 2) + mean  # saturation
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - mean) * (uniform(n, 1, 1, 1) + 0.5) + mean  # contrast
    if "translation" in policy:
        shift = max(1, h // 8)
        dy, dx = ((uniform(2, n) * (2 * shift + 1)).floor().long() - shift).cpu()
        padded = F.pad(x, (shift, shift, shift, shift))
        x = torch.stack(
            [
                padded[i, :, shift + dy[i] : shift + dy[i] + h, shift + dx[i] : shift + dx[i] + w]
                for i in range(n)
            ]
        )
    if "cutout" in policy:
        size = h // 2
        top, left = (uniform(2, n) * (h - size + 1)).floor().long().cpu()
        keep = torch.ones(n, 1, h, w, device=device)
        for i in range(n):
            keep[i, :, top[i] : top[i] + size, left[i] : left[i] + size] = 0
        x = x * keep
    return (x + 1) / 2
