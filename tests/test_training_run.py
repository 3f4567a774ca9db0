"""A training run as an experiment: an interrupted run repeats no evaluation, a finished one no work."""

import dataclasses
import json

import pytest
import torch

from tqd_lite.diffusion import training_run
from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.training_run import default_config, render_run_data, run_samples, run_training
from tqd_lite.diffusion.validation import bucket_timesteps
from tqd_lite.paths import data_dir
from tqd_lite.profiles import get_profile
from tqd_lite.quality.sanity import golden_renders
from tqd_lite.tqd.sampler import TimestepPolicy

PROFILE = get_profile("quick")
# the TQD policy draws the timesteps, so not the recipe's density as well
CONFIG = default_config(PROFILE, seed=1, steps=4, batch_size=2, warmup_steps=0, timestep_logit_mean=None)
TQD = TimestepPolicy(sampler="tqd", dropout="hard")


def run(out, policy=TQD):
    return run_training(
        PROFILE,
        CONFIG,
        out,
        data=data_dir() / "sample",
        eval_every=2,
        eval_clips=4,
        policy=policy,
        progress=False,
    )


def test_an_interrupted_run_repeats_no_evaluation_and_a_finished_one_no_work(tmp_path, monkeypatch):
    steps_evaluated = []
    real_evaluate = training_run.evaluate

    def evaluate(model, config, *args, **kwargs):
        steps_evaluated.append(len(steps_evaluated))
        if len(steps_evaluated) == 3:  # killed while evaluating step 4, after its checkpoint
            raise KeyboardInterrupt
        return real_evaluate(model, config, *args, **kwargs)

    monkeypatch.setattr(training_run, "evaluate", evaluate)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path)
    assert not (tmp_path / "train.json").exists()

    steps_evaluated.clear()
    steps_evaluated.append("skip the kill")
    report = run(tmp_path)
    assert len(steps_evaluated) == 2  # only step 4 was evaluated again
    assert [e["step"] for e in report["evaluations"]] == [0, 2, 4]
    assert report["timestep_policy"] == TQD.to_dict()
    assert 0 <= report["final"]["mq"] <= 1 and 0 <= report["final"]["vq"] <= 1  # on the corpus's scale

    steps_evaluated.clear()
    assert run(tmp_path)["evaluations"] == report["evaluations"]
    assert steps_evaluated == []  # finished: read back, nothing trained or sampled

    with pytest.raises(ValueError, match="another training configuration.*timestep_policy"):
        run(tmp_path, policy=TimestepPolicy())

    # a report written before TrainConfig.timestep_logit_mean existed is still this finished run
    saved = json.loads((tmp_path / "train.json").read_text())
    del saved["run_key"]["train_config"]["timestep_logit_mean"]
    (tmp_path / "train.json").write_text(json.dumps(saved))
    steps_evaluated.clear()
    assert run(tmp_path)["evaluations"] == report["evaluations"] and steps_evaluated == []


