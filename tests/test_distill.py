"""MCM distillation: the data sources, the discriminator, the distiller's switches, resuming, sampling."""

import numpy as np
import pytest
import torch

from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.noise import from_model_range, make_noise_scheduler
from tqd_lite.diffusion.pipeline import VideoPipeline
from tqd_lite.diffusion.train import ClipBank
from tqd_lite.mcm.consistency import lcm_scheduler, solver_timesteps
from tqd_lite.mcm.data import frame_frechet_distance, frames_as_still_clips, high_quality_images, scene_class
from tqd_lite.mcm.discriminator import (
    FrameDiscriminator,
    diff_augment,
    discriminator_hinge_loss,
    generator_hinge_loss,
    random_frames,
)
from tqd_lite.mcm.distill import (
    CHECKPOINT_FILE,
    DistillConfig,
    Distiller,
    check_compatible,
    distill,
    make_batch,
    mixed_trajectory,
    model_config,
)
from tqd_lite.quality.scores import visual_score
from tqd_lite.world import render as world
from tqd_lite.world.degrade import degrade

SCHEDULER = make_noise_scheduler("v_prediction")


def student_samples(student, **kwargs):
    """Few-step samples through the one pipeline, with MCM's LCMScheduler (timestep_scaling 4)."""
    pipe = VideoPipeline(unet=student, scheduler=lcm_scheduler(SCHEDULER))
    return pipe(num_frames=8, size=16, progress=False, **kwargs).clips


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    return build_model("tiny", num_classes=2)


@pytest.fixture(scope="module")
def bank():
    g = torch.Generator().manual_seed(0)
    return ClipBank.from_float(torch.rand(12, 3, 8, 16, 16, generator=g), labels=torch.tensor([0, 1] * 6))


def test_scene_class_replays_the_renderers_sprite_count(monkeypatch):
    drawn = []
    real_rng = np.random.default_rng

    class Recording:
        def __init__(self, seed):
            self.rng = real_rng(seed)

        def __getattr__(self, name):
            return getattr(self.rng, name)

        def integers(self, *args, **kwargs):
            value = self.rng.integers(*args, **kwargs)
            drawn.append(int(value))
            return value

    monkeypatch.setattr(world.np.random, "default_rng", Recording)
    for seed in range(40):
        drawn.clear()
        world.render_sharp(world.ClipSpec(seed=seed))
        assert scene_class(seed) == drawn[0] - 1  # the first integer drawn is the sprite count
    monkeypatch.undo()
    assert {scene_class(s) for s in range(40)} == {0, 1}


def test_high_quality_images_are_sharp_labelled_frames():
    images, labels = high_quality_images(6, 16, 8, seed=3)
    assert images.shape == (6, 3, 16, 16) and labels.shape == (6,)
    assert set(labels.tolist()) <= {0, 1}
    still = frames_as_still_clips(images, 8)
    assert torch.equal(still[:, :, 0], still[:, :, -1])
    blurred = torch.nn.functional.avg_pool2d(images, 3, stride=1, padding=1, count_include_pad=False)
    assert (visual_score(still) > visual_score(frames_as_still_clips(blurred, 8))).all()
    with pytest.raises(ValueError, match="num_images must be >= 1"):
        high_quality_images(0, 16, 8)


