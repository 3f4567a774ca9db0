"""The command line: help, scoring a user's folder, and clear errors."""

import json
import subprocess
import sys

import pytest

from tqd_lite.cli import main, timestep_policy, training_overrides
from tqd_lite.paths import data_dir
from tqd_lite.quality.corpus import read_scores
from tqd_lite.tqd.sampler import TimestepPolicy

DATA = data_dir()


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "tqd_lite", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("make-data", "score", "train-encoder", "train", "sample", "reproduce"):
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
    from tqd_lite.quality.encoder import EncoderTrainingConfig

    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        EncoderTrainingConfig(steps=0)


def test_training_overrides_from_a_file_and_flags(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("learning_rate: 0.001\nprediction_type: epsilon\n")
    overrides = training_overrides(str(config), ["steps=5", "snr_gamma=null", "preset=tiny"])
    assert overrides == {
        "learning_rate": 0.001,
        "prediction_type": "epsilon",
        "steps": 5,
        "snr_gamma": None,
        "preset": "tiny",
    }
    with pytest.raises(ValueError, match="--set expects field=value, got 'steps'"):
        training_overrides(None, ["steps"])


def test_the_timestep_policy_from_flags():
    policy = timestep_policy(["sampler=tqd", "dropout=hard", "kappa_max=4"])
    assert policy == TimestepPolicy(sampler="tqd", dropout="hard", kappa_max=4.0)
    with pytest.raises(ValueError, match=r"unknown timestep policy setting\(s\) \['kappa'\]"):
        timestep_policy(["kappa=4"])
    with pytest.raises(ValueError, match="--policy expects field=value, got 'tqd'"):
        timestep_policy(["tqd"])


def test_unknown_training_setting_is_a_clear_error(capsys):
    assert main(["train", "--set", "stepz=5", "--no-progress"]) == 2
    assert "unknown training setting(s) ['stepz']" in capsys.readouterr().err


def test_train_and_sample_on_a_scored_folder_with_accelerate_launch(tmp_path):
    """The README's multi-GPU route, `accelerate launch`, with one CPU process; then `sample`."""
    run = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--num_processes",
        "1",
        "--cpu",
        "-m",
        "tqd_lite",
        "train",
        "--data",
        str(DATA / "sample"),
        "--out",
        str(run),
        "--set",
        "steps=2",
        "--set",
        "batch_size=2",
        "--eval-every",
        "2",
        "--eval-clips",
        "8",
        "--no-progress",
        "--export",
        str(tmp_path / "model.pt"),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained tiny on set_c (9 clips): 2 steps" in done.stdout
    report = json.loads((run / "train.json").read_text())
    assert [e["step"] for e in report["evaluations"]] == [0, 2]
    assert report["provenance"]["command"].startswith("python -m tqd_lite train")
    assert (run / "training.png").exists() and (tmp_path / "model.json").exists()

    out = tmp_path / "samples"
    assert (
        main(
            [
                "sample",
                str(tmp_path / "model.pt"),
                "--num-clips",
                "2",
                "--steps",
                "2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert len(list(out.glob("sample_*.mp4"))) == 2 and (out / "samples.png").exists()
    assert main(["sample", str(tmp_path / "model.pt"), "--label", "1", "--out", str(out)]) == 2


def test_train_on_a_folder_without_scores_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--no-progress"]) == 2
    assert f"no scores.csv in {tmp_path}" in capsys.readouterr().err