def test_a_renders_run_trains_on_fresh_clips_of_its_world_and_is_measured_on_others(tmp_path):
    profile = PROFILE.with_overrides(metric_clips=4)
    data = render_run_data(profile, world="simple", clips=6, seed=3)
    assert data.split == "renders:simple" and data.normalisers is None
    clips = data.bank.float_clips(torch.arange(6))  # (6, 3, F, H, W), stored as uint8
    shape = {"size": 16, "num_frames": 8, "world": "simple"}
    assert torch.allclose(clips, golden_renders(6, seed=6, **shape), atol=1 / 255)
    assert not torch.allclose(
        clips, golden_renders(6, seed=6, size=16, num_frames=8, world="classic"), atol=0.1
    )
    assert data.reference.shape == (4, 3, 8, 16, 16)
    assert not torch.allclose(data.reference, clips[:4], atol=0.1)  # held out: another draw

    report = run_training(
        profile, CONFIG, tmp_path, data.split, run_data=data, eval_every=4, eval_clips=2, progress=False
    )
    assert report["split"] == "renders:simple" and report["train_clips"] == 6
    assert "mq" not in report["final"] and report["final"]["frechet_distance"] > 0  # raw scores only
    assert all(e["eval_seconds"] > 0 for e in report["evaluations"])  # counted apart from training
    assert all("fixed_bucket_loss" not in e for e in report["evaluations"])  # quick: validation_clips=0
    samples = run_samples(tmp_path)  # every evaluation's samples, kept to be measured later
    assert list(samples) == [e["step"] for e in report["evaluations"]] == [0, 4]
    assert samples[4].shape == (2, 3, 8, 16, 16)
    assert torch.equal(samples[4], (samples[4] * 255).round() / 255) and samples[4].max() <= 1
    training_run.save_samples(torch.zeros(1, 3, 8, 16, 16), training_run.samples_path(tmp_path, 2))
    assert list(run_samples(tmp_path)) == [0, 4]  # a file no evaluation of these settings made

    def must_not_render():
        raise AssertionError("a finished run rendered its clips again")

    again = run_training(
        profile,
        CONFIG,
        tmp_path,
        data.split,
        run_data=must_not_render,
        eval_every=4,
        eval_clips=2,
        progress=False,
    )
    assert again["evaluations"] == report["evaluations"]
    with pytest.raises(ValueError, match="unknown world style 'cartoon'"):
        render_run_data(profile, world="cartoon", clips=2)


def test_a_run_trained_on_correlated_frame_noise_is_evaluated_from_the_same_prior(monkeypatch):
    """A model trained with ``noise_correlation`` (PYoCo's mixed prior) must be sampled from it: its
    evaluations once started from independent frame noise whatever it was trained on."""
    from tqd_lite.diffusion import pipeline

    seen = []
    real_mixed_noise = pipeline.mixed_noise

    def mixed_noise(shape, generator, correlation):
        seen.append(correlation)
        return real_mixed_noise(shape, generator, correlation)

    monkeypatch.setattr(pipeline, "mixed_noise", mixed_noise)
    config = default_config(PROFILE, noise_correlation=0.5)
    profile = PROFILE.with_overrides(sample_steps=1)
    reference = golden_renders(2, size=PROFILE.frame_size, num_frames=PROFILE.num_frames, seed=0)
    training_run.evaluate(build_model(config.preset), config, profile, reference, num_clips=2)
    assert seen == [0.5, 0.5]


def test_an_evaluation_samples_the_profiles_eval_clips_unless_told():
    profile = PROFILE.with_overrides(eval_clips=3, metric_clips=5, sample_steps=1)
    reference = golden_renders(4, size=PROFILE.frame_size, num_frames=PROFILE.num_frames, seed=0)
    model = build_model(CONFIG.preset).eval()
    assert training_run.evaluate(model, CONFIG, profile, reference)[1].shape[0] == 3
    assert training_run.evaluate(model, CONFIG, profile, reference, 2)[1].shape[0] == 2


def test_the_fixed_bucket_loss_of_an_evaluation_depends_on_the_weights_alone():
    """Not on the run's seed, the samples drawn, or held-out clips past the profile's validation_clips."""
    profile = PROFILE.with_overrides(sample_steps=1, validation_clips=3)
    shape = {"size": PROFILE.frame_size, "num_frames": PROFILE.num_frames}
    reference = golden_renders(5, seed=0, **shape)
    model = build_model(CONFIG.preset).eval()
    first, second = (
        training_run.evaluate(model, config, profile, clips, num_clips=n)[0]
        for config, clips, n in (
            (CONFIG, reference, 2),
            (dataclasses.replace(CONFIG, seed=7), reference[:3], 3),
        )
    )
    assert first["fixed_bucket_losses"] == second["fixed_bucket_losses"]
    assert first["fixed_bucket_loss"] == sum(first["fixed_bucket_losses"]) / 10
    assert first["fixed_bucket_clips"] == 3 and first["fixed_bucket_timesteps"] == bucket_timesteps()
