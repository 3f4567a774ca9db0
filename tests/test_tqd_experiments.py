"""TQD's experiment runner: seed-paired comparisons, verdicts, resumable runs, the result files."""

import json

import numpy as np
import pytest
from scipy import stats

from tqd_lite.cli import main
from tqd_lite.profiles import get_profile
from tqd_lite.tqd import experiments as tqd_experiments
from tqd_lite.tqd.experiments import (
    ARMS,
    policy_on_corpus,
    run_experiments,
    samples_figure,
    select_arms,
    summary_settings,
)
from tqd_lite.tqd.report import (
    COMPARISONS,
    METRICS,
    QUESTIONS,
    SUMMARY_FILE,
    answers,
    load_summary,
    markdown_table,
    paper_side_by_side,
    summarise,
)

QUICK = get_profile("quick")
TINY = QUICK.with_overrides(tqd_steps=2, tqd_eval_clips=4, tqd_seeds=(0, 1), tqd_variant_seeds=(1,))


def synthetic_runs(fd_baseline, fd_tqd):
    def metrics(fd):
        same = {m: 0.5 for m in METRICS if m != "fd"}  # the same in every run and arm
        return {**same, "fd": fd, "train_seconds": 10.0}

    return {
        "set_a/baseline": {s: metrics(v) for s, v in enumerate(fd_baseline)},
        "set_a/tqd": {s: metrics(v) for s, v in enumerate(fd_tqd)},
    }


def test_comparisons_are_seed_paired_differences_with_a_student_t_interval():
    runs = synthetic_runs([10.0, 12.0, 14.0], [9.0, 10.9, 13.1])  # TQD lower by 1, 1.1, 0.9
    summary = summarise(runs, summary_settings(QUICK.with_overrides(tqd_seeds=(0, 1, 2))), {})
    (comparison,) = summary["comparisons"]
    assert comparison["name"] == "TQD vs baseline, Set-A"
    fd = comparison["fd"]
    half = stats.t.ppf(0.975, 2) * np.std([-1.0, -1.1, -0.9], ddof=1) / np.sqrt(3)
    assert fd["difference"] == pytest.approx(-1.0) and fd["ci95"] == pytest.approx(half)
    assert fd["p"] == pytest.approx(stats.ttest_rel([9.0, 10.9, 13.1], [10.0, 12.0, 14.0]).pvalue)
    # the other metrics do not differ at all (p 1), so FD's is the smallest of as many p-values
    assert fd["q"] == pytest.approx(fd["p"] * len(summary["metrics"]))
    assert fd["verdict"] == "better"  # lower Fréchet distance, q < 0.05
    assert comparison["judge_motion"]["verdict"] == "no clear difference"  # identical values
    # unpaired, the same numbers would overlap: the baseline's spread (2) dwarfs the effect
    assert summary["arms"]["set_a/baseline"]["fd"]["ci95"] > 1.0


def test_every_question_names_known_comparisons():
    names = {name for name, _, _ in COMPARISONS}
    assert all(set(asked) <= names for _, asked in QUESTIONS)
    arms = {a.key for a in ARMS}
    assert all({treated, reference} <= arms for _, treated, reference in COMPARISONS)
    summary = summarise(synthetic_runs([10.0, 12.0], [9.0, 11.2]), summary_settings(QUICK), {})
    lines = answers(summary)
    assert lines[1].startswith("  TQD vs baseline, Set-A: FD no clear difference, KID no clear difference")
    assert "  TQD vs baseline, Set-B: not run yet" in lines


def test_arms_and_groups():
    assert [a.key for a in select_arms(("main",))] == [
        f"{split}/{name}" for split in ("set_a", "set_b", "set_c") for name in ("baseline", "tqd")
    ]
    assert len({a.key for a in ARMS}) == len(ARMS)
    with pytest.raises(ValueError, match=r"unknown TQD experiment group\(s\) \['mains'\]"):
        select_arms(("mains",))


def test_policy_on_corpus_sends_motion_rich_clips_to_high_noise():
    rng = np.random.default_rng(0)
    table = {
        "mq": np.r_[rng.uniform(0.8, 1, 50), rng.uniform(0, 0.2, 50)],
        "vq": np.r_[rng.uniform(0, 0.2, 50), rng.uniform(0.8, 1, 50)],
        "category": np.array(["motion_rich"] * 50 + ["visual_rich"] * 50),
    }
    rows = policy_on_corpus(table, tqd_experiments.TQD)
    assert rows["motion_rich"]["mean_level"] > 0.8 > 0.2 > rows["visual_rich"]["mean_level"]
    assert rows["motion_rich"]["clips"] == 50 and rows["golden"]["clips"] == 0
    assert rows["motion_rich"]["kept"] == pytest.approx(np.mean(table["mq"][:50]), abs=0.05)


