"""The gradient analysis as an experiment: a profile's models and clips, cached result files, figures.

:func:`run_gradient_analysis` runs :func:`~tqd_lite.tqd.gradient_analysis.analyze` once per trained
model (one per prediction type) on the held-out golden clips of a profile, and writes
``results/PROFILE/gradients/PREDICTION_TYPE.json`` (with provenance) and the figures. A grid whose
file already holds the same configuration and checkpoint is read, not recomputed: the files are
the cache the notebook's explorer reads.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from tqd_lite.diffusion.checkpoints import (
    PROVENANCE_FILE,
    check_clip_shape,
    is_model_folder,
    load_denoiser,
    training_config_of,
)
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.diffusion.training_run import REPORT_FILE, checkpoint_path
from tqd_lite.files import load_json, load_tensors
from tqd_lite.paths import display_path, golden_model_path, results_dir
from tqd_lite.profiles import Profile, override_fields
from tqd_lite.provenance import write_result
from tqd_lite.quality.splits import load_split, scored_folder
from tqd_lite.stats import difference_cell, finite_or_none, verdict
from tqd_lite.tqd.gradient_analysis import (
    MAIN_GROUPS,
    GradientAnalysisConfig,
    analyze,
    crossing_timestep,
    gap_curve,
)
from tqd_lite.viz.plots import mse_control_plot, similarity_figure, stamp

FIGURE_FILE = "gradients.png"
CONTROL_FIGURE_FILE = "mse_control.png"
CACHE_KEYS = ("weights_sha256", "prediction_type", "preset")  # what decides a grid besides config and clips


def default_analysis_config(profile: Profile, seed: int = 0, **overrides) -> GradientAnalysisConfig:
    """The profile's grid, with any field of :class:`GradientAnalysisConfig` overridden."""
    base = GradientAnalysisConfig(
        timesteps=profile.grad_timesteps,
        pairs=profile.grad_pairs,
        batch_size=profile.grad_batch_size,
        strengths=profile.grad_strengths,
        seed=seed,
    )
    return override_fields(base, overrides, "gradient-analysis")


def default_checkpoints(profile: Profile) -> list[Path]:
    """The profile's golden models: v prediction (the committed one, else the one
    ``reproduce golden-model`` trained) and epsilon (if committed)."""
    committed = golden_model_path(profile.name)
    trained = checkpoint_path(results_dir() / profile.name / "golden_model")
    v_model = committed if is_model_folder(committed) else trained
    if not v_model.is_file() and not is_model_folder(v_model):
        raise FileNotFoundError(
            f"no golden model for profile {profile.name!r} at {committed} or {trained}; train one with "
            f"`python -m tqd_lite reproduce golden-model --profile {profile.name}` or pass --checkpoint"
        )
    eps_model = golden_model_path(profile.name, "epsilon")
    return [v_model] + ([eps_model] if is_model_folder(eps_model) else [])


def model_record(checkpoint: str | Path) -> dict:
    """How a golden model was made: ``{"steps", "command"}`` from a model folder's
    ``provenance.json`` (``data/models/``) or from the ``train.json`` of the run whose checkpoint it
    is (what ``reproduce golden-model`` leaves in ``results/PROFILE/golden_model/``)."""
    path = Path(checkpoint)
    for record_path in (path / PROVENANCE_FILE, path.parent / REPORT_FILE):
        if record_path.is_file():
            record = load_json(record_path, "model record")
            steps = record["step"] if "step" in record else record["final"]["step"]
            return {"steps": steps, "command": record["provenance"].get("command", "(not recorded)")}
    raise FileNotFoundError(
        f"no record of how {path} was made: expected {path / PROVENANCE_FILE} (a model folder) "
        f"or {path.parent / REPORT_FILE} (a finished training run)"
    )


def weights_fingerprint(model: torch.nn.Module) -> str:
    """A hash of a model's weights (every tensor of its state, as fp32), not of the file holding
    them: the same weights converted to another format or moved elsewhere keep their cached grids."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def partial_path(out_dir: Path, prediction: str) -> Path:
    """Where an interrupted grid keeps its finished pairs."""
    return out_dir / f".{prediction}.partial.pt"


def load_analysis_model(path: str | Path, preset: str | None = None):
    """``(model, noise_scheduler, info)`` of a checkpoint; ``preset`` must match if given.

    ``info`` names the checkpoint and a hash of its weights' values: a cached grid is reused only
    for the very weights that made it, from whichever file (``CACHE_KEYS``).
    """
    model = load_denoiser(path, preset=preset).float().eval()
    config = training_config_of(path)
    scheduler = make_noise_scheduler(**config.noise_schedule())
    info = {
        "checkpoint": display_path(path),
        "weights_sha256": weights_fingerprint(model),
        "prediction_type": config.prediction_type,
        "preset": config.preset,
    }
    return model, scheduler, info


def stale_grid_lines(
    grids: dict[str, dict], infos: list[dict], clips: torch.Tensor | None = None
) -> list[str]:
    """A sentence for each grid computed from other weights than the model now at its checkpoint, or
    on other clips than ``clips`` (a retrained golden model, a regenerated pool), so that a reader of
    committed grids knows what they were made from; empty when every grid is current. ``infos``:
    the analysed models' records, as :func:`load_analysis_model` returns them; ``clips`` None checks
    the weights only (the full pool's clips take minutes to render)."""
    lines, clips_hash = [], None if clips is None else clips_fingerprint(clips)
    for info in infos:
        grid = grids.get(info["prediction_type"])
        if grid is None:
            continue
        changed = []
        if grid["model"]["weights_sha256"] != info["weights_sha256"]:
            changed.append(f"the weights now at {info['checkpoint']}")
        if clips_hash is not None and grid["clips_sha256"] != clips_hash:
            changed.append("the clips analysed now")
        if changed:
            lines.append(
                f"{info['prediction_type']}: this grid was made at commit {grid['provenance']['git_commit']} "
                f"from other data than {' and '.join(changed)}; `analyze-gradients --force` remakes it"
            )
    return lines


def clips_fingerprint(clips: torch.Tensor) -> str:
    """A hash of the analysed clips' values: a grid made on other clips is not reused."""
    return hashlib.sha256(clips.contiguous().numpy().tobytes()).hexdigest()[:16]


def analysis_clips(profile: Profile, data: str | Path | None = None, progress: bool = True):
    """The held-out golden clips (never trained on) of the profile's pool, the seed-0 pool the
    golden models were trained on, or of a scored folder of your own."""
    table, folder = scored_folder(profile, 0, data, progress)
    return load_split(table, "heldout_golden", folder, profile)


def grid_path(out_dir: str | Path, prediction_type: str) -> Path:
    return Path(out_dir) / f"{prediction_type}.json"


def load_grids(out_dir: str | Path) -> dict[str, dict]:
    """``{prediction type: grid}`` of every result file in ``out_dir`` (v prediction first)."""
    grids = {}
    for prediction in ("v_prediction", "epsilon"):
        path = grid_path(out_dir, prediction)
        if path.is_file():
            grids[prediction] = load_json(path, "gradient grid")
    return grids


def _cached(path: Path, config: GradientAnalysisConfig, info: dict, clips_hash: str) -> dict | None:
    """The grid in ``path`` if the same settings, weights and clips made it."""
    if not path.is_file():
        return None
    grid = load_json(path, "gradient grid")
    same_config = grid.get("config") == json.loads(json.dumps(config.to_dict()))
    saved = grid.get("model", {})
    same_model = all(saved.get(k) == info[k] for k in CACHE_KEYS)  # not the path: weights may move
    same_inputs = same_model and grid.get("clips_sha256") == clips_hash
    return grid if same_config and same_inputs else None


def run_gradient_analysis(
    profile: Profile,
    config: GradientAnalysisConfig,
    checkpoints: list[str | Path],
    out_dir: str | Path | None = None,
    provenance_block: dict | None = None,
    data: str | Path | None = None,
    preset: str | None = None,
    progress: bool = True,
    force: bool | tuple[str, ...] = False,
    method: str = "vmap",
) -> dict[str, dict]:
    """Analyse each checkpoint and draw the figures. A grid already on disk with the same
    settings and checkpoint is read instead of recomputed, unless ``force`` (``True``: every grid;
    a tuple of prediction types: those grids); an interrupted one resumes at its next pair of
    batches. ``method``: how
    per-clip gradients are computed (see :func:`~tqd_lite.tqd.gradient_analysis.analyze`).

    Returns ``{prediction type: grid}``. Two checkpoints of the same prediction type are refused.
    """
    out_dir = Path(out_dir) if out_dir is not None else results_dir() / profile.name / "gradients"
    loaded = [load_analysis_model(checkpoint, preset) for checkpoint in checkpoints]  # refused before work
    for checkpoint, (model, _, info) in zip(checkpoints, loaded, strict=True):
        check_clip_shape(model, checkpoint, profile.num_frames, profile.frame_size)
        partial = partial_path(out_dir, info["prediction_type"])
        if partial.is_file():
            load_tensors(partial, "partial gradient grid")  # a broken one is refused before work too
    clips = analysis_clips(profile, data, progress)
    clips_hash = clips_fingerprint(clips)
    grids, computed = {}, False
    for model, scheduler, info in loaded:
        model.to("cuda" if torch.cuda.is_available() else "cpu")
        prediction = info["prediction_type"]
        if prediction in grids:
            raise ValueError(f"two checkpoints with prediction type {prediction!r}; give one per type")
        path = grid_path(out_dir, prediction)
        forced = force is True or (force is not False and prediction in force)
        grid = None if forced else _cached(path, config, info, clips_hash)
        if grid is None:
            partial = partial_path(out_dir, prediction)
            key = {"model": info, "clips_sha256": clips_hash}
            result = analyze(model, scheduler, clips, config, progress, method, partial, key)
            grid = {"model": info, "clips_sha256": clips_hash, "method": method, **result}
            write_result(path, grid, provenance_block or {})
            partial.unlink(missing_ok=True)
            grid, computed = load_json(path, "gradient grid"), True
        grids[prediction] = grid
    if computed or not (out_dir / FIGURE_FILE).is_file():
        save_figures(grids, out_dir, provenance_block)
    return grids


def save_figures(grids: dict[str, dict], out_dir: Path, provenance_block: dict | None = None) -> None:
    figure = similarity_figure(grids)
    if provenance_block:
        stamp(figure, provenance_block)
    figure.savefig(out_dir / FIGURE_FILE, dpi=110, bbox_inches="tight")
    plt.close(figure)
    figure, axes = plt.subplots(len(grids), 2, figsize=(10, 3.8 * len(grids)), squeeze=False)
    for row, (prediction, grid) in enumerate(grids.items()):
        for col, t in enumerate((grid["timesteps"][0], grid["timesteps"][-1])):
            mse_control_plot(grid, t, ax=axes[row, col])
            axes[row, col].set_title(f"{prediction}, t = {t}", fontsize=9)
    figure.tight_layout()
    if provenance_block:
        stamp(figure, provenance_block)
    figure.savefig(out_dir / CONTROL_FIGURE_FILE, dpi=110, bbox_inches="tight")
    plt.close(figure)


def summary_lines(grids: dict[str, dict]) -> list[str]:
    """What the grids show, as text: where visually degraded clips overtake motion-degraded ones
    (the families' means, and blur against freeze), per prediction type, measure and group."""
    lines = []
    for prediction, grid in grids.items():
        top = max(grid["config"]["strengths"])
        pairs = {"families": (None, None), "blur vs freeze": (f"blur@{top:g}", f"freeze@{top:g}")}
        for measure in ("paired_batch", "paired_clip", "unpaired_batch"):
            for label, (visual, motion) in pairs.items():
                if any(n is not None and n not in grid["measures"][measure] for n in (visual, motion)):
                    continue
                crossings = {g: crossing_timestep(grid, measure, g, visual, motion) for g in MAIN_GROUPS}
                text = ", ".join(
                    f"{g} {'never' if t is None else f't = {t:.0f}'}" for g, t in crossings.items()
                )
                lines.append(f"{prediction}, {measure}, {label}: visual overtakes motion at: {text}")
    return lines


def gap_table(
    grid: dict,
    measure: str = "paired_batch",
    visual: str | None = None,
    motion: str | None = None,
    groups=MAIN_GROUPS,
    digits: int = 4,
) -> list[str]:
    """Markdown lines: at each t and layer group, ``cos_visual - cos_motion`` (mean ± 95% CI over
    pairs of batches, :func:`~tqd_lite.tqd.gradient_analysis.gap_curve`) and, where the interval
    excludes 0, which side's clips are the more golden-like. TQD predicts ``motion`` (sharp, static
    clips) at low t and ``visual`` (blurry, moving clips) at high t."""
    gaps = {g: gap_curve(grid, measure, g, visual, motion) for g in groups}
    sides = {"higher": "visual", "lower": "motion", "no clear difference": "neither"}
    lines = ["| t | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
    for i, t in enumerate(grid["timesteps"]):
        cells = []
        for g in groups:
            mean, half = float(gaps[g].mean[i]), finite_or_none(gaps[g].half_width[i])
            side = sides.get(verdict(mean, half, 0), "one pair: no interval")
            cells.append(difference_cell({"difference": mean, "ci95": half, "verdict": side}, digits))
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    return lines


def gap_report(grid: dict, measure: str = "paired_batch", groups=MAIN_GROUPS) -> list[str]:
    """:func:`gap_table` for the three comparisons the notebook reads: the two families, blur
    against freeze, and the blur that changes as many pixels as a freeze (the pixel-MSE control)
    against freeze; each at the grid's top strength, the last only if the grid has that control."""
    top = f"@{max(grid['config']['strengths']):g}"
    comparisons = {
        f"visual family vs motion family (strength {top[1:]})": (None, None),
        f"blur{top} vs freeze{top}": (f"blur{top}", f"freeze{top}"),
        f"blur~freeze{top} (as many pixels changed as by the freeze) vs freeze{top}": (
            f"blur~freeze{top}",
            f"freeze{top}",
        ),
    }
    lines = []
    for title, (visual, motion) in comparisons.items():
        if any(name is not None and name not in grid["measures"][measure] for name in (visual, motion)):
            continue
        lines += ["", f"{measure.replace('_', ' ')}, {title}: cos(first) - cos(second)", ""]
        lines += gap_table(grid, measure, visual, motion, groups)
    return lines
