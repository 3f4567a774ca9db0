"""VideoPipeline: the one sampler (DDIM for diffusion models, LCM for students), its seeding, and
the model folders that save_pretrained writes and from_pretrained reads."""

import pytest
import torch
from diffusers import LCMScheduler

from tqd_lite.diffusion.checkpoints import load_denoiser
from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.pipeline import VideoPipeline, ancestral_scheduler, clip_generators, ddim_scheduler
from tqd_lite.paths import golden_model_path
from tqd_lite.quality.scores import visual_score

SHAPE = dict(num_frames=8, size=16, num_inference_steps=3, progress=False)


@pytest.fixture(scope="module")
def pipe():
    torch.manual_seed(0)
    unet = build_model("tiny", num_classes=3).eval()
    return VideoPipeline(unet=unet, scheduler=ddim_scheduler(make_noise_scheduler()))


def test_sampling_is_seeded_and_in_range(pipe):
    a = pipe(num_clips=2, seed=1, **SHAPE).clips
    assert a.shape == (2, 3, 8, 16, 16) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, pipe(num_clips=2, seed=1, **SHAPE).clips)
    assert not torch.allclose(a, pipe(num_clips=2, seed=2, **SHAPE).clips)


def test_a_clip_depends_on_neither_the_batch_size_nor_how_many_are_sampled(pipe):
    labels = torch.tensor([0, 1, 2])
    guided = dict(class_labels=labels, guidance_scale=3.0, seed=4, **SHAPE)
    whole = pipe(num_clips=3, **guided).clips
    assert torch.allclose(pipe(num_clips=3, batch_size=1, **guided).clips, whole, atol=1e-5)
    first = pipe(num_clips=1, class_labels=labels[:1], guidance_scale=3.0, seed=4, **SHAPE).clips
    assert torch.allclose(first[0], whole[0], atol=1e-5)
    unguided = pipe(num_clips=3, class_labels=labels, seed=4, **SHAPE).clips
    assert not torch.allclose(unguided, whole)  # guidance changes the samples


def test_ancestral_steps_walk_ddims_timesteps_with_fresh_noise_from_each_clips_generator(pipe):
    ddim = pipe.scheduler
    ancestral = VideoPipeline(unet=pipe.unet, scheduler=ancestral_scheduler(ddim))
    ddim.set_timesteps(50)
    ancestral.scheduler.set_timesteps(50)
    assert torch.equal(ancestral.scheduler.timesteps, ddim.timesteps)  # trailing: from t = T - 1
    assert torch.equal(ancestral.scheduler.alphas_cumprod, ddim.alphas_cumprod)
    whole = ancestral(num_clips=3, seed=4, **SHAPE).clips
    assert torch.allclose(ancestral(num_clips=3, batch_size=1, seed=4, **SHAPE).clips, whole, atol=1e-5)
    assert not torch.allclose(whole, pipe(num_clips=3, seed=4, **SHAPE).clips, atol=1e-3)
    with pytest.raises(ValueError, match="not LCMScheduler"):
        ancestral_scheduler(LCMScheduler())


def test_per_clip_generators_are_a_pure_function_of_seed_and_index():
    a, b = clip_generators(3, 2), clip_generators(3, 5)
    assert torch.equal(torch.randn(4, generator=a[1]), torch.randn(4, generator=b[1]))


def test_wrong_numbers_of_labels_or_generators_are_refused(pipe):
    with pytest.raises(ValueError, match=r"class_labels: one per clip expected \(2\), got 3"):
        pipe(num_clips=2, class_labels=torch.tensor([0, 1, 2]), **SHAPE)
    with pytest.raises(ValueError, match=r"generator: one per clip expected \(2\), got 1"):
        pipe(num_clips=2, generator=clip_generators(0, 1), **SHAPE)
    with pytest.raises(ValueError, match="pass num_frames and size"):
        pipe(num_clips=1, num_inference_steps=2, progress=False)  # this unet records no clip shape


def test_save_pretrained_and_from_pretrained_round_trip(tmp_path):
    torch.manual_seed(0)
    unet = build_model("tiny", num_classes=3)
    unet.register_to_config(sample_size=16, num_frames=8)  # what export_weights records
    pipe = VideoPipeline(unet=unet, scheduler=ddim_scheduler(make_noise_scheduler()))
    pipe.save_pretrained(tmp_path / "model")
    again = VideoPipeline.from_pretrained(tmp_path / "model")
    assert type(again.scheduler).__name__ == "DDIMScheduler"
    assert again.scheduler.config.timestep_spacing == "trailing"
    kwargs = dict(num_clips=2, num_inference_steps=3, seed=0, progress=False)  # shape from the config
    assert torch.equal(again(**kwargs).clips, pipe(**kwargs).clips)


def test_the_committed_golden_model_loads_and_samples_in_three_lines():
    pipe = VideoPipeline.from_pretrained(golden_model_path("quick"))
    clips = pipe(num_clips=2, num_inference_steps=5, seed=0, progress=False).clips
    assert clips.shape == (2, 3, 8, 16, 16) and pipe.unet.dtype == torch.float32


def test_an_epsilon_model_samples_clips_not_noise():
    # unclipped, the first DDIM step divides the x0 estimate by sqrt(abar_999) = 5e-5 and the
    # samples come out as saturated noise (visual score about 0.07; real clips about 0.002)
    unet = load_denoiser(golden_model_path("quick", "epsilon"))
    pipe = VideoPipeline(unet=unet, scheduler=ddim_scheduler(make_noise_scheduler("epsilon")))
    clips = pipe(num_clips=8, num_inference_steps=10, progress=False).clips
    assert visual_score(clips).max() < 0.02
