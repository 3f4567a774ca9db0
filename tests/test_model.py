"""The denoisers, the diffusion helpers and classifier-free guidance."""

import pytest
import torch

from tqd_lite.diffusion.model import PRESETS, build_model, count_parameters, get_preset, parameter_groups
from tqd_lite.diffusion.noise import guided, make_noise_scheduler, predicted_x0, training_target


@pytest.fixture(scope="module")
def conditional_tiny():
    torch.manual_seed(0)
    return build_model("tiny", num_classes=3).eval()


@pytest.mark.parametrize("preset", ["tiny", "tiny-p2", "tiny-clipnorm-all-st1", "unet3d-tiny"])
def test_presets_keep_the_clip_shape(preset):
    torch.manual_seed(0)
    model = build_model(preset)
    x = torch.randn(2, 3, 8, 16, 16)  # (B, C, F, H, W)
    with torch.no_grad():
        assert model(x, torch.tensor([0, 999])).shape == x.shape


def test_small_preset_is_larger_and_keeps_32px_shape():
    small, tiny = build_model("small"), build_model("tiny")
    assert count_parameters(small) > count_parameters(tiny)
    assert len(small.down_blocks) == len(tiny.down_blocks) + 1  # one more level for 32x32 frames
    x = torch.randn(1, 3, 8, 32, 32)
    with torch.no_grad():
        assert small(x, torch.tensor([500])).shape == x.shape


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown model preset 'huge'.*'small'.*'tiny'"):
        get_preset("huge")
    with pytest.raises(ValueError, match="unknown model preset"):
        build_model("huge")


@pytest.mark.parametrize("preset", ["tiny", "tiny-attn", "unet3d-tiny"])
def test_parameter_groups_partition_the_parameters(preset):
    model = build_model(preset)
    groups = parameter_groups(model)
    names = [n for group in groups.values() for n in group]
    assert sorted(names) == sorted(n for n, _ in model.named_parameters())  # each exactly once
    assert groups["spatial"] and groups["temporal"] and groups["embedding"]
    assert all(
        ("temporal" in n or "time_mixer" in n or "temp_" in n or "transformer_in" in n)
        for n in groups["temporal"]
    )


@pytest.mark.parametrize("preset", ["tiny", "tiny-attn"])
def test_temporal_parameters_are_what_mixes_frames(preset):
    """Zeroing the temporal blocks' output (and the temporal attention's) makes frames independent:
    a change to frame 0 leaves frame 5's prediction unchanged. With them, it does not."""
    torch.manual_seed(0)
    model = build_model(preset).eval()
    x = torch.randn(1, 3, 8, 16, 16)
    bumped = x.clone()
    bumped[:, :, 0] += 1.0
    t = torch.tensor([300])
    with torch.no_grad():
        assert not torch.allclose(model(x, t)[:, :, 5], model(bumped, t)[:, :, 5])
        for name, p in model.named_parameters():
            if name in parameter_groups(model)["temporal"] and "mix_factor" in name:
                p.fill_(torch.inf)  # sigmoid(inf) = 1: keep only the spatial path
            if "temporal_attention.proj_out" in name:
                p.zero_()  # the attention adds nothing to its residual
        assert torch.allclose(model(x, t)[:, :, 5], model(bumped, t)[:, :, 5])


def test_null_class_is_the_default_and_guidance_is_linear(conditional_tiny):
    model = conditional_tiny
    x, t = torch.randn(2, 3, 8, 16, 16), torch.tensor([400, 400])
    labels, null = torch.tensor([0, 2]), torch.tensor([3, 3])
    with torch.no_grad():
        conditional, unconditional = model(x, t, labels), model(x, t, null)
        assert torch.equal(model(x, t, None), unconditional)
        assert not torch.allclose(conditional, unconditional)
        assert torch.allclose(guided(model, x, t, labels, 1.0), conditional)
        assert torch.allclose(guided(model, x, t, labels, 0.0), unconditional, atol=1e-5)
        w = 7.5  # out_null + w (out_label - out_null)
        expected = unconditional + w * (conditional - unconditional)
        assert torch.allclose(guided(model, x, t, labels, w), expected, atol=1e-4)


def test_out_of_range_label_is_an_error(conditional_tiny):
    with pytest.raises(IndexError):
        conditional_tiny(torch.randn(1, 3, 8, 16, 16), torch.tensor([1]), torch.tensor([4]))


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_a_perfect_prediction_recovers_x0(prediction_type):
    scheduler = make_noise_scheduler(prediction_type)
    x0, noise = torch.rand(3, 3, 8, 16, 16) * 2 - 1, torch.randn(3, 3, 8, 16, 16)
    t = torch.tensor([10, 500, 990])
    x_t = scheduler.add_noise(x0, noise, t)
    target = training_target(scheduler, x0, noise, t)
    assert torch.allclose(predicted_x0(scheduler, x_t, t, target), x0, atol=1e-3)


def test_unknown_prediction_type_is_an_error():
    with pytest.raises(ValueError, match="prediction_type must be one of"):
        make_noise_scheduler("sample")