def test_a_miniature_reproduction_writes_results_and_skips_finished_runs(tmp_path, monkeypatch):
    summary = run_experiments(TINY, tmp_path, groups=("reading",), progress=False)
    assert set(summary["arms"]) == {"set_a/logit_normal", "set_a/tqd_B"}
    real = summary["reference"]
    rows = {"golden renders", "blur 0.5", "blur 0.25", "set_a", "set_b", "set_c", "heldout_golden"}
    assert set(real) == rows
    assert all(row["num_clips"] == TINY.tqd_eval_clips for row in real.values())  # as many as samples
    # measured by the suite, without the fixed-bucket loss (quick: tqd_validation_clips 0)
    assert summary["metrics"] == [m for m in METRICS if m != "fixed_bucket_loss"]
    assert summary["arms"]["set_a/tqd_B"]["seeds"] == [1]  # a variant arm: the variant seeds only
    # every run fine-tunes the one base image model, trained on frames only and kept as safetensors
    base = json.loads((tmp_path / "base" / "base.json").read_text())
    assert base["record"]["train_config"]["frame_steps"] == base["record"]["train_config"]["steps"] == 8
    assert (tmp_path / "base" / "model.safetensors").is_file()
    assert not (tmp_path / "base" / "checkpoint.pt").exists()
    names = [c["name"] for c in summary["comparisons"]]
    assert names == ["reading B vs its logit-normal base, Set-A"]
    run = json.loads((tmp_path / "runs" / "set_a-tqd_B-seed1" / "train.json").read_text())
    assert run["provenance"]["arm"] == "set_a/tqd_B" and run["provenance"]["seed"] == 1
    assert run["timestep_policy"]["reading"] == "B" and run["timestep_policy"]["dropout"] == "none"
    assert run["train_config"]["steps"] == 2 and run["train_config"]["snr_gamma"] is None  # plain v loss
    assert run["run_key"]["init"] == base["record"] and run["run_key"]["metrics"] == "suite"
    assert not (tmp_path / "runs" / "set_a-tqd_B-seed1" / "checkpoint.pt").exists()
    assert not (tmp_path / "samples.png").exists()  # drawn for the main arms only
    figure = samples_figure(tmp_path, 1, select_arms(("reading",)))
    assert len(figure.axes) == 2 * 2 * 8  # 2 arms x 2 clips, 8 frames each
    assert (tmp_path / "tqd_results.png").exists() and "| set_a/tqd_B |" in (
        tmp_path / "summary.md"
    ).read_text()
    assert load_summary(TINY, tmp_path)["arms"] == json.loads((tmp_path / SUMMARY_FILE).read_text())["arms"]

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(tqd_experiments, "run_training", no_training)
    again = run_experiments(TINY, tmp_path, groups=("reading",), progress=False)
    assert again["arms"] == summary["arms"]
    assert "not run yet" in paper_side_by_side(again) and "reading B" in markdown_table(again)


def test_unknown_groups_on_the_command_line_are_a_clear_error(capsys):
    assert main(["reproduce", "tqd", "--groups", "main,sweeps", "--no-progress"]) == 2
    assert "unknown TQD experiment group(s) ['sweeps']" in capsys.readouterr().err


def test_draw_shares_follow_the_split_under_uniform_draws_and_move_under_tqd():
    rng = np.random.default_rng(0)
    mq, vq = rng.uniform(0, 1, 400), rng.uniform(0, 1, 400)
    uniform = tqd_experiments.draw_shares(mq, vq, tqd_experiments.BASELINE)
    assert uniform["clean_half_on_sharp"] == pytest.approx(np.mean(vq >= 0.5), abs=0.03)
    assert uniform["noisy_half_on_moving"] == pytest.approx(np.mean(mq >= 0.5), abs=0.03)
    tqd = tqd_experiments.draw_shares(mq, vq, tqd_experiments.TQD)
    assert tqd["clean_half_on_sharp"] > uniform["clean_half_on_sharp"] + 0.2
    assert tqd["noisy_half_on_moving"] > uniform["noisy_half_on_moving"] + 0.2
