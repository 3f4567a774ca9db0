"""The denoiser path has no bug: a tiny model trained on two clips reproduces them, frame for
frame, and never switches from one to the other halfway (issue "Models that generate the toy
world": its overfit probe, kept as a unit test)."""

from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.train import ClipBank, TrainConfig, train
from tqd_lite.world.render import ClipSpec, render_clips

STEPS = 400  # measured: enough for every frame of every sample to land near its clip's frame


def test_a_tiny_overfit_reproduces_its_clips_motion_and_scene():
    clips = render_clips([ClipSpec(seed=seed, size=16) for seed in (1, 2)])  # (2, 3, 8, 16, 16)
    config = TrainConfig(
        preset="tiny", steps=STEPS, batch_size=4, learning_rate=2e-3, warmup_steps=20, lr_schedule="cosine"
    )
    model = train(config, ClipBank.from_float(clips), progress=False).model
    samples = ddim_pipeline(model, config)(
        num_clips=4, num_frames=8, size=16, num_inference_steps=25, seed=0, progress=False
    ).clips
    # error of each sample frame against the same frame of each training clip: (samples, clips, frames)
    error = (samples[:, None] - clips[None]).pow(2).mean(dim=(2, 4, 5))
    nearest = error.argmin(dim=1)  # (samples, frames)
    assert (nearest == nearest[:, :1]).all(), f"a sample switches clips halfway: {nearest.tolist()}"
    assert error.min(dim=1).values.max() < 0.005, error.min(dim=1).values
    # the frames are the clip's, in order: each sample frame is nearer its own frame than the next one
    own = error.gather(1, nearest[:, None]).squeeze(1)  # (samples, frames)
    picked = clips[nearest[:, 0]]  # (samples, 3, F, H, W)
    shifted = (samples[:, :, :-1] - picked[:, :, 1:]).pow(2).mean(dim=(1, 3, 4))  # against frame f + 1
    assert (own[:, :-1] < shifted).all()
