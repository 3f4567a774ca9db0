"""The one clip layout used across tqd-lite, and conversions to and from it.

A *clip* is a float32 tensor of shape ``(C, F, H, W)`` with values in ``[0, 1]``; a batch
of clips is ``(B, C, F, H, W)``, the layout of diffusers' video UNets. Video files and
decoders use uint8 ``(F, H, W, C)``; the two functions below are the only place where
layouts change.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

# ITU-R BT.601 luma weights (the ones ffmpeg uses for SD video).
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


def frames_to_clip(frames: torch.Tensor | np.ndarray) -> torch.Tensor:
    """uint8 ``(F, H, W, C)`` frames -> float clip ``(C, F, H, W)`` in [0, 1]."""
    frames = torch.as_tensor(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames of shape (F, H, W, 3), got {tuple(frames.shape)}")
    return frames.permute(3, 0, 1, 2).float().div_(255.0)


def clip_to_frames(clip: torch.Tensor) -> np.ndarray:
    """Float clip ``(C, F, H, W)`` in [0, 1] -> uint8 ``(F, H, W, C)`` numpy frames."""
    check_clip(clip, batched=False)
    frames = clip.detach().clamp(0, 1).mul(255.0).round().to(torch.uint8)
    return frames.permute(1, 2, 3, 0).cpu().numpy()


def check_clip(clip: torch.Tensor, batched: bool | None = None, name: str = "clip") -> None:
    """Raise a clear error unless ``clip`` is ``(C, F, H, W)`` or ``(B, C, F, H, W)`` RGB."""
    if not isinstance(clip, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(clip).__name__}")
    allowed = {False: (4,), True: (5,), None: (4, 5)}[batched]
    layout = " or ".join({4: "(C, F, H, W)", 5: "(B, C, F, H, W)"}[n] for n in allowed)
    if clip.ndim not in allowed or clip.shape[-4] != 3:
        raise ValueError(f"{name} must have shape {layout} with C = 3, got {tuple(clip.shape)}")


def batchwise(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Let ``fn``, written for a batch ``(B, C, F, H, W)``, also take one clip ``(C, F, H, W)``."""

    def wrapper(clip: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        check_clip(clip)
        if clip.ndim == 5:
            return fn(clip, *args, **kwargs)
        return fn(clip.unsqueeze(0), *args, **kwargs).squeeze(0)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    wrapper.__wrapped__ = fn
    return wrapper


def luminance(clips: torch.Tensor) -> torch.Tensor:
    """Luma of a batch of clips: ``(B, 3, F, H, W)`` -> ``(B, F, H, W)``."""
    weights = clips.new_tensor(LUMA_WEIGHTS).view(1, 3, 1, 1, 1)
    return (clips * weights).sum(dim=1)


def all_frames(clips: torch.Tensor) -> torch.Tensor:
    """A batch of clips ``(B, C, F, H, W)`` as a batch of frames ``(B F, C, H, W)``, clip by clip."""
    return clips.permute(0, 2, 1, 3, 4).reshape(-1, clips.shape[1], *clips.shape[-2:])
