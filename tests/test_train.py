"""The training loop: a step learns, resume is exact, pluggable samplers, checkpoints, bad input."""

import dataclasses
import json
import math

import pytest
import torch
from accelerate.state import AcceleratorState
from diffusers.optimization import get_scheduler

from tqd_lite.diffusion.checkpoints import export_weights, load_denoiser, load_pipeline, training_config_of
from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.noise import make_noise_scheduler, min_snr_weights, to_model_range
from tqd_lite.diffusion.pipeline import ddim_scheduler
from tqd_lite.diffusion.train import (
    CHECKPOINT_FILE,
    UNIFORM,
    ClipBank,
    LogitNormalTimesteps,
    TrainConfig,
    default_mixed_precision,
    diffusion_loss,
    make_batch,
    make_lr_scheduler,
    train,
)
from tqd_lite.quality.dataset import VideoClipDataset
from tqd_lite.tqd.sampler import TimestepPolicy
from tqd_lite.world.video_io import VideoReadError

FAST = TrainConfig(preset="tiny", steps=6, batch_size=2, warmup_steps=0, seed=3)


@pytest.fixture(scope="module")
def bank(golden_and_heldout):
    golden, _ = golden_and_heldout
    return ClipBank.from_float(golden[:12], mq=torch.linspace(0, 1, 12), vq=torch.linspace(1, 0, 12))


def test_one_step_reduces_the_loss_on_a_fixed_batch(bank):
    torch.manual_seed(0)
    model = build_model("tiny")
    scheduler = make_noise_scheduler("v_prediction")
    config = dataclasses.replace(FAST, batch_size=8)
    batch = make_batch(bank, config, 0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = diffusion_loss(model, scheduler, batch)
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after = diffusion_loss(model, scheduler, batch)
    assert after < before


def test_a_killed_and_resumed_run_ends_with_the_same_weights(bank, tmp_path):
    common = dict(checkpoint_every=3, log_every=1, progress=False)
    whole = train(FAST, bank, tmp_path / "whole", **common)

    calls = []

    def killed_at_step_5(mq, vq, generator):  # the process dies during step 5 (0-based: 4)
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return UNIFORM(mq, vq, generator)

    killed_at_step_5.to_dict = UNIFORM.to_dict  # the checkpoint records it as the uniform policy

    with pytest.raises(KeyboardInterrupt):
        train(FAST, bank, tmp_path / "split", policy=killed_at_step_5, **common)
    assert torch.load(tmp_path / "split" / CHECKPOINT_FILE, weights_only=True)["step"] == 3
    resumed = train(FAST, bank, tmp_path / "split", **common)  # steps 3..5 again
    assert resumed.history == whole.history
    resumed_weights = resumed.model.state_dict()
    for name, weight in whole.model.state_dict().items():
        assert torch.equal(weight, resumed_weights[name]), name  # the EMA weights
    raw_whole = torch.load(tmp_path / "whole" / CHECKPOINT_FILE, weights_only=True)["model"]
    raw_split = torch.load(tmp_path / "split" / CHECKPOINT_FILE, weights_only=True)["model"]
    assert all(torch.equal(raw_whole[k], raw_split[k]) for k in raw_whole)  # the raw weights


@pytest.mark.parametrize(("asked", "expected"), [(None, "no"), ("bf16", "bf16"), ("no", "no")])
def test_a_cpu_trains_in_fp32_unless_bf16_is_asked_for(monkeypatch, asked, expected):
    """Even on a CPU with bf16 units (the overfit test fails under bf16); ``accelerate launch
    --mixed_precision`` (its environment variable) decides where given."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION", raising=False)
    if asked is not None:
        monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", asked)
    assert default_mixed_precision() == expected


def test_bf16_autocast_changes_the_arithmetic_not_what_is_learned(bank):
    """bf16 on the CPU really runs (the losses differ from fp32's by rounding) and stays near fp32."""
    results = {}
    for precision in ("no", "bf16"):  # accelerate fixes the precision once per process: reset it
        AcceleratorState._reset_state(reset_partial_state=True)
        results[precision] = train(FAST, bank, progress=False, log_every=1, mixed_precision=precision)
    AcceleratorState._reset_state(reset_partial_state=True)  # the next test picks its own default
    fp32, bf16 = results["no"], results["bf16"]
    assert (fp32.mixed_precision, bf16.mixed_precision) == ("no", "bf16")
    losses = torch.tensor([[h["loss"] for h in r.history] for r in (fp32, bf16)])  # (2, steps)
    assert (losses[0] != losses[1]).any()
    assert torch.allclose(losses[0], losses[1], rtol=0.05), losses
    assert all(p.dtype == torch.float32 for p in bf16.model.parameters())  # autocast: fp32 weights


def test_frame_steps_learn_on_single_frames_of_the_clips_first(bank):
    """Image pretraining: before frame_steps a batch is B * F frames of bank clips, then B clips."""
    config = dataclasses.replace(FAST, frame_steps=3)
    num_frames, size = bank.clip_shape[0], bank.clip_shape[1]
    frames, clips = make_batch(bank, config, 2)["x0"], make_batch(bank, config, 3)["x0"]
    assert frames.shape == (FAST.batch_size * num_frames, 3, 1, size, size)
    assert clips.shape == (FAST.batch_size, 3, num_frames, size, size)
    every_frame = to_model_range(bank.float_clips(torch.arange(len(bank)))).transpose(1, 2).flatten(0, 1)
    gap = (frames[:, None, :, 0] - every_frame[None]).abs().amax(dim=(2, 3, 4))  # (images, bank frames)
    assert (gap.min(dim=1).values == 0).all()  # each image is a frame of the bank
    assert len(set(gap.argmin(dim=1).remainder(num_frames).tolist())) > 1  # not always the same frame
    result = train(config, bank, progress=False, log_every=1)  # then trains on whole clips
    assert len(result.history) == FAST.steps
    with pytest.raises(ValueError, match="frame_steps"):
        dataclasses.replace(FAST, frame_steps=FAST.steps + 1)


def test_a_temporal_clip_stage_trains_only_the_temporal_layers_after_the_frames(bank, tmp_path):
    from tqd_lite.diffusion.model import parameter_groups

    config = dataclasses.replace(FAST, frame_steps=3, clip_stage_layers="temporal")
    common = dict(checkpoint_every=3, progress=False)
    train(config, bank, tmp_path, stop_after=3, **common)
    after_frames = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)["model"]
    result = train(config, bank, tmp_path, **common)
    after_clips = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)["model"]
    groups = parameter_groups(result.model)
    assert groups["temporal"] and groups["spatial"] and groups["embedding"]
    changed = {name for name in after_frames if not torch.equal(after_frames[name], after_clips[name])}
    parameters = set(groups["temporal"]) | set(groups["spatial"]) | set(groups["embedding"])
    assert changed & parameters == set(groups["temporal"])  # every temporal weight learned, nothing else


