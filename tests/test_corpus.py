"""Folder scans, scoring, categories, splits and the scores CSV."""

import shutil

import numpy as np
import pytest

from tqd_lite.quality.corpus import (
    categorise,
    dilemma_statistics,
    normalise_and_split,
    read_scores,
    scan_folder,
    score_folder,
    split_corpus,
    write_scores,
)


def test_scan_reports_and_skips_bad_files_and_keeps_every_good_one(tmp_path, video_folder):
    folder, clips = video_folder
    for f in folder.glob("*.mp4"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "broken.mp4").write_bytes(b"garbage" * 100)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.warns(UserWarning, match="skipped 2 unreadable clips"):
        report = scan_folder(tmp_path, num_frames=8, size=16)
    assert sorted(p.name for p in report.good) == sorted(f"clip_{i}.mp4" for i in range(len(clips)))
    assert {p.name for p, _ in report.bad} == {"broken.mp4", "empty.mp4"}
    assert "6 readable clips, 2 skipped" in report.summary()


def test_score_folder_gives_the_scores_of_the_decoded_clips(video_folder):
    folder, clips = video_folder
    raw, report = score_folder(folder, num_frames=8, size=16, progress=False)
    assert not report.bad and list(raw["file"]) == [f"clip_{i}.mp4" for i in range(6)]
    # clip i shows one scene with motion 0.2 i and visual quality 1 - 0.15 i
    assert raw["motion_raw"][0] == 0 and np.all(np.diff(raw["motion_raw"]) > 0)
    assert np.all(np.diff(raw["visual_raw"]) < 0)


def test_folder_with_no_readable_clip_is_an_error(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"x")
    with pytest.raises(ValueError, match="no readable clips"), pytest.warns(UserWarning):
        score_folder(tmp_path, num_frames=8, progress=False)


def test_categories_and_splits():
    mq = np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.6, 0.3, 0.95])
    vq = np.array([0.9, 0.2, 0.8, 0.1, 0.6, 0.9, 0.3, 0.55])
    category = categorise(mq, vq)
    assert list(category) == [
        "golden",
        "motion_rich",
        "visual_rich",
        "poor",
        "golden",
        "golden",
        "poor",
        "golden",
    ]
    splits = split_corpus(category, heldout_share=0.25, seed=0)
    assert splits["heldout_golden"].sum() == 1 and np.all(category[splits["heldout_golden"]] == "golden")
    assert not np.any(splits["set_a"] & splits["heldout_golden"])
    assert np.all(category[splits["set_c"]] == "golden") and splits["set_c"].sum() == 3
    assert set(category[splits["set_b"]]) == {"motion_rich", "visual_rich"}
    assert splits["set_a"].sum() == 7
    with pytest.raises(ValueError, match="heldout_share must be in"):
        split_corpus(category, heldout_share=1.0)


def test_scores_csv_round_trip_and_statistics(tmp_path):
    rng = np.random.default_rng(0)
    raw = {
        "file": np.array([f"c{i}.mp4" for i in range(40)]),
        "motion_raw": rng.random(40),
        "visual_raw": rng.random(40),
    }
    table = normalise_and_split(raw)
    back = read_scores(write_scores(table, tmp_path / "scores.csv"))
    for key in ("mq", "vq", "motion_raw"):
        np.testing.assert_allclose(back[key], table[key], rtol=1e-5)
    for key in ("category", "set_a", "set_b", "set_c", "heldout_golden"):
        assert np.array_equal(back[key], table[key])
    stats = dilemma_statistics(back)
    assert stats["num_clips"] == 40
    assert stats["golden_share"] == pytest.approx(np.mean(table["category"] == "golden"))
    assert stats["correlation_vq_mq"] == pytest.approx(np.corrcoef(table["vq"], table["mq"])[0, 1])
    with pytest.raises(FileNotFoundError, match="scores file not found"):
        read_scores(tmp_path / "nope.csv")


def test_scoring_needs_two_frames_and_tiny_corpora_give_no_nan(video_folder):
    folder, _ = video_folder
    with pytest.raises(ValueError, match="num_frames must be >= 2 to measure motion, got 1"):
        score_folder(folder, num_frames=1, progress=False)
    raw = {"file": np.array(["a.mp4"]), "motion_raw": np.array([0.3]), "visual_raw": np.array([1e-3])}
    assert dilemma_statistics(normalise_and_split(raw))["correlation_vq_mq"] is None


def test_a_file_where_a_folder_is_expected(video_folder):
    folder, _ = video_folder
    with pytest.raises(FileNotFoundError, match="expected a folder of videos, got a file"):
        scan_folder(folder / "clip_0.mp4", num_frames=8)