def test_presets_table_names_architectures():
    assert {p.architecture for p in PRESETS.values()} == {"factorized", "unet3d"}


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_mixed_noise_is_standard_normal_with_the_frame_correlation_asked_for(rho):
    """PYoCo's mixed prior (docs/papers.md section 5): unit variance per element, Corr = rho between
    two frames of a clip, none between two pixels of a frame; rho = 0 is plain torch.randn."""
    from tqd_lite.diffusion.noise import mixed_noise

    noise = mixed_noise((4000, 1, 3, 2, 2), torch.Generator().manual_seed(0), rho)  # (B, C, F, H, W)
    frames = noise[:, 0, :, 0, 0]  # (B, F)
    assert frames.var(dim=0) == pytest.approx([1.0] * 3, abs=0.08)
    assert torch.corrcoef(frames.T)[0, 1:] == pytest.approx([rho] * 2, abs=0.05)
    assert torch.corrcoef(noise[:, 0, 0, 0, :].T)[0, 1].abs() < 0.05  # pixels (0, 0) and (0, 1)
    if rho == 0:
        assert torch.equal(noise, torch.randn(noise.shape, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("over_clip", [False, True])
def test_only_the_clip_wide_output_norm_keeps_frames_different_in_mean(over_clip):
    """Per frame, ``norm_out`` gives every channel of every frame mean 0, so the last convolution
    cannot tell frames of another mean colour apart; over the clip, the frames' offsets survive."""
    model = build_model("tiny-clipnorm" if over_clip else "tiny")
    batch, frames, channels = 2, 8, model.config.block_out_channels[0]
    offsets = torch.arange(frames, dtype=torch.float32).view(1, frames, 1, 1, 1)  # frame f: + f
    x = (torch.randn(batch, frames, channels, 4, 4) + offsets).reshape(batch * frames, channels, 4, 4)
    model.norm_out.frames = frames  # read by a ClipGroupNorm only
    with torch.no_grad():
        normed = model.norm_out(x).reshape(batch, frames, channels, 4, 4)
    frame_means = normed.mean(dim=(2, 3, 4))  # (B, F)
    if over_clip:
        assert (frame_means.diff(dim=1) > 0.3).all()  # offsets of 1 over a clip std of about 2.5
    else:
        assert frame_means.abs().max() < 1e-5


def test_clip_norms_are_group_norms_of_the_clip_and_of_one_frame_alike():
    """With one frame a clip-wide norm is diffusers' per-frame norm, so tiny's weights give the same
    output in tiny-clipnorm-all; with eight frames they do not."""
    torch.manual_seed(0)
    per_frame, per_clip = build_model("tiny"), build_model("tiny-clipnorm-all")
    per_clip.load_state_dict(per_frame.state_dict())  # the same parameters, only the norms differ
    assert len(per_clip.clip_group_norms) == 1 + 2 * (3 + 1 + 3 * 2)  # norm_out, 2 per spatial block
    t = torch.tensor([500])
    with torch.no_grad():
        one = torch.randn(1, 3, 1, 16, 16)
        assert torch.allclose(per_frame(one, t), per_clip(one, t), atol=1e-5)
        eight = torch.randn(1, 3, 8, 16, 16)
        assert not torch.allclose(per_frame(eight, t), per_clip(eight, t), atol=1e-3)


def test_spatiotemporal_levels_let_one_temporal_block_reach_the_neighbouring_pixel_of_the_next_frame():
    """A 3x1x1 temporal block's output at (frame 1, pixel (4, 4)) does not depend on the input at
    (frame 0, pixel (4, 5)); after widen_temporal_kernels it does. Only the top level is widened."""
    from tqd_lite.diffusion.model import widen_temporal_kernels

    torch.manual_seed(0)
    model = build_model("tiny-clipnorm-all-st1")
    top, below = model.down_blocks[0].resnets[0], model.down_blocks[1].resnets[0]
    assert top.temporal_res_block.conv1.kernel_size == (3, 3, 3)
    assert below.temporal_res_block.conv1.kernel_size == (3, 1, 1)
    assert model.up_blocks[-1].resnets[0].temporal_res_block.conv2.kernel_size == (3, 3, 3)
    block = below.temporal_res_block  # a 3x1x1 block: (B, C, F, H, W) in and out
    block.norm1 = block.norm2 = torch.nn.Identity()  # their statistics couple every pixel a little
    for widened in (False, True):
        if widened:
            widen_temporal_kernels(block)
        x = torch.randn(1, block.in_channels, 3, 8, 8, requires_grad=True)
        temb = torch.zeros(1, 3, block.time_emb_proj.in_features)  # (B, F, D)
        block(x, temb)[0, :, 1, 4, 4].sum().backward()
        reached = x.grad[0, :, 0, 4, 5].abs().sum() > 0
        assert bool(reached) == widened
    with pytest.raises(ValueError, match="spatiotemporal_levels must be in"):
        type(model)(block_out_channels=(32, 64), spatiotemporal_levels=3)
