"""A PyTorch Dataset over a folder of video clips, with their TQD scores.

Built either from a scored corpus (``scores.csv`` from ``python -m tqd_lite score``, which
lists only clips that decoded) or from a bare folder, which is scanned first: bad files are
reported and skipped, good ones are all kept, so ``__getitem__`` never meets a broken file.
Decoding happens in ``__getitem__`` through :func:`tqd_lite.world.video_io.read_clip`, so DataLoader
workers decode in parallel and receive tensors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from tqd_lite.quality.corpus import SPLITS, read_scores, scan_folder
from tqd_lite.world.video_io import read_clip


class VideoClipDataset(Dataset):
    """Clips ``(3, F, H, W)`` in [0, 1] with their normalised scores ``mq`` and ``vq``."""

    def __init__(
        self,
        files: list[Path],
        num_frames: int,
        size: int,
        mq: np.ndarray | None = None,
        vq: np.ndarray | None = None,
        backend: str | None = None,
    ):
        if not files:
            raise ValueError("VideoClipDataset needs at least one clip")
        for name, scores in (("mq", mq), ("vq", vq)):
            if scores is not None and len(scores) != len(files):
                raise ValueError(f"{name} has {len(scores)} entries for {len(files)} files")
        self.files, self.num_frames, self.size, self.backend = (
            [Path(f) for f in files],
            num_frames,
            size,
            backend,
        )
        nan = np.full(len(files), np.nan)
        self.mq = np.asarray(mq if mq is not None else nan, dtype=np.float32)
        self.vq = np.asarray(vq if vq is not None else nan, dtype=np.float32)

    @classmethod
    def from_folder(cls, folder: str | Path, num_frames: int, size: int, backend: str | None = None):
        """Scan ``folder``, skip (and report) unreadable clips, keep every readable one."""
        report = scan_folder(folder, num_frames, size, backend)
        return cls(report.good, num_frames, size, backend=backend)

    @classmethod
    def from_scores(
        cls,
        scores_csv: str | Path,
        clip_folder: str | Path,
        num_frames: int,
        size: int,
        split: str = "set_a",
        backend: str | None = None,
    ):
        """The clips of one split (``set_a``, ``set_b``, ``set_c``, ``heldout_golden``) of a scored corpus."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        clip_folder = Path(clip_folder)
        if not clip_folder.is_dir():
            raise FileNotFoundError(
                f"clip folder not found: {clip_folder} (build it with `python -m tqd_lite make-data`)"
            )
        table = read_scores(scores_csv)
        keep = table[split]
        files = [clip_folder / name for name in table["file"][keep]]
        return cls(files, num_frames, size, table["mq"][keep], table["vq"][keep], backend)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        clip = read_clip(self.files[index], self.num_frames, self.size, self.backend)
        return {
            "clip": clip,
            "mq": torch.tensor(self.mq[index]),
            "vq": torch.tensor(self.vq[index]),
            "index": torch.tensor(index),
        }