def test_resuming_with_another_config_is_refused(bank, tmp_path):
    train(FAST, bank, tmp_path, progress=False, stop_after=1)
    with pytest.raises(ValueError, match="another training configuration.*learning_rate"):
        train(dataclasses.replace(FAST, learning_rate=1e-4), bank, tmp_path, progress=False)
    with pytest.raises(ValueError, match="another training configuration.*timestep_policy"):
        train(FAST, bank, tmp_path, policy=TimestepPolicy(sampler="tqd"), progress=False)


@pytest.mark.parametrize(("schedule", "last_lr"), [("constant", 1e-3), ("cosine", 0.0)])
def test_the_learning_rate_schedule_after_warm_up(bank, tmp_path, schedule, last_lr):
    """Cosine decays from the peak to 0 at ``steps`` (diffusers' get_scheduler); constant holds it."""
    config = dataclasses.replace(FAST, steps=4, warmup_steps=1, learning_rate=1e-3, lr_schedule=schedule)
    train(config, bank, tmp_path, progress=False)
    state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
    assert state["lr_scheduler"]["_last_lr"][0] == pytest.approx(last_lr, abs=1e-12)


def _warm_cosine(step: int, warmup: int, length: int) -> float:
    """A linear warm-up to 1, then half a cosine period down to 0 at ``length``."""
    if step < warmup:
        return step / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (length - warmup)))


PER_STAGE = dataclasses.replace(
    FAST, steps=30, frame_steps=12, warmup_steps=3, learning_rate=1e-3, lr_schedule="cosine_per_stage"
)


def _sgd(lr: float) -> torch.optim.SGD:
    """An optimizer of one parameter, for schedulers to act on."""
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _rates(config: TrainConfig, steps: range, state: dict | None = None) -> tuple[list[float], dict]:
    """The learning rates over ``steps`` (resumed from ``state`` if given), and the state after."""
    optimizer = _sgd(config.learning_rate)
    scheduler = make_lr_scheduler(optimizer, config)
    if state is not None:  # as train() resumes from a checkpoint
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
    rates = []
    for _ in steps:
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates, {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}


def test_the_per_stage_cosine_restarts_its_warm_up_and_decay_when_the_clips_begin():
    rates, _ = _rates(PER_STAGE, range(30))
    frames = [_warm_cosine(s, 3, 12) for s in range(12)]
    clips = [_warm_cosine(s, 3, 18) for s in range(18)]
    assert rates == pytest.approx([1e-3 * m for m in frames + clips], abs=1e-12)
    assert rates[11] < 1e-4 and rates[12] == 0 and rates[15] == pytest.approx(1e-3)  # the restart
    # each stage is diffusers' own cosine with warm-up over that stage's steps
    for length, stage in ((12, rates[:12]), (18, rates[12:])):
        diffusers_cosine = get_scheduler("cosine", _sgd(1e-3), num_warmup_steps=3, num_training_steps=length)
        assert stage == pytest.approx([1e-3 * diffusers_cosine.lr_lambdas[0](s) for s in range(length)])


def test_the_per_stage_cosine_resumes_exactly_from_its_saved_state():
    whole, _ = _rates(PER_STAGE, range(30))
    first, state = _rates(PER_STAGE, range(14))
    rest, _ = _rates(PER_STAGE, range(14, 30), state)
    assert first + rest == whole


def test_the_per_stage_cosine_without_a_frame_stage_is_diffusers_cosine():
    config = dataclasses.replace(
        FAST, steps=20, warmup_steps=2, learning_rate=1.0, lr_schedule="cosine_per_stage"
    )
    diffusers_cosine = get_scheduler("cosine", _sgd(1.0), num_warmup_steps=2, num_training_steps=20)
    assert _rates(config, range(20))[0] == [diffusers_cosine.lr_lambdas[0](s) for s in range(20)]


def test_a_checkpoint_from_before_the_lr_schedule_resumes_as_constant(bank, tmp_path):
    train(FAST, bank, tmp_path, progress=False, stop_after=2)
    state = torch.load(tmp_path / CHECKPOINT_FILE, weights_only=True)
    del state["train_config"]["lr_schedule"]
    torch.save(state, tmp_path / CHECKPOINT_FILE)
    assert train(FAST, bank, tmp_path, progress=False).history[-1]["step"] == FAST.steps


def test_the_timestep_policy_is_pluggable(bank):
    seen = {}

    def late_and_dropped(mq, vq, generator):
        seen["mq"] = mq
        return torch.full(mq.shape, 900), torch.zeros(mq.shape)

    batch = make_batch(bank, FAST, 5, late_and_dropped)
    assert torch.equal(batch["timesteps"], torch.tensor([900, 900]))
    index = torch.randint(
        0, len(bank), (2,), generator=torch.Generator().manual_seed(FAST.seed * 1_000_003 + 5)
    )
    assert torch.equal(seen["mq"], bank.mq[index])  # the sampler sees each drawn clip's scores
    loss = diffusion_loss(build_model("tiny"), make_noise_scheduler(), batch)
    assert loss.item() == 0.0


def test_the_recipes_logit_normal_timesteps_are_tqds_logit_normal_draws_seed_for_seed(bank):
    """diffusion may not import tqd, so the recipe's draw is its own class; it must be the same draw."""
    ours, tqds = LogitNormalTimesteps(logit_mean=1.5), TimestepPolicy(sampler="logit_normal", logit_mean=1.5)
    mq = vq = torch.full((4096,), float("nan"))  # renders are unscored; neither draw reads the scores
    (t, w), (t_tqd, w_tqd) = (p(mq, vq, torch.Generator().manual_seed(7)) for p in (ours, tqds))
    assert torch.equal(t, t_tqd) and torch.equal(w, w_tqd) and torch.equal(w, torch.ones(4096))
    # logit(t / T) ~ N(1.5, 1): the median timestep is T sigmoid(1.5) = 817.6 (floor: 817)
    assert abs(t.double().median().item() - 817) < 15


def test_a_config_with_a_timestep_density_draws_from_it_and_refuses_a_second_policy(bank, tmp_path):
    recipe = dataclasses.replace(FAST, timestep_logit_mean=1.5)
    drawn = make_batch(bank, recipe, 5)["timesteps"]
    assert torch.equal(drawn, make_batch(bank, FAST, 5, LogitNormalTimesteps(logit_mean=1.5))["timesteps"])
    assert not torch.equal(drawn, make_batch(bank, FAST, 5)["timesteps"])  # uniform without it
    with pytest.raises(ValueError, match="timestep_logit_mean=1.5 draws the timesteps"):
        train(recipe, bank, tmp_path, policy=UNIFORM, progress=False)


def test_a_sampler_outside_the_schedule_is_an_error(bank):
    with pytest.raises(ValueError, match=r"timestep policy must return 2 integers in \[0, 1000\)"):
        make_batch(bank, FAST, 0, lambda mq, vq, g: (torch.full(mq.shape, 1000), torch.ones(mq.shape)))
    with pytest.raises(ValueError, match="must return 2 loss weights"):
        make_batch(bank, FAST, 0, lambda mq, vq, g: (torch.zeros(mq.shape), torch.ones(3)))


@pytest.mark.parametrize("shift", [0.25, 16.0])
def test_a_shifted_schedule_multiplies_the_snr_at_every_timestep(shift):
    base, shifted = make_noise_scheduler(), make_noise_scheduler(snr_shift=shift)
    snr_base, snr = (s.alphas_cumprod / (1 - s.alphas_cumprod) for s in (base, shifted))
    # SNR'(t) = s SNR(t); the first ten t are left out, where float32 abar is within 1e-3 of 1
    assert torch.allclose(snr[10:] / snr_base[10:], torch.tensor(shift), rtol=2e-3)
    assert shifted.config.trained_betas is not None and base.config.trained_betas is None
    assert ddim_scheduler(shifted).alphas_cumprod.equal(shifted.alphas_cumprod)  # sampling follows it
    with pytest.raises(ValueError, match="snr_shift must be > 0"):
        make_noise_scheduler(snr_shift=0.0)


@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon"])
def test_min_snr_weights_match_the_closed_form(prediction_type):
    scheduler = make_noise_scheduler(prediction_type)
    abar = scheduler.alphas_cumprod
    t = torch.tensor([0, 300, 700, 999])
    snr = abar[t] / (1 - abar[t])
    offset = 1 if prediction_type == "v_prediction" else 0
    expected = torch.minimum(snr, torch.tensor(5.0)) / (snr + offset)
    assert torch.allclose(min_snr_weights(scheduler, t, gamma=5.0), expected)
    if prediction_type == "v_prediction":  # low noise weighs ~gamma / SNR, high noise ~SNR
        assert expected[0] < 0.01 and float(expected[-1]) == pytest.approx(float(snr[-1]), rel=1e-3)


def test_class_labels_and_null_dropout(golden_and_heldout):
    golden, _ = golden_and_heldout
    labelled = ClipBank.from_float(golden[:8], labels=torch.tensor([0, 1] * 4))
    config = dataclasses.replace(FAST, num_classes=2, class_dropout=0.5, batch_size=64)
    labels = make_batch(labelled, config, 0)["labels"]
    assert set(labels.tolist()) == {0, 1, 2} and 0.3 < (labels == 2).float().mean() < 0.7
    with pytest.raises(ValueError, match="labels but TrainConfig.num_classes is 0"):
        train(FAST, labelled, progress=False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("steps", 0),
        ("learning_rate", -1.0),
        ("class_dropout", 2.0),
        ("ema_max_decay", 1.0),
        ("lr_schedule", "linear-ish"),
    ],
)
def test_out_of_range_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} is out of range"):
        TrainConfig(**{field: value})


def test_unknown_preset_in_config_is_an_error():
    with pytest.raises(ValueError, match="unknown model preset 'giant'"):
        TrainConfig(preset="giant")


def test_checkpoint_of_another_preset_is_refused(bank, tmp_path):
    train(dataclasses.replace(FAST, steps=1), bank, tmp_path, progress=False)
    path = tmp_path / CHECKPOINT_FILE
    assert load_denoiser(path, preset="tiny").config.num_classes == 0
    with pytest.raises(ValueError, match="holds a 'tiny' model, not the 'small' preset"):
        load_denoiser(path, preset="small")
    state = torch.load(path, weights_only=True)
    state["model_config"]["preset"] = "small"  # a tiny model's weights labelled small
    torch.save(state, tmp_path / "relabelled.pt")
    with pytest.raises(ValueError, match="weights do not fit the 'small' preset"):
        load_denoiser(tmp_path / "relabelled.pt")
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_denoiser(tmp_path / "missing.pt")


