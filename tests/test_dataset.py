"""The Dataset: splits from a scores CSV, bad files skipped, tensors out of DataLoader workers."""

import shutil

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tqd_lite.quality.corpus import normalise_and_split, score_folder, write_scores
from tqd_lite.quality.dataset import VideoClipDataset


def test_from_folder_skips_bad_files_and_loads_through_workers(tmp_path, video_folder):
    folder, clips = video_folder
    for f in folder.glob("*.mp4"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "zz_truncated.mp4").write_bytes((folder / "clip_0.mp4").read_bytes()[:300])
    with pytest.warns(UserWarning, match="skipped 1 unreadable clips"):
        dataset = VideoClipDataset.from_folder(tmp_path, num_frames=8, size=16)
    assert len(dataset) == len(clips)
    loader = DataLoader(dataset, batch_size=3, num_workers=2)
    batches = list(loader)
    assert [b["clip"].shape for b in batches] == [(3, 3, 8, 16, 16)] * 2
    assert (batches[0]["clip"][1] - clips[1]).abs().max() <= 3 / 255


def test_from_scores_selects_a_split_with_its_scores(video_folder, tmp_path):
    folder, _ = video_folder
    raw, _ = score_folder(folder, 8, 16, progress=False)
    table = normalise_and_split(raw)
    scores_csv = write_scores(table, tmp_path / "scores.csv")
    dataset = VideoClipDataset.from_scores(scores_csv, folder, 8, 16, split="set_a")
    assert len(dataset) == table["set_a"].sum()
    item = dataset[0]
    assert item["clip"].shape == (3, 8, 16, 16)
    np.testing.assert_allclose(float(item["mq"]), table["mq"][table["set_a"]][0], rtol=1e-5)
    with pytest.raises(ValueError, match="unknown split 'set_d'"):
        VideoClipDataset.from_scores(scores_csv, folder, 8, 16, split="set_d")
    with pytest.raises(FileNotFoundError, match="clip folder not found"):
        VideoClipDataset.from_scores(scores_csv, tmp_path / "missing", 8, 16)


def test_wrong_size_clips_are_all_reported(video_folder):
    folder, _ = video_folder
    with (
        pytest.raises(ValueError, match="(?s)no readable clips.*wrong frame size: 16x16"),
        pytest.warns(UserWarning),
    ):
        VideoClipDataset.from_folder(folder, num_frames=8, size=32)


def test_score_arrays_must_match_files():
    with pytest.raises(ValueError, match="mq has 2 entries for 1 files"):
        VideoClipDataset(["a.mp4"], 8, 16, mq=np.zeros(2))
    assert torch.isnan(torch.tensor(VideoClipDataset(["a.mp4"], 8, 16).mq)).all()
