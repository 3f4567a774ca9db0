"""The motion-vision dilemma on the toy world: build and score the pool, split it, check the metric.

This is the quick reproduction's first stage (``python -m tqd_lite reproduce dilemma``) and the
backbone of notebook 01. Each step is one function so the notebook can show it on its own:

1. :func:`~tqd_lite.quality.splits.ensure_scored_pool` renders the web-like pool to video files
   (once) and scores it;
2. :func:`~tqd_lite.quality.corpus.dilemma_statistics` gives r(VQ, MQ) and the golden share;
3. :func:`degradation_sweep` measures how the Fréchet distance to held-out golden clips grows
   as the training golden clips are degraded, for every degradation and strength.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tqd_lite.paths import pool_dir, results_dir
from tqd_lite.profiles import Profile
from tqd_lite.provenance import provenance, write_result
from tqd_lite.quality.corpus import (
    dilemma_statistics,
)
from tqd_lite.quality.encoder import load_encoder
from tqd_lite.quality.metrics import clip_features, frechet_distance
from tqd_lite.quality.splits import ensure_scored_pool, load_split
from tqd_lite.world.degrade import DEGRADATIONS
from tqd_lite.world.pool import CLIP_FOLDER, read_manifest
from tqd_lite.world.video_io import read_clip

SWEEP_STRENGTHS = (0.25, 0.5, 0.75, 1.0)


def category_examples(table: dict, folder: Path, profile: Profile) -> tuple[torch.Tensor, list[str]]:
    """The most typical clip of each category (nearest its corner of the MQ-VQ square), with labels."""
    corners = {"golden": (1, 1), "motion_rich": (1, 0), "visual_rich": (0, 1), "poor": (0, 0)}
    clips, labels = [], []
    for category, (m, v) in corners.items():
        distance = (table["mq"] - m) ** 2 + (table["vq"] - v) ** 2
        i = int(np.argmin(np.where(table["category"] == category, distance, np.inf)))
        clips.append(
            read_clip(folder / CLIP_FOLDER / table["file"][i], profile.num_frames, profile.frame_size)
        )
        labels.append(f"{category.replace('_', '-')}\nMQ {table['mq'][i]:.2f} VQ {table['vq'][i]:.2f}")
    return torch.stack(clips), labels


def measurement_agreement(table: dict, folder: Path) -> dict[str, float]:
    """How far the measured scores agree with the knobs the clips were rendered with.

    Spearman correlations of VQ with the visual knob and of MQ with the motion knob, and the
    share of measured-golden clips whose knobs are both >= 0.5. The scores are stand-ins, like
    the paper's reward model: they disagree with the truth at the margins, and this says how much.
    """
    from scipy.stats import spearmanr

    manifest = read_manifest(folder)
    row = {name: i for i, name in enumerate(manifest["file"])}
    index = np.array([row[name] for name in table["file"]])  # scored clips -> manifest rows
    q, m = manifest["visual_quality"][index], manifest["motion_intensity"][index]
    golden = table["category"] == "golden"
    return {
        "spearman_visual_knob_vq": float(spearmanr(q, table["vq"])[0]),
        "spearman_motion_knob_mq": float(spearmanr(m, table["mq"])[0]),
        "golden_with_both_knobs_high": float(np.mean((q[golden] >= 0.5) & (m[golden] >= 0.5))),
    }


def golden_share_from_correlation(r: float) -> float:
    """The golden share that a Gaussian copula with rank correlation ``r`` implies, for median thresholds.

    Latent correlation ``rho = 2 sin(pi r / 6)`` (Spearman to Pearson for normals), and
    ``P(both above their medians) = 1/4 + arcsin(rho) / (2 pi)``: once r is matched, the share follows.
    """
    rho = 2 * np.sin(np.pi * r / 6)
    return float(0.25 + np.arcsin(rho) / (2 * np.pi))


def degradation_sweep(
    golden: torch.Tensor, reference: torch.Tensor, strengths=SWEEP_STRENGTHS, progress: bool = True
) -> dict:
    """Fréchet distance from degraded ``golden`` clips to ``reference`` clips, per degradation and strength.

    Returns ``{"clean": fd, "blur": {0.25: fd, ...}, ...}``; ``clean`` is the undegraded distance,
    the scale against which the others read.
    """
    encoder = load_encoder(golden.shape[-1])
    reference_features = clip_features(reference, encoder)
    result = {"clean": frechet_distance(clip_features(golden, encoder), reference_features)}
    for kind in tqdm(DEGRADATIONS, desc="degradation sweep", disable=not progress):
        result[kind] = {
            s: frechet_distance(clip_features(DEGRADATIONS[kind](golden, s), encoder), reference_features)
            for s in strengths
        }
    return result


def run_dilemma(profile: Profile, seed: int = 0, progress: bool = True, out_dir: Path | None = None) -> dict:
    """The whole stage: pool, scores, statistics, metric sweep; writes a report and the figure."""
    from tqd_lite.viz import plots  # matplotlib only when a figure is drawn

    folder = pool_dir(profile.name)
    table = ensure_scored_pool(profile, seed, folder, progress)
    stats = dilemma_statistics(table)
    stats["golden_share_implied_by_r"] = golden_share_from_correlation(stats["correlation_vq_mq"])
    agreement = measurement_agreement(table, folder)
    golden = load_split(table, "set_c", folder, profile, profile.metric_clips)
    heldout = load_split(table, "heldout_golden", folder, profile)
    sweep = degradation_sweep(golden, heldout, progress=progress)
    out_dir = out_dir or results_dir() / profile.name / "dilemma"
    block = provenance(profile.name, seed, "cpu")
    report = {
        "dilemma": stats,
        "scores_vs_knobs": agreement,
        "paper": {
            "correlation_vq_mq": -0.24,
            "golden_share": 0.22,
            "source": "docs/papers.md section 1 [notes]",
        },
        "frechet_distance_to_heldout_golden": {
            "num_golden": int(len(golden)),
            "num_heldout": int(len(heldout)),
            **{k: v if k == "clean" else {str(s): d for s, d in v.items()} for k, v in sweep.items()},
        },
    }
    write_result(out_dir / "report.json", report, block)
    figure = plots.dilemma_figure(table, sweep, *category_examples(table, folder, profile))
    plots.stamp(figure, block)
    figure.savefig(out_dir / "dilemma.png", dpi=90, bbox_inches="tight")
    (out_dir / "report.md").write_text(markdown_report(report, block))
    return report


def markdown_report(report: dict, block: dict) -> str:
    """A short human-readable summary of a dilemma report; every number comes from ``report``."""
    d, fd, a = report["dilemma"], report["frechet_distance_to_heldout_golden"], report["scores_vs_knobs"]
    strongest = str(max(SWEEP_STRENGTHS))
    at_strongest = {k: v[strongest] for k, v in fd.items() if isinstance(v, dict)}
    lines = [
        "# The motion-vision dilemma on the toy world",
        "",
        f"Made by `{block['command']}` (profile {block['profile']}, seed {block['seed']}, {block['device']}, "
        f"{block['created']}, commit {block['git_commit']}).",
        "",
        f"- Pool: {d['num_clips']} clips; r(VQ, MQ) = {d['correlation_vq_mq']:.3f} "
        f"(paper: {report['paper']['correlation_vq_mq']}); golden share = {d['golden_share']:.1%} "
        f"(paper: {report['paper']['golden_share']:.0%}; a Gaussian copula with this r implies "
        f"{d['golden_share_implied_by_r']:.1%}).",
        f"- Scores against the knobs: Spearman {a['spearman_visual_knob_vq']:.2f} (visual), "
        f"{a['spearman_motion_knob_mq']:.2f} (motion); {a['golden_with_both_knobs_high']:.0%} of "
        "measured-golden clips have both knobs >= 0.5.",
        f"- Categories: golden {d['count_golden']}, motion-rich {d['count_motion_rich']}, "
        f"visual-rich {d['count_visual_rich']}, poor {d['count_poor']}.",
        f"- Splits: Set-A {d['count_set_a']}, Set-B {d['count_set_b']}, Set-C {d['count_set_c']}, "
        f"held-out golden {d['count_heldout_golden']}.",
        f"- Fréchet distance, {fd['num_golden']} Set-C clips to {fd['num_heldout']} held-out golden clips: "
        f"clean {fd['clean']:.2f}; at strength {strongest} "
        + ", ".join(f"{k} {v:.2f}" for k, v in at_strongest.items())
        + ".",
        "",
        "![dilemma](dilemma.png)",
        "",
    ]
    return "\n".join(lines)
