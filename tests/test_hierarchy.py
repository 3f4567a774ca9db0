"""Layout, motion and detail of a clip, and how far a sampling trajectory still has to go."""

import pytest
import torch

from tqd_lite.hierarchy import PARTS, commitment_curves, decompose
from tqd_lite.world import ClipSpec, render_clip


def test_layout_plus_detail_is_the_clip_and_a_still_clip_has_no_motion():
    moving = render_clip(ClipSpec(seed=5, motion_intensity=1.0))[None]
    still = render_clip(ClipSpec(seed=5, motion_intensity=0.0))[None]
    parts = decompose(moving)
    assert torch.allclose(parts["layout"] + parts["detail"], moving, atol=1e-6)
    assert parts["motion"].shape == (1, 3, 7, 16, 16)
    assert decompose(still)["motion"].abs().max() < 1e-6 < parts["motion"].abs().max()
    # the layout is smooth: its own blur changes it far less than the clip's blur changes the clip
    assert decompose(parts["layout"])["detail"].norm() < 0.35 * parts["detail"].norm()


def test_commitment_curves_run_from_one_to_zero_and_separate_the_parts():
    target = render_clip(ClipSpec(seed=6))[None]
    start = torch.rand_like(target)
    blurred_target = decompose(target)["layout"]
    # a made-up trajectory that fixes the layout first and the detail last
    trajectory = [
        (999, start),
        (500, blurred_target + decompose(start)["detail"]),
        (0, target),
    ]
    curves = commitment_curves(trajectory)
    assert curves["t"] == [999, 500, 0]
    for part in PARTS:
        assert curves[part][0] == pytest.approx(1.0) and curves[part][-1] == 0.0
    assert curves["layout"][1] < 0.3 < 0.9 < curves["detail"][1]
    with pytest.raises(ValueError, match="at least two steps"):
        commitment_curves(trajectory[:1])
