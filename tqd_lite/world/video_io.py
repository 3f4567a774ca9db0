"""Video files: written with PyAV (near-lossless H.264), read with decord behind one function.

* :func:`write_video` stores a clip as H.264 in full-chroma YUV (``yuv444p``) at ``crf 0``.
  A round trip changes a pixel by at most a couple of 8-bit levels (RGB -> YUV rounding).
  Plain ``yuv420p`` would halve the colour resolution, which at 16x16 wipes out the
  coloured textures; ``libx264rgb`` (exactly lossless) is not decodable by decord.
* :func:`read_frames` is the only place that talks to a decoder. It uses decord
  (``VideoReader`` + ``get_batch`` inside ``decord.bridge.use_torch()``, so DataLoader workers
  receive tensors) and falls back to PyAV, with a one-time warning, where decord cannot be
  imported (it has no wheels for Apple Silicon or Linux on ARM).

Every failure raises :class:`VideoReadError`, which names the file and what was wrong.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from tqd_lite.world.clips import clip_to_frames, frames_to_clip

BACKENDS = ("decord", "pyav")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".avi", ".mov", ".webm")
DEFAULT_FPS = 8
_fallback_warned = False


class VideoReadError(ValueError):
    """A video file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(f"{path}: {problem}")


def write_video(path: str | os.PathLike, clip: torch.Tensor, fps: int = DEFAULT_FPS) -> Path:
    """Write a clip ``(3, F, H, W)`` in [0, 1] as near-lossless H.264 (atomically)."""
    import av  # imported here: only writers need it (readers prefer decord)

    frames = clip_to_frames(clip)  # (F, H, W, 3) uint8
    _, height, width, _ = frames.shape
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    with av.open(str(partial), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv444p"
        stream.options = {"crf": "0", "preset": "medium"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())  # flush delayed frames
    partial.replace(path)  # a killed writer never leaves a truncated clip under the real name
    return path


def resolve_backend(backend: str | None = None) -> str:
    """``backend`` if given, else decord when it imports, else PyAV (warning once)."""
    global _fallback_warned
    if backend is not None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown video backend {backend!r}; expected one of {BACKENDS}")
        return backend
    try:
        importlib.import_module("decord")
        return "decord"
    except ImportError:
        if not _fallback_warned:
            warnings.warn(
                "decord is not installed (it has no wheels for this platform); reading videos "
                "with PyAV instead, which is slower but gives the same frames",
                stacklevel=3,
            )
            _fallback_warned = True
        return "pyav"


def _repair_padded_frame(frame: torch.Tensor) -> torch.Tensor:
    """Undo decord 0.6's row padding: for some widths (8, 16, 24, 48, ...) it returns each
    row padded to a stride and reports the frame as ``(H, W, 3 * stride / W)``."""
    height, width, _ = frame.shape
    return frame.reshape(height, -1)[:, : width * 3].reshape(height, width, 3)


def _read_decord(path: str, indices: list[int] | None, min_frames: int) -> torch.Tensor:
    import decord

    with decord.bridge.use_torch():
        reader = decord.VideoReader(path, num_threads=1)
        indices = _clamp(indices, len(reader), path, min_frames)
        try:
            return reader.get_batch(indices)  # (F, H, W, 3) uint8 tensor
        except decord.DECORDError as error:
            if "size must exactly match" not in str(error):
                raise
            # The row-padding bug above: get_batch cannot copy padded frames, single reads can.
            try:
                return torch.stack([_repair_padded_frame(reader[i]) for i in indices])
            except RuntimeError:  # a padding layout we cannot undo: the file is fine, let PyAV read it
                return _read_pyav(path, indices, min_frames)


def _read_pyav(path: str, indices: list[int] | None, min_frames: int) -> torch.Tensor:
    import av

    with av.open(path) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    indices = _clamp(indices, len(frames), path, min_frames)
    return torch.from_numpy(np.stack([frames[i] for i in indices]))


def _clamp(indices: list[int] | None, num_frames: int, path: str, min_frames: int) -> list[int]:
    """All frames if ``indices`` is None; otherwise indices clamped to the real frame count."""
    if num_frames < max(min_frames, 1):
        raise VideoReadError(path, f"too short: {num_frames} frames, expected at least {max(min_frames, 1)}")
    if indices is None:
        return list(range(num_frames))
    return [min(max(int(i), 0), num_frames - 1) for i in indices]


def read_frames(
    path: str | os.PathLike,
    indices: list[int] | None = None,
    backend: str | None = None,
    min_frames: int = 1,
) -> torch.Tensor:
    """Decode frames of a video as a uint8 tensor ``(F, H, W, 3)``.

    ``indices`` selects frames (clamped to the real frame count); None reads them all.
    A video with fewer than ``min_frames`` frames is an error.
    """
    path = str(path)
    if not os.path.exists(path):
        raise VideoReadError(path, "file not found")
    if os.path.getsize(path) == 0:
        raise VideoReadError(path, "file is empty (0 bytes)")
    backend = resolve_backend(backend)
    try:
        if backend == "decord":
            return _read_decord(path, indices, min_frames)
        return _read_pyav(path, indices, min_frames)
    except VideoReadError:
        raise
    except Exception as error:  # decoders raise many types; all mean "cannot decode this file"
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise VideoReadError(
            path, f"cannot be decoded, corrupt or truncated ({backend}: {detail})"
        ) from error


def read_clip(
    path: str | os.PathLike,
    num_frames: int | None = None,
    size: int | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    """Read a clip ``(3, F, H, W)`` in [0, 1], checking it against what the caller expects.

    ``num_frames``: read the first that many frames; a shorter video is an error.
    ``size``: the expected height and width; another frame size is an error.
    """
    indices = None if num_frames is None else list(range(num_frames))
    frames = read_frames(path, indices, backend, min_frames=num_frames or 1)
    if size is not None and tuple(frames.shape[1:3]) != (size, size):
        raise VideoReadError(
            path, f"wrong frame size: {frames.shape[1]}x{frames.shape[2]} (HxW), expected {size}x{size}"
        )
    return frames_to_clip(frames)


def list_videos(folder: str | os.PathLike) -> list[Path]:
    """Video files directly in ``folder``, sorted by name; a clear error if the folder is missing."""
    folder = Path(folder)
    if folder.is_file():
        raise FileNotFoundError(f"expected a folder of videos, got a file: {folder}")
    if not folder.is_dir():
        raise FileNotFoundError(
            f"video folder not found: {folder} (build it with `python -m tqd_lite make-data`)"
        )
    return sorted(
        p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )
