"""The knob explorer places a clip on a corpus's MQ/VQ scale."""

import numpy as np

from tqd_lite.profiles import get_profile
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.viz.widgets import describe_clip, knob_explorer
from tqd_lite.world.render import ClipSpec, render_clip


def test_describe_clip_places_clips_in_their_category():
    corpus = reference_corpus()
    golden = render_clip(ClipSpec(seed=7, visual_quality=1.0, motion_intensity=1.0))
    poor = render_clip(ClipSpec(seed=7, visual_quality=0.2, motion_intensity=0.05))
    assert describe_clip(golden, *corpus).endswith("=> golden")
    assert describe_clip(poor, *corpus).endswith("=> poor")


def reference_corpus():
    clips = [
        render_clip(ClipSpec(seed=s, visual_quality=q, motion_intensity=q))
        for s, q in enumerate(np.linspace(0, 1, 11))
    ]
    return (
        PercentileNormaliser([motion_score(c).item() for c in clips]),
        PercentileNormaliser([visual_score(c).item() for c in clips]),
    )


def test_knob_explorer_has_a_control_per_knob():
    table = {"motion_raw": np.linspace(0, 2, 20), "visual_raw": np.linspace(0, 0.01, 20)}
    explorer = knob_explorer(get_profile("quick"), table)
    labels = [getattr(child, "description", "") for child in explorer.children]
    for label in ("scene seed", "visual q", "motion m", "low q by", "then apply", "strength"):
        assert label in labels
