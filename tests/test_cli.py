"""The command line: help, scoring a user's folder, and clear errors."""

import json
import subprocess
import sys

import pytest
import torch

from tqd_lite.cli import main, settings_overrides, timestep_policy
from tqd_lite.paths import data_dir
from tqd_lite.profiles import get_profile
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


def test_settings_overrides_from_a_file_and_flags(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("learning_rate: 0.001\nprediction_type: epsilon\n")
    overrides = settings_overrides(str(config), ["steps=5", "snr_gamma=null", "preset=tiny"])
    assert overrides == {
        "learning_rate": 0.001,
        "prediction_type": "epsilon",
        "steps": 5,
        "snr_gamma": None,
        "preset": "tiny",
    }
    with pytest.raises(ValueError, match="--set expects field=value, got 'steps'"):
        settings_overrides(None, ["steps"])


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


def test_world_and_data_that_do_not_fit_the_split_are_clear_errors(capsys):
    assert main(["train", "--world", "simple", "--no-progress"]) == 2
    assert "--world applies to --split renders only, not to --split set_c" in capsys.readouterr().err
    assert main(["train", "--split", "renders", "--data", "mine", "--no-progress"]) == 2
    assert "--split renders draws fresh clips" in capsys.readouterr().err


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
        str(tmp_path / "model"),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    preset = get_profile("quick").model_preset  # the recipe's
    assert f"trained {preset} on set_c (" in done.stdout and " clips): 2 steps" in done.stdout
    report = json.loads((run / "train.json").read_text())
    assert [e["step"] for e in report["evaluations"]] == [0, 2]
    assert report["provenance"]["command"].startswith("python -m tqd_lite train")
    assert (run / "training.png").exists() and (tmp_path / "model" / "provenance.json").exists()

    out = tmp_path / "samples"
    assert (
        main(
            [
                "sample",
                str(tmp_path / "model"),
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
    assert main(["sample", str(tmp_path / "model"), "--label", "1", "--out", str(out)]) == 2


def test_train_on_a_folder_without_scores_is_a_clear_error(tmp_path, capsys):
    assert main(["train", "--data", str(tmp_path), "--no-progress"]) == 2
    assert f"no scores.csv in {tmp_path}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("mq", "nan", "mq is 'nan'; every clip needs finite scores"),
        ("vq", "1.5", "vq must be a percentile score in [0, 1], got 1.5"),
        ("motion_raw", "fast", "motion_raw must be a number, got 'fast'"),
        ("set_a", "yes", "set_a must be 0 or 1, got 'yes'"),
    ],
)
def test_a_bad_score_in_a_data_folder_names_its_line_and_clip_before_any_work(
    column, value, expected, tmp_path, capsys
):
    lines = (DATA / "sample" / "scores.csv").read_text().splitlines()
    header = lines[0].split(",")
    row = lines[5].split(",")  # line 6 of the file
    row[header.index(column)] = value
    lines[5] = ",".join(row)
    (tmp_path / "scores.csv").write_text("\n".join(lines) + "\n")  # no clips/: none is read first
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--no-progress"]) == 2
    message = capsys.readouterr().err
    assert f"{tmp_path / 'scores.csv'}, line 6 ({row[0]!r}): {expected}" in message
    assert not (tmp_path / "run").exists()


def test_a_scores_file_without_a_column_says_which(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text("file,motion_raw,visual_raw,mq,category,set_a,set_b,set_c,heldout_golden\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['vq'\]"):
        read_scores(path)


@pytest.mark.parametrize("command", ["train", "distill", "analyze-gradients"])
def test_every_config_command_takes_the_same_overrides_and_shows_examples(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = capsys.readouterr().out
    assert "--config FILE" in help_text and "--set FIELD=VALUE" in help_text
    assert f"examples:\n  python -m tqd_lite {command}" in help_text


def test_distill_writes_a_student_that_from_pretrained_samples_in_few_steps(tmp_path, capsys):
    from tqd_lite.diffusion.checkpoints import training_config_of
    from tqd_lite.diffusion.noise import make_noise_scheduler
    from tqd_lite.diffusion.pipeline import VideoPipeline

    config = tmp_path / "student.yaml"
    config.write_text("representation: temporal_difference\nsteps: 2\n")
    argv = ["distill", "--config", str(config), "--set", "batch_size=2", "--set", "discriminator=false"]
    argv += ["--teacher", str(DATA / "models" / "mcm_teacher_quick"), "--out", str(tmp_path / "run")]
    assert main([*argv, "--no-progress"]) == 0
    assert "distilled 2 steps (temporal_difference)" in capsys.readouterr().out
    student = tmp_path / "run" / "student"
    record = json.loads((student / "provenance.json").read_text())
    assert record["distill_config"]["representation"] == "temporal_difference"
    assert record["distill_config"]["discriminator"] is False and record["distill_config"]["batch_size"] == 2
    pipe = VideoPipeline.from_pretrained(student)
    assert type(pipe.scheduler).__name__ == "LCMScheduler" and pipe.scheduler.config.timestep_scaling == 4
    # the student steps on the schedule its teacher learned (the recipe's SNR shift), not the plain one
    teacher = DATA / "models" / "mcm_teacher_quick"
    teacher_schedule = make_noise_scheduler(**training_config_of(teacher).noise_schedule())
    assert torch.allclose(pipe.scheduler.alphas_cumprod, teacher_schedule.alphas_cumprod)
    assert not torch.allclose(pipe.scheduler.alphas_cumprod, make_noise_scheduler().alphas_cumprod)
    clips = pipe(num_clips=2, num_inference_steps=2, class_labels=torch.tensor([0, 1]), progress=False).clips
    assert clips.shape == (2, 3, 8, 16, 16) and (tmp_path / "run" / "samples.png").is_file()
    out = tmp_path / "samples"  # `sample` takes the folder's own scheduler: LCM, 4 steps by default
    assert (
        main(["sample", str(student), "--num-clips", "2", "--label", "1", "--out", str(out), "--no-progress"])
        == 0
    )
    assert json.loads((out / "samples.json").read_text())["steps"] == 4
    assert main(["distill", "--set", "representation=optical_flow", "--no-progress"]) == 2
    assert "unknown motion representation 'optical_flow'" in capsys.readouterr().err


def test_a_checkpoint_samples_and_is_analysed_at_its_own_clip_shape_only(tmp_path, capsys):
    from tqd_lite.diffusion.checkpoints import load_pipeline
    from tqd_lite.diffusion.train import ClipBank, TrainConfig, train
    from tqd_lite.world.render import ClipSpec, render_clips
    from tqd_lite.world.video_io import read_frames

    clips = render_clips([ClipSpec(seed=s, size=8, num_frames=4) for s in range(2)])  # not quick's 16x16x8
    # 3 steps: after one, the EMA (warm-up decay 0) still equals the raw weights
    train(TrainConfig(steps=3, batch_size=2), ClipBank.from_float(clips), tmp_path / "run", progress=False)
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    pipe = load_pipeline(checkpoint)
    assert (pipe.unet.config.num_frames, pipe.unet.config.sample_size) == (4, 8)
    with pytest.raises(ValueError, match="trained on 4 frames of 8x8, not the 8 frames of 16x16 asked for"):
        pipe(num_frames=8, size=16, num_inference_steps=1, progress=False)
    other = pipe(num_frames=8, size=16, num_inference_steps=1, other_shape=True, progress=False).clips
    assert other.shape[2:] == (8, 16, 16)
    out = tmp_path / "samples"
    args = ["sample", str(checkpoint), "--num-clips", "1", "--steps", "1", "--out", str(out), "--no-progress"]
    assert main(args) == 0  # the quick profile's shape is not forced on it
    assert read_frames(out / "sample_000.mp4").shape == (4, 8, 8, 3)  # (F, H, W, C)
    assert main([*args, "--size", "16"]) == 0  # asked for explicitly
    assert read_frames(out / "sample_000.mp4").shape == (4, 16, 16, 3)
    ema_weights = pipe.unet.state_dict()
    raw_weights = load_pipeline(checkpoint, use_ema=False).unet.state_dict()
    assert any(not torch.equal(ema_weights[k], raw_weights[k]) for k in ema_weights)
    assert main(args) == 0
    ema_clip = read_frames(out / "sample_000.mp4")
    assert main([*args, "--raw-weights"]) == 0  # same noise, same shape, other weights: another clip
    assert json.loads((out / "samples.json").read_text())["provenance"]["weights"] == "raw"
    raw_clip = read_frames(out / "sample_000.mp4")
    assert raw_clip.shape == ema_clip.shape and (raw_clip != ema_clip).any()
    assert main([*args, "--steps", "3", "--ancestral"]) == 0  # DDPM's steps, recorded
    assert json.loads((out / "samples.json").read_text())["provenance"]["scheduler"] == "DDPMScheduler"
    argv = [
        "analyze-gradients",
        "--checkpoint",
        str(checkpoint),
        "--out",
        str(tmp_path / "g"),
        "--no-progress",
    ]
    assert main(argv) == 2
    assert f"{checkpoint} was trained on 4 frames of 8x8, not the 8 frames of 16x16 asked for" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "g").exists()
    assert main(["distill", "--teacher", str(checkpoint), "--out", str(tmp_path / "d"), "--no-progress"]) == 2
    assert (
        f"{checkpoint} was trained on 4 frames of 8x8, not the 8 frames of 16x16" in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--eval-every", "0"], "argument --eval-every: expected an integer >= 1, got 0"),
        (["train", "--eval-every", "-5"], "argument --eval-every: expected an integer >= 1, got -5"),
        (["sample", "m", "--num-clips", "x"], "argument --num-clips: expected an integer >= 1, got 'x'"),
        (["train", "--set", "steps=abc"], "TrainConfig.steps must be an integer, got 'abc'"),
        (["train", "--set", "steps=2.5"], "TrainConfig.steps must be an integer, got 2.5"),
        (
            ["distill", "--set", "mixed_share=high"],
            "DistillConfig.mixed_share must be a finite number, got 'high'",
        ),
        (["train", "--policy", "kappa_max=NaN"], "TimestepPolicy.kappa_max must be a finite number, got nan"),
    ],
)
def test_bad_numbers_on_the_command_line_are_refused_before_any_work(argv, expected, tmp_path, capsys):
    """Exit code 2 and the field or flag named; nothing is written (run in an empty folder)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        try:
            code = main([*argv, "--no-progress"])
        except SystemExit as exit_:  # argparse's own refusals
            code = exit_.code
    assert code == 2 and expected in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _train_command(out, eval_every: int) -> list[str]:
    return [
        "-m", "tqd_lite", "train", "--data", str(DATA / "sample"), "--out", str(out),
        "--set", "steps=4", "--set", "batch_size=4", "--eval-every", str(eval_every), "--eval-clips", "2",
        "--no-progress",
    ]  # fmt: skip


def test_two_processes_train_the_weights_one_process_does_and_resume_exactly(tmp_path):
    """The README's multi-process route for real: `accelerate launch --multi_gpu --num_processes 2`
    on CPU (ACCELERATE_USE_CPU=1: gloo), each process taking half of every global batch and
    resuming from the step-2 checkpoint halfway, against one process training straight through.
    DDP averages the two halves' gradients in another order than one process sums the batch, so
    the weights agree up to rounding that Adam amplifies, not bit for bit: the test bounds their
    distance by 1% of the distance the weights travel (taking the same half twice fails it)."""
    import os

    from tqd_lite.diffusion.model import build_model

    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "TQD_PROFILE": "quick"}
    one = subprocess.run([sys.executable, *_train_command(tmp_path / "one", 4)], env=env, capture_output=True)
    assert one.returncode == 0, one.stderr[-2000:]
    launch = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
    ]  # fmt: skip
    two = subprocess.run(
        [*launch, *_train_command(tmp_path / "two", 2)], env=env, capture_output=True, text=True
    )
    assert two.returncode == 0, two.stderr[-2000:]
    preset = get_profile("quick").model_preset
    assert two.stdout.count(f"trained {preset} on set_c") == 2  # both processes ran
    a, b = (
        torch.load(tmp_path / run / "checkpoint.pt", weights_only=True)["model"] for run in ("one", "two")
    )
    torch.manual_seed(0)  # train()'s initial weights
    start = build_model(preset).state_dict()
    # how far the weights moved, and how far the two runs are apart, over all parameters
    moved = sum((a[name] - start[name]).pow(2).sum() for name in a).sqrt()
    apart = sum((a[name] - b[name]).pow(2).sum() for name in a).sqrt()
    assert apart < 0.01 * moved, f"the runs are {apart:.3g} apart after moving {moved:.3g}"


def test_targets_curve_measures_each_kept_evaluation_against_the_targets(tmp_path, capsys):
    from tqd_lite.diffusion.training_run import samples_path, save_samples
    from tqd_lite.quality.sanity import golden_renders
    from tqd_lite.world import failures

    golden = golden_renders(32, size=16, num_frames=8, seed=3)  # (32, 3, 8, 16, 16)
    save_samples(
        failures.uniform_noise(tuple(golden.shape), torch.Generator().manual_seed(0)),
        samples_path(tmp_path, 0),
    )
    save_samples(golden, samples_path(tmp_path, 500))
    evaluations = {"run_key": {"split": "set_c"}, "evaluations": [{"step": 0}, {"step": 500}]}
    (tmp_path / "evaluations.json").write_text(json.dumps(evaluations))
    assert main(["targets-curve", str(tmp_path), "--no-progress"]) == 0
    curve = json.loads((tmp_path / "targets_curve.json").read_text())["curve"]
    assert [point["step"] for point in curve] == [0, 500]
    missed = [name for name, target in curve[0]["targets"].items() if not target["passed"]]
    assert missed == ["sprites", "flicker", "motion", "distance"]  # noise misses every one
    assert all(target["passed"] for target in curve[1]["targets"].values())  # golden renders
    out = capsys.readouterr().out
    assert "simple world, quick profile's targets; step 500:" in out  # a set_c run: the pool's world
    assert (tmp_path / "targets_curve.png").is_file()
    assert main(["targets-curve", str(tmp_path / "elsewhere")]) == 2
    assert "elsewhere is not a training run folder (no evaluations.json)" in capsys.readouterr().err


def test_sample_judges_a_model_by_its_own_clip_size_and_records_that_profile(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TQD_PROFILE", "full")  # the session's default: 32 px; the model is 16 px
    model = str(DATA / "models" / "golden_quick")
    argv = ["sample", model, "--num-clips", "96", "--steps", "1", "--targets", "simple", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "targets.json").read_text())
    assert result["provenance"]["profile"] == "quick"  # was the session's "full" before the fix
    assert json.loads((tmp_path / "samples.json").read_text())["provenance"]["profile"] == "quick"
    bound = result["targets"]["distance"]["bound"]
    assert bound == result["rows"]["blur 0.5"]["fd"]  # the quick profile's distance target, not full's
    assert "distance target" in capsys.readouterr().out


def test_reproduce_shows_the_committed_golden_model_against_the_targets_without_training_it(
    tmp_path, monkeypatch, capsys
):
    from tqd_lite import cli
    from tqd_lite.profiles import PROFILES
    from tqd_lite.quality import targets

    monkeypatch.setitem(PROFILES, "quick", PROFILES["quick"].with_overrides(metric_clips=16))
    monkeypatch.setattr(targets, "TARGET_SAMPLE_STEPS", 5)  # the targets' sampler, not the profile's
    monkeypatch.setenv("TQD_RESULTS_DIR", str(tmp_path))

    def no_training(*args, **kwargs):
        raise AssertionError("reproduce trained a golden model although one is committed")

    monkeypatch.setattr(cli, "_train", no_training)
    assert main(["reproduce", "golden-model", "--profile", "quick", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "the committed data/models/golden_quick (trained by `python -m tqd_lite train" in out
    result = json.loads((tmp_path / "quick" / "golden_model" / "targets.json").read_text())
    assert result["provenance"]["model"] == "data/models/golden_quick"
    assert result["provenance"]["sample_steps"] == 5
    assert set(result["targets"]) == {"sprites", "flicker", "motion", "distance"}
    assert (tmp_path / "quick" / "golden_model" / "targets.png").is_file()
    with pytest.raises(AssertionError, match="trained a golden model"):
        main(["reproduce", "golden-model", "--profile", "quick", "--retrain", "--no-progress"])