def test_hinge_losses_on_known_logits():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.0])
    # real: relu(1 - [2, .5, -1]) = [0, .5, 2] -> 2.5/3; fake: relu(1 + [-2, 0, 1]) = [0, 1, 2] -> 1
    assert discriminator_hinge_loss(real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert discriminator_hinge_loss(torch.ones(4), -torch.ones(4)).item() == 0.0  # margins met
    assert generator_hinge_loss(fake).item() == pytest.approx(1.0 / 3)


def test_the_discriminator_sees_random_distinct_frames_and_augmentations_keep_gradients():
    clips = torch.arange(2 * 8, dtype=torch.float32).view(2, 1, 8, 1, 1).expand(2, 3, 8, 4, 4)
    frames = random_frames(clips, 2, torch.Generator().manual_seed(0))
    ids = frames[:, 0, 0, 0].view(2, 2)
    assert ids[0, 0] != ids[0, 1] and (ids[0] < 8).all() and (ids[1] >= 8).all()  # from its own clip
    with pytest.raises(ValueError, match="per_clip must be in"):
        random_frames(clips, 9, torch.Generator())
    images = torch.rand(5, 3, 16, 16, requires_grad=True)
    out = diff_augment(images, torch.Generator().manual_seed(1))
    assert out.shape == images.shape
    out.sum().backward()
    assert images.grad.abs().sum() > 0
    cut = diff_augment(torch.ones(5, 3, 16, 16), torch.Generator().manual_seed(1), ("cutout",))
    assert ((cut == 0.5).flatten(1).float().mean(1) == 0.25).all()  # one mid-grey 8x8 hole of 16x16
    with pytest.raises(ValueError, match="unknown augmentations"):
        diff_augment(images, torch.Generator(), ("mixup",))
    assert FrameDiscriminator()(torch.rand(4, 3, 16, 16)).shape == (4,)


def test_mixed_trajectories_switch_never_at_zero_and_always_at_one():
    g = torch.Generator().manual_seed(0)
    assert not any(mixed_trajectory(0.0, g) for _ in range(200))
    assert all(mixed_trajectory(1.0, g) for _ in range(200))
    share = np.mean([mixed_trajectory(0.5, g) for _ in range(2000)])
    assert 0.45 < share < 0.55


def test_a_mixed_batch_starts_at_the_students_one_step_sample(teacher, bank, monkeypatch):
    images = torch.rand(8, 3, 16, 16)
    distiller = Distiller(
        teacher, SCHEDULER, DistillConfig(mixed_share=1.0, discriminator=False, batch_size=4)
    )
    seen = []
    monkeypatch.setattr(SCHEDULER, "add_noise", lambda x0, noise, t: seen.append(x0) or noise)
    batch = make_batch(bank, images, distiller.config, 0)
    expected = distiller.one_step_sample(batch.start_noise, batch.labels)  # the student before the step
    before = [p.detach().clone() for p in distiller.student.parameters()]
    distiller.step(batch)
    assert torch.allclose(seen[0], expected, atol=1e-6) and not seen[0].requires_grad
    assert not torch.allclose(seen[0], batch.x0)  # not the real clips
    # the target moved 5% of the way to the updated student (EMA 0.95 from the first step)
    for old, new, target in zip(
        before, distiller.student.parameters(), distiller.target.parameters(), strict=True
    ):
        assert torch.allclose(target, 0.95 * old + 0.05 * new.detach(), atol=1e-6)
    real = Distiller(teacher, SCHEDULER, DistillConfig(mixed_share=0.0, discriminator=False, batch_size=4))
    seen.clear()
    real.step(make_batch(bank, images, real.config, 0))
    assert torch.equal(seen[0], make_batch(bank, images, real.config, 0).x0)


def test_bad_configurations_are_refused(teacher):
    with pytest.raises(ValueError, match="unknown motion representation 'optical_flow'"):
        DistillConfig(representation="optical_flow")
    with pytest.raises(ValueError, match="DistillConfig.mixed_share is out of range"):
        DistillConfig(mixed_share=1.5)
    with pytest.raises(
        ValueError, match="teacher and student configs differ .*num_classes: teacher 2 vs student 0"
    ):
        check_compatible(model_config(teacher), model_config(build_model("tiny", num_classes=0)))
    with pytest.raises(ValueError, match="original_steps"):  # diffusers' LCMScheduler: on the 50-step grid
        student_samples(teacher, num_clips=2, num_inference_steps=64)


def test_one_lcm_step_is_the_consistency_function_at_the_last_timestep(teacher):
    labels = torch.tensor([0, 1])
    sample = student_samples(teacher, num_clips=2, num_inference_steps=1, class_labels=labels, seed=5)
    noise = torch.stack(  # the pipeline's per-clip generators
        [
            torch.randn(3, 8, 16, 16, generator=torch.Generator().manual_seed(5 * 1_000_003 + i))
            for i in range(2)
        ]
    )
    distiller = Distiller(teacher, SCHEDULER, DistillConfig(discriminator=False))
    with torch.no_grad():
        direct = distiller.consistency_function(teacher, noise, torch.full((2,), 999), labels)
    assert torch.allclose(sample, from_model_range(direct), atol=1e-5)


def _tensors(state, prefix=""):
    """Every tensor of a nested checkpoint, by path."""
    if isinstance(state, torch.Tensor):
        return {prefix: state}
    items = state.items() if isinstance(state, dict) else enumerate(state) if isinstance(state, list) else []
    found = {}
    for key, value in items:
        found |= _tensors(value, f"{prefix}/{key}")
    return found


def test_an_interrupted_distillation_resumes_exactly(teacher, bank, tmp_path):
    images = torch.rand(8, 3, 16, 16)
    config = DistillConfig(steps=5, batch_size=2, mixed_share=0.5)
    assert {make_batch(bank, images, config, s).mixed for s in range(2, 5)} == {True, False}
    distill(teacher, SCHEDULER, bank, images, config, tmp_path / "whole", progress=False)
    distill(
        teacher,
        SCHEDULER,
        bank,
        images,
        config,
        tmp_path / "cut",
        checkpoint_every=1,
        progress=False,
        stop_after=2,
    )
    resumed = distill(teacher, SCHEDULER, bank, images, config, tmp_path / "cut", progress=False)
    assert [h["step"] for h in resumed.history] == [2, 5]  # logged at the interruption and the end
    whole_state = torch.load(tmp_path / "whole" / CHECKPOINT_FILE, weights_only=True)
    cut_state = torch.load(tmp_path / "cut" / CHECKPOINT_FILE, weights_only=True)
    for part in ("student", "target_ema", "optimizer", "head", "head_ema", "discriminator", "disc_optimizer"):
        a, b = _tensors(whole_state[part]), _tensors(cut_state[part])
        assert a.keys() == b.keys() and a, part
        for key in a:
            assert torch.allclose(a[key].float(), b[key].float(), atol=1e-6), f"{part}{key}"
    assert whole_state["target_ema"]["optimization_step"] == cut_state["target_ema"]["optimization_step"] == 5
    with pytest.raises(ValueError, match="was made with another DistillConfig"):
        distill(
            teacher,
            SCHEDULER,
            bank,
            images,
            DistillConfig(steps=3, batch_size=2, mixed_share=0.0),
            tmp_path / "cut",
            progress=False,
        )
    other_teacher = build_model("tiny", num_classes=3)
    with pytest.raises(
        ValueError, match="distilled from another teacher: .*num_classes: teacher 3 vs student 2"
    ):
        distill(other_teacher, SCHEDULER, bank, images, config, tmp_path / "cut", progress=False)
    with pytest.raises(ValueError, match="the teacher is on cpu; move it to meta first"):
        distill(teacher, SCHEDULER, bank, images, config, device="meta", progress=False)


def test_the_frame_distance_orders_sharp_noisy_and_blurred_frames():
    images, _ = high_quality_images(128, 16, 8, seed=11)
    rng = np.random.default_rng(5)
    sharp = torch.stack(
        [
            world.render_clip(world.ClipSpec(int(rng.integers(2**31 - 1)), 1.0, float(rng.uniform())))
            for _ in range(24)
        ]
    )
    g = torch.Generator().manual_seed(0)
    distance = {
        "sharp": frame_frechet_distance(sharp, images),
        "slightly noisy": frame_frechet_distance(
            (sharp + 0.1 * torch.randn(sharp.shape, generator=g)).clamp(0, 1), images
        ),
        "blurred": frame_frechet_distance(degrade(sharp, "blur", 0.5), images),
        "noise": frame_frechet_distance(torch.rand(sharp.shape, generator=g), images),
    }
    assert distance["sharp"] < distance["slightly noisy"] < min(distance["blurred"], distance["noise"])
    assert distance["noise"] > 10 * distance["sharp"]  # noise is not mistaken for detail


def test_few_step_sampling_stays_on_the_solver_grid_and_ignores_the_batch_size(teacher, monkeypatch):
    labels = torch.tensor([0, 1, 0])
    common = dict(num_clips=3, num_inference_steps=4, class_labels=labels, seed=2)
    whole = student_samples(teacher, batch_size=3, **common)
    chunked = student_samples(teacher, batch_size=2, **common)
    assert torch.allclose(whole, chunked, atol=1e-5)
    seen = []
    forward = teacher.forward
    monkeypatch.setattr(teacher, "forward", lambda x, t, y=None: seen.append(int(t[0])) or forward(x, t, y))
    student_samples(teacher, num_clips=1, num_inference_steps=4, seed=2)
    assert seen[0] == 999 and len(seen) == 4 and set(seen) <= set(solver_timesteps().tolist())
