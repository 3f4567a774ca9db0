"""An experiment's runs as result files, shared by TQD's and MCM's experiments.

Each experiment (``tqd_lite.tqd.experiments``, ``tqd_lite.mcm.experiments``) is a set of *arms*
(conditions) run once per seed; a run writes one result file in its own folder and keeps its
first samples as uint8; the experiment's summary and figures are written beside the runs. These
helpers are the parts the two have in common.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from tqd_lite.files import load_json
from tqd_lite.paths import results_dir
from tqd_lite.viz.plots import frame_strip, stamp

KEPT_SAMPLES = 8  # what a finished run keeps of its samples, for figures
SAMPLES_FILE = "samples8.pt"


def select_groups(arms, groups, known: tuple[str, ...], what: str) -> list:
    """The arms of ``groups`` (in the order of ``arms``); unknown groups are an error."""
    unknown = sorted(set(groups) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} experiment group(s) {unknown}; expected some of {known}")
    return [arm for arm in arms if arm.group in groups]


def kept_samples(clips: torch.Tensor) -> torch.Tensor:
    """The first clips ``(B, 3, F, H, W)`` in [0, 1] as uint8, what a run keeps for figures."""
    return (clips[:KEPT_SAMPLES] * 255).round().to(torch.uint8)


def finished_result(path: Path, key: dict) -> dict | None:
    """The result file at ``path`` if it was made with ``key`` (the settings that decide it)."""
    if not path.is_file():
        return None
    report = load_json(path, "run report")
    return report if report.get("key") == json.loads(json.dumps(key)) else None


def load_result(profile, experiment: str, file: str, out_dir: str | Path | None = None) -> dict | None:
    """``results/PROFILE/EXPERIMENT/FILE`` (or ``out_dir/FILE``) as a dict, None if not written yet.

    ``profile``: a :class:`~tqd_lite.profiles.Profile` or its name.
    """
    name = profile if isinstance(profile, str) else profile.name
    path = (Path(out_dir) if out_dir is not None else results_dir() / name / experiment) / file
    return load_json(path, "run report") if path.is_file() else None


def samples_strip(rows: list[tuple[torch.Tensor, str]], per_row: int = 2):
    """One figure of uint8 samples ``(N, 3, F, H, W)``, ``per_row`` clips of each, each labelled;
    None if there are none."""
    rows = [(clips[:per_row].float() / 255, label) for clips, label in rows]
    if not rows:
        return None
    labels = [label for clips, label in rows for _ in range(len(clips))]
    return frame_strip(torch.cat([clips for clips, _ in rows]), labels)[0, 0].figure


def save_figures(out_dir: Path, figures: dict, block: dict) -> None:
    """Write each ``{file name: figure or None}`` stamped with the provenance ``block``."""
    for name, figure in figures.items():
        if figure is not None:
            stamp(figure, block)
            figure.savefig(Path(out_dir) / name, dpi=110, bbox_inches="tight")
            plt.close(figure)
