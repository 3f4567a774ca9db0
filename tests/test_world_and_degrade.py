"""The toy world's knobs and the degradations: each family keeps the other kind of quality."""

import pytest
import torch

from tqd_lite.quality.scores import frame_visual_scores, motion_score, visual_score
from tqd_lite.world.degrade import DEGRADATIONS, MOTION_DEGRADATIONS, VISUAL_DEGRADATIONS, degrade
from tqd_lite.world.render import ClipSpec, render_clip, render_sharp


def test_render_shape_range_and_determinism():
    spec = ClipSpec(seed=11, visual_quality=0.5, motion_intensity=0.7, num_frames=6, size=24)
    clip = render_clip(spec)
    assert clip.shape == (3, 6, 24, 24) and clip.dtype == torch.float32
    assert 0 <= clip.min() and clip.max() <= 1
    assert torch.equal(clip, render_clip(spec))
    assert not torch.equal(
        clip, render_clip(ClipSpec(seed=12, visual_quality=0.5, motion_intensity=0.7, num_frames=6, size=24))
    )


def test_motion_knob_zero_is_a_still_clip_and_speed_grows_with_it():
    still = render_clip(ClipSpec(seed=5, motion_intensity=0.0))
    assert torch.equal(still, still[:, :1].expand_as(still))
    speeds = [
        motion_score(render_clip(ClipSpec(seed=5, motion_intensity=m))).item() for m in (0.0, 0.3, 0.6, 1.0)
    ]
    assert speeds[0] == 0 and speeds == sorted(speeds) and speeds[-1] > 0.5


def test_knobs_are_independent_same_scene_different_quality():
    sharp, soft = (render_sharp(ClipSpec(seed=9, visual_quality=q)) for q in (1.0, 0.2))
    assert torch.equal(sharp, soft)  # the visual knob only acts through the degradation
    fast, slow = (render_clip(ClipSpec(seed=9, motion_intensity=m)) for m in (1.0, 0.2))
    assert torch.allclose(fast[:, 0], slow[:, 0])  # same first frame: same scene, other speed


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("visual_quality", 1.5, "visual_quality must be in"),
        ("motion_intensity", -0.1, "motion_intensity must be in"),
        ("visual_degradation", "jpeg", "visual_degradation must be one of"),
        ("size", 4, "size must be >= 8"),
        ("num_frames", 1, "num_frames must be >= 2"),
    ],
)
def test_clip_spec_rejects_bad_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        ClipSpec(seed=0, **{field: value})


@pytest.mark.parametrize("kind", sorted(DEGRADATIONS))
def test_strength_zero_is_identity_and_batches_match_single_clips(kind, sharp_moving_clip):
    assert torch.allclose(degrade(sharp_moving_clip, kind, 0.0), sharp_moving_clip, atol=1e-6)
    batch = torch.stack([sharp_moving_clip, sharp_moving_clip.flip(-1)])
    together = degrade(batch, kind, 0.6)
    assert together.shape == batch.shape
    assert torch.allclose(together[1], degrade(batch[1], kind, 0.6), atol=1e-6)


@pytest.mark.parametrize("kind", sorted(VISUAL_DEGRADATIONS))
def test_visual_degradations_act_per_frame_so_they_keep_the_motion(kind, sharp_moving_clip):
    # A per-frame operation commutes with any reordering of frames.
    order = torch.randperm(sharp_moving_clip.shape[1], generator=torch.Generator().manual_seed(0))
    shuffled_then_degraded = degrade(sharp_moving_clip[:, order], kind, 0.7)
    assert torch.allclose(shuffled_then_degraded, degrade(sharp_moving_clip, kind, 0.7)[:, order], atol=1e-5)
    # ... and it lowers the visual score, more with more strength.
    scores = [visual_score(degrade(sharp_moving_clip, kind, s)).item() for s in (0.0, 0.15, 0.3)]
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize("kind", sorted(MOTION_DEGRADATIONS))
def test_motion_degradations_copy_frames_so_they_keep_the_visuals(kind, sharp_moving_clip):
    out = degrade(sharp_moving_clip, kind, 0.7)
    for f in range(out.shape[1]):
        assert any(torch.equal(out[:, f], sharp_moving_clip[:, g]) for g in range(sharp_moving_clip.shape[1]))
    frames_kept = set(frame_visual_scores(out).tolist()) <= set(
        frame_visual_scores(sharp_moving_clip).tolist()
    )
    assert frames_kept
    moving = [motion_score(degrade(sharp_moving_clip, kind, s)).item() for s in (0.0, 1.0)]
    assert moving[1] < 0.6 * moving[0]


