"""Layout, motion and detail of a clip, and how far a sampling trajectory still has to go."""

import pytest
import torch

from tqd_lite.diffusion.hierarchy import PARTS, decompose, recovery_errors
from tqd_lite.diffusion.noise import make_noise_scheduler, to_model_range, training_target
from tqd_lite.world.render import ClipSpec, render_clip


def test_layout_plus_detail_is_the_clip_and_a_still_clip_has_no_motion():
    moving = render_clip(ClipSpec(seed=5, motion_intensity=1.0))[None]
    still = render_clip(ClipSpec(seed=5, motion_intensity=0.0))[None]
    parts = decompose(moving)
    assert torch.allclose(parts["layout"] + parts["detail"], moving, atol=1e-6)
    assert parts["motion"].shape == (1, 3, 7, 16, 16)
    assert decompose(still)["motion"].abs().max() < 1e-6 < parts["motion"].abs().max()
    # the layout is smooth: its own blur changes it far less than the clip's blur changes the clip
    assert decompose(parts["layout"])["detail"].norm() < 0.35 * parts["detail"].norm()


def test_a_model_that_knows_the_clip_recovers_every_part_and_a_blind_one_none():
    clips = torch.stack([render_clip(ClipSpec(seed=s)) for s in (6, 7)])
    scheduler = make_noise_scheduler("v_prediction")
    x0 = to_model_range(clips)

    def oracle(x_t, t):  # recovers the noise from x_t and the known clip, returns the true v
        abar = scheduler.alphas_cumprod[t].view(-1, 1, 1, 1, 1)
        noise = (x_t - abar.sqrt() * x0) / (1 - abar).sqrt()
        return training_target(scheduler, x0, noise, t)

    mean_colour = x0.mean(dim=(2, 3, 4), keepdim=True)

    def blind(x_t, t):  # v such that x0_hat is each clip's mean colour: no layout, motion or detail
        abar = scheduler.alphas_cumprod[t].view(-1, 1, 1, 1, 1)
        return (abar.sqrt() * x_t - mean_colour) / (1 - abar).sqrt()

    timesteps = [10, 500, 900]
    perfect = recovery_errors(oracle, scheduler, clips, timesteps)
    assert perfect["t"] == timesteps
    assert max(max(perfect[part]) for part in PARTS) < 0.05  # float32 round-off at the extremes
    hopeless = recovery_errors(blind, scheduler, clips, timesteps)
    assert all(e == pytest.approx(1.0, abs=1e-3) for part in PARTS for e in hopeless[part])
