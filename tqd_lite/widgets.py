"""Interactive explorers for the notebooks (ipywidgets)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from tqd_lite.corpus import categorise
from tqd_lite.degrade import DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.plots import frame_strip
from tqd_lite.profiles import Profile
from tqd_lite.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.world import ClipSpec, render_clip


def describe_clip(clip, motion_scale: PercentileNormaliser, visual_scale: PercentileNormaliser) -> str:
    """Raw scores of one clip, its place (mq, vq) in a corpus, and the category that gives it."""
    motion, visual = motion_score(clip).item(), visual_score(clip).item()
    mq, vq = motion_scale.transform(motion).item(), visual_scale.transform(visual).item()
    category = categorise(mq, vq).item().replace("_", "-")
    return f"motion {motion:.2f} px/frame -> MQ {mq:.2f}   visual {visual:.1e} -> VQ {vq:.2f}   => {category}"


def knob_explorer(profile: Profile, table: dict):
    """Sliders for the scene, the two knobs and an extra degradation; shows the clip and where the
    pool in ``table`` (raw scores from :func:`tqd_lite.dilemma.ensure_scored_pool`) would place it."""
    import ipywidgets as widgets

    motion_scale = PercentileNormaliser(table["motion_raw"])
    visual_scale = PercentileNormaliser(table["visual_raw"])

    def show(seed, visual_quality, motion_intensity, visual_degradation, extra, strength):
        spec = ClipSpec(
            seed, visual_quality, motion_intensity, visual_degradation, profile.num_frames, profile.frame_size
        )
        clip = render_clip(spec)
        if extra != "none":
            clip = DEGRADATIONS[extra](clip, strength)
        frame_strip(clip.unsqueeze(0), scale=1.1)
        plt.suptitle(describe_clip(clip, motion_scale, visual_scale), y=1.12, fontsize=9)
        plt.show()

    slider = dict(min=0.0, max=1.0, step=0.05, continuous_update=False)
    return widgets.interactive(
        show,
        seed=widgets.IntSlider(value=7, min=0, max=99, description="scene seed", continuous_update=False),
        visual_quality=widgets.FloatSlider(value=1.0, description="visual q", **slider),
        motion_intensity=widgets.FloatSlider(value=1.0, description="motion m", **slider),
        visual_degradation=widgets.Dropdown(
            options=sorted(VISUAL_DEGRADATIONS), value="blur", description="low q by"
        ),
        extra=widgets.Dropdown(options=["none", *DEGRADATIONS], value="none", description="then apply"),
        strength=widgets.FloatSlider(value=0.5, description="strength", **slider),
    )