def test_exported_weights_are_a_small_model_folder_that_from_pretrained_loads(bank, tmp_path):
    result = train(dataclasses.replace(FAST, steps=2), bank, tmp_path, progress=False)
    out = export_weights(
        tmp_path / CHECKPOINT_FILE, tmp_path / "model", {"command": "test"}, clip_shape=(8, 16)
    )
    weights = out / "unet" / "diffusion_pytorch_model.safetensors"
    assert weights.stat().st_size < (tmp_path / CHECKPOINT_FILE).stat().st_size / 4  # fp16, no optimiser
    loaded = load_denoiser(out, preset="tiny")
    for a, b in zip(loaded.state_dict().values(), result.model.state_dict().values(), strict=True):
        assert torch.equal(a, b.half().float())  # exactly the fp16-rounded EMA weights, as fp32
    assert loaded.config.sample_size == 16 and loaded.config.num_frames == 8
    assert json.loads((out / "provenance.json").read_text())["provenance"] == {"command": "test"}
    assert training_config_of(out) == dataclasses.replace(FAST, steps=2)
    with pytest.raises(ValueError, match="holds the EMA weights only"):
        load_denoiser(out, use_ema=False)
    assert not (tmp_path / "model.tmp").exists()  # written aside, then moved into place


def test_a_model_trained_with_correlated_frame_noise_samples_from_that_prior_once_exported(bank, tmp_path):
    config = dataclasses.replace(FAST, steps=1, noise_correlation=0.5)
    train(config, bank, tmp_path, progress=False)
    out = export_weights(
        tmp_path / CHECKPOINT_FILE, tmp_path / "model", {"command": "test"}, clip_shape=(8, 16)
    )
    assert json.loads((out / "model_index.json").read_text())["noise_correlation"] == 0.5
    for path in (out, tmp_path / CHECKPOINT_FILE):  # the folder, and the checkpoint it came from
        pipe = load_pipeline(path)
        assert pipe.config.noise_correlation == 0.5
        first = pipe(num_clips=1, num_inference_steps=1, progress=False).clips
        plain = pipe(num_clips=1, num_inference_steps=1, noise_correlation=0.0, progress=False).clips
        assert not torch.equal(first, plain)  # the default is the recorded prior, not 0
        assert torch.equal(
            first, pipe(num_clips=1, num_inference_steps=1, noise_correlation=0.5, progress=False).clips
        )
    index = json.loads((out / "model_index.json").read_text())
    (out / "model_index.json").write_text(json.dumps({**index, "noise_correlation": 1.5}))
    with pytest.raises(
        ValueError, match=r"model_index.json: noise_correlation is 1.5, expected a number in \[0, 1\)"
    ):
        load_pipeline(out)


def test_clip_bank_checks_its_input():
    with pytest.raises(ValueError, match="uint8"):
        ClipBank(torch.zeros(2, 3, 8, 16, 16), torch.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="mq has 3 entries for 2 clips"):
        ClipBank(torch.zeros(2, 3, 8, 16, 16, dtype=torch.uint8), torch.zeros(3), torch.zeros(2))


def test_a_folder_of_wrong_size_clips_is_a_clear_error(video_folder):
    folder, _ = video_folder  # 16x16 clips
    expected = r"(?s)no readable clips.*wrong frame size: 16x16 \(HxW\), expected 32x32"
    with pytest.raises(ValueError, match=expected):
        VideoClipDataset.from_folder(folder, num_frames=8, size=32)
    files = sorted(folder.glob("*.mp4"))
    with pytest.raises(VideoReadError, match="wrong frame size: 16x16 .HxW., expected 32x32"):
        ClipBank.from_dataset(VideoClipDataset(files, 8, 32), progress=False)


class _Marker:
    """An object whose unpickling would write a file: what a crafted checkpoint could do."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_crafted_or_broken_checkpoint_is_refused_without_running_code(tmp_path):
    import pickle

    crafted = tmp_path / "crafted.pt"
    crafted.write_bytes(pickle.dumps({"model_config": _Marker(str(tmp_path / "ran"))}))
    with pytest.raises(ValueError, match=f"{crafted} is not a readable tqd-lite checkpoint"):
        load_denoiser(crafted)
    assert not (tmp_path / "ran").exists()  # weights_only=True: nothing was called
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=f"{broken} is not a readable tqd-lite checkpoint"):
        training_config_of(broken)


def test_the_committed_teacher_is_recognised_as_made_by_the_teacher_config():
    """ensure_teacher must not retrain the committed teacher: its record is the teacher config,
    which is the quick pool's golden-model recipe with the scene classes."""
    from tqd_lite.diffusion.checkpoints import model_provenance
    from tqd_lite.diffusion.train import recorded_train_config
    from tqd_lite.mcm.data import NUM_SCENE_CLASSES
    from tqd_lite.mcm.experiments import teacher_config, teacher_path
    from tqd_lite.profiles import get_profile

    pool = get_profile("quick")
    record = model_provenance(teacher_path(pool))["train_config"]
    assert recorded_train_config(record) == teacher_config(pool).to_dict()
    assert record["preset"] == pool.model_preset and record["num_classes"] == NUM_SCENE_CLASSES
