"""The denoiser path has no bug: a small model trained on two clips reproduces them, frame for
frame and in order, and never switches from one clip to the other halfway (issue "Models that
generate the toy world": its overfit probe, kept as a unit test).

8 x 8 pixels and 4 frames keep it near a minute on 2 CPU cores. Measured on the model with the
clip-wide output norm and the plain v loss: every sample frame within 0.002-0.008 (mean squared
error) of its clip's frame, against 0.049 between the two clips. The per-frame output norm with
Min-SNR-5 (the recipe of the committed golden models) missed by up to 0.014.
"""

from tqd_lite.diffusion.pipeline import ddim_pipeline
from tqd_lite.diffusion.train import ClipBank, TrainConfig, train
from tqd_lite.world.render import ClipSpec, render_clips

SIZE, FRAMES, STEPS = 8, 4, 400


def test_a_tiny_overfit_reproduces_its_clips_motion_and_scene():
    clips = render_clips(
        [ClipSpec(seed=seed, size=SIZE, num_frames=FRAMES) for seed in (1, 2)]
    )  # (2, 3, F, H, W)
    config = TrainConfig(
        preset="tiny-clipnorm",
        steps=STEPS,
        batch_size=4,
        learning_rate=2e-3,
        warmup_steps=20,
        lr_schedule="cosine",
        snr_gamma=None,
    )
    model = train(config, ClipBank.from_float(clips), progress=False).model
    samples = ddim_pipeline(model, config)(
        num_clips=4, num_frames=FRAMES, size=SIZE, num_inference_steps=25, seed=0, progress=False
    ).clips
    # error of each sample frame against the same frame of each training clip: (samples, clips, frames)
    error = (samples[:, None] - clips[None]).pow(2).mean(dim=(2, 4, 5))
    nearest = error.argmin(dim=1)  # (samples, frames)
    assert (nearest == nearest[:, :1]).all(), f"a sample switches clips halfway: {nearest.tolist()}"
    # every frame is its clip's, not a blend of the two: 4x nearer than the clips are to each other
    clip_gap = (clips[0] - clips[1]).pow(2).mean()
    own = error.gather(1, nearest[:, None]).squeeze(1)  # (samples, frames)
    assert (own < clip_gap / 4).all(), f"{own} against a clip gap of {clip_gap:.4f}"
    # the motion is the clip's: each sample frame is nearer its own frame than the next one
    picked = clips[nearest[:, 0]]  # (samples, 3, F, H, W)
    shifted = (samples[:, :, :-1] - picked[:, :, 1:]).pow(2).mean(dim=(1, 3, 4))  # against frame f + 1
    assert (own[:, :-1] < shifted).all(), f"{own} against the next frames {shifted}"