def test_degradation_errors_are_clear(sharp_moving_clip):
    with pytest.raises(ValueError, match="strength must be in \\[0, 1\\], got 1.5"):
        degrade(sharp_moving_clip, "blur", 1.5)
    with pytest.raises(ValueError, match="unknown degradation 'smear'"):
        degrade(sharp_moving_clip, "smear", 0.5)
    with pytest.raises(ValueError, match="must have shape"):
        degrade(sharp_moving_clip[0], "blur", 0.5)


def test_visual_knob_is_calibrated_equal_q_means_equal_detail_whatever_the_degradation():
    """Without calibration, q = 0.5 would be sharp under blur and destroyed under downsampling."""

    def mean_log_detail(q, kind):
        clips = torch.stack(
            [render_clip(ClipSpec(seed=s, visual_quality=q, visual_degradation=kind)) for s in range(12)]
        )
        return torch.log10(visual_score(clips)).mean().item()

    for q in (0.8, 0.5, 0.2):
        # downsampling shrinks by whole pixels: it cannot follow mild targets (q = 0.8) at 16x16
        kinds = VISUAL_DEGRADATIONS if q < 0.8 else ("blur", "quantise")
        logs = {kind: mean_log_detail(q, kind) for kind in kinds}
        assert max(logs.values()) - min(logs.values()) < 0.35, (q, logs)
    assert mean_log_detail(0.8, "blur") > mean_log_detail(0.5, "blur") > mean_log_detail(0.2, "blur")


def test_quantise_only_removes_detail():
    """A dead-zone quantiser never enlarges a DCT coefficient, so it cannot paint new texture."""
    from tqd_lite.world.degrade import _dct_matrix

    frame = torch.rand(1, 3, 1, 16, 16)
    d = _dct_matrix(16, torch.float32, torch.device("cpu"))
    before = (d @ frame[0, :, 0] @ d.T).abs()
    after = (d @ degrade(frame, "quantise", 0.7)[0, :, 0] @ d.T).abs()
    assert torch.all(after <= before + 1e-4)


def test_the_simple_world_style_keeps_the_scene_and_snaps_colours_to_a_palette():
    """SIMPLE (the project's world since issue 17) draws the same layout and motion as CLASSIC from
    the same spec, with colour channels snapped to a palette and other pixels."""
    import numpy as np

    from tqd_lite.world.render import CLASSIC, SIMPLE, WORLD, _two_contrasting_colours, render_scene

    assert WORLD is SIMPLE
    specs = [ClipSpec(seed=seed, size=16) for seed in range(8)]
    for spec in specs:
        classic, simple = render_scene(spec, style=CLASSIC), render_scene(spec, style=SIMPLE)
        assert torch.equal(classic[1].centres, simple[1].centres)
        assert not torch.equal(classic[0], simple[0])
    for seed in range(4):
        pair = np.stack(_two_contrasting_colours(np.random.default_rng(seed), levels=2))  # (2, 3)
        dark, light = pair[pair.mean(axis=1).argsort()]
        assert np.isclose(dark[:, None], [0.05, 0.45]).any(axis=1).all()
        assert np.isclose(light[:, None], [0.55, 0.95]).any(axis=1).all()
