"""Interactive explorers for the notebooks (ipywidgets)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from tqd_lite.profiles import Profile
from tqd_lite.quality.corpus import categorise
from tqd_lite.quality.scores import PercentileNormaliser, motion_score, visual_score
from tqd_lite.viz.plots import frame_strip
from tqd_lite.world.degrade import DEGRADATIONS, VISUAL_DEGRADATIONS
from tqd_lite.world.render import ClipSpec, render_clip


def describe_clip(clip, motion_scale: PercentileNormaliser, visual_scale: PercentileNormaliser) -> str:
    """Raw scores of one clip, its place (mq, vq) in a corpus, and the category that gives it."""
    motion, visual = motion_score(clip).item(), visual_score(clip).item()
    mq, vq = motion_scale.transform(motion).item(), visual_scale.transform(visual).item()
    category = categorise(mq, vq).item().replace("_", "-")
    return f"motion {motion:.2f} px/frame -> MQ {mq:.2f}   visual {visual:.1e} -> VQ {vq:.2f}   => {category}"


def knob_explorer(profile: Profile, table: dict):
    """Sliders for the scene, the two knobs and an extra degradation; shows the clip and where the
    pool in ``table`` (raw scores from :func:`tqd_lite.tqd.dilemma.ensure_scored_pool`) would place it."""
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


class GradientExplorer:
    """Browse cached gradient-similarity grids and compute new points on the spot (notebook 03).

    ``grids``: ``{prediction type: grid}`` from :func:`tqd_lite.tqd.gradient_run.load_grids`;
    ``models``: ``{prediction type: (model, noise_scheduler)}`` and ``clips`` (held-out golden) are
    needed only to compute new points. A new point is pair 0 of the grid's seed: at a timestep of
    the grid it reproduces that pair's cached value (to float precision); the curves average all pairs.
    """

    def __init__(self, grids: dict, models: dict | None = None, clips=None):
        if not grids:
            raise ValueError("no gradient grids to explore: run `python -m tqd_lite analyze-gradients` first")
        self.grids, self.models, self.clips = grids, models or {}, clips
        self.points: list[dict] = []

    def compute_point(self, prediction: str, kind: str, strength: float, timestep: int) -> dict:
        """Cosines of one variant at one timestep (one pair of batches), for every measure and group."""
        from tqd_lite.tqd.gradient_analysis import GradientAnalysisConfig, analyze

        if prediction not in self.models:
            raise ValueError(f"no model for {prediction!r} was given to the explorer: cannot compute points")
        if self.clips is None:
            raise ValueError("no golden clips were given to the explorer: cannot compute points")
        grid = self.grids[prediction]
        control = kind.startswith("blur~")
        config = GradientAnalysisConfig(
            timesteps=(int(timestep),),
            pairs=1,
            batch_size=grid["config"]["batch_size"],
            kinds=() if control else (kind,),
            controls=(kind.split("~", 1)[1],) if control else (),
            strengths=(float(strength),),
            seed=grid["config"]["seed"],
        )
        model, scheduler = self.models[prediction]
        result = analyze(model, scheduler, self.clips, config, progress=False)
        (variant,) = result["variants"]
        values = {
            m: {g: v[0][0] for g, v in by_variant[variant["name"]].items()}
            for m, by_variant in result["measures"].items()
        }
        point = {"prediction": prediction, "variant": variant["name"], "timestep": int(timestep), **values}
        self.points.append(point)
        return point

    def plot(self, prediction, measure, group, kinds, strength, t_range, log=True):
        from tqd_lite.viz.plots import similarity_plot

        grid = self.grids[prediction]
        names = [
            v["name"]
            for v in grid["variants"]
            if v["kind"] in kinds and (v["strength"] == strength or v["family"] == "control")
        ]
        figure, ax = plt.subplots(figsize=(7, 4))
        similarity_plot(grid, measure, group, variants=names, ax=ax, log=log)
        for p in self.points:
            if p["prediction"] == prediction and measure in p:
                y = p[measure][group]
                ax.plot(p["timestep"], 1 - y if log else y, "*", markersize=12, color="magenta")
                ax.annotate(p["variant"], (p["timestep"], 1 - y if log else y), fontsize=7)
        ax.set_xlim(*t_range)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        plt.show()

    def widget(self):
        """The explorer: controls for the plot, and a form that computes one new point."""
        import ipywidgets as widgets

        first = next(iter(self.grids.values()))
        kinds = sorted({v["kind"] for v in first["variants"]})
        strengths = sorted({v["strength"] for v in first["variants"]})
        plot = widgets.interactive(
            self.plot,
            prediction=widgets.Dropdown(options=list(self.grids), description="prediction"),
            measure=widgets.Dropdown(
                options=["paired_batch", "unpaired_batch", "paired_clip"], description="measure"
            ),
            group=widgets.Dropdown(options=first["groups"], value="all", description="layers"),
            kinds=widgets.SelectMultiple(options=kinds, value=tuple(kinds), description="degradations"),
            strength=widgets.Dropdown(options=strengths, value=strengths[-1], description="strength"),
            t_range=widgets.IntRangeSlider(
                value=(0, 1000), min=0, max=1000, step=10, description="t range", continuous_update=False
            ),
            log=widgets.Checkbox(value=True, description="1 - cos, log scale"),
        )
        if not self.models:
            return plot
        kind = widgets.Dropdown(options=kinds, description="new point")
        strength = widgets.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="strength")
        timestep = widgets.IntSlider(value=500, min=0, max=999, description="t")
        button = widgets.Button(description="compute (one pair)")
        message = widgets.Label()

        def on_click(_):
            message.value = "computing..."
            prediction = plot.kwargs["prediction"]
            point = self.compute_point(prediction, kind.value, strength.value, timestep.value)
            measure, group = plot.kwargs["measure"], plot.kwargs["group"]
            message.value = f"{point['variant']} at t = {point['timestep']}: cos {point[measure][group]:.4f}"
            plot.update()

        button.on_click(on_click)
        return widgets.VBox([plot, widgets.HBox([kind, strength, timestep, button]), message])
