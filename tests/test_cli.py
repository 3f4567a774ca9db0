"""The command line: help, scoring a user's folder, and clear errors."""

import subprocess
import sys

import pytest

from tqd_lite.cli import main
from tqd_lite.corpus import read_scores


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "tqd_lite", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("make-data", "score", "train-encoder", "reproduce"):
        assert command in out


def test_score_writes_a_csv_for_any_folder(video_folder, tmp_path, capsys):
    folder, clips = video_folder
    out = tmp_path / "my_scores.csv"
    assert main(["score", str(folder), "--out", str(out), "--no-progress"]) == 0
    table = read_scores(out)
    assert len(table["file"]) == len(clips) and set(table["category"]) <= {
        "golden",
        "motion_rich",
        "visual_rich",
        "poor",
    }
    assert "6 readable clips, 0 skipped" in capsys.readouterr().out


def test_missing_folder_is_a_clear_error_not_a_traceback(capsys):
    assert main(["score", "/no/such/folder", "--no-progress"]) == 2
    assert "error: video folder not found: /no/such/folder" in capsys.readouterr().err


def test_unknown_profile_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["make-data", "--profile", "huge"])
    assert exit_.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err


def test_encoder_training_config_rejects_zero_steps():
    from tqd_lite.encoder import EncoderTrainingConfig

    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        EncoderTrainingConfig(steps=0)
