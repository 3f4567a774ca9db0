"""Where the project keeps data and results (overridable with ``$TQD_DATA_DIR`` / ``$TQD_RESULTS_DIR``)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """``data/`` at the repository root: the committed sample, encoders, and generated pools."""
    return Path(os.environ.get("TQD_DATA_DIR", REPO_ROOT / "data"))


def results_dir() -> Path:
    """``results/`` at the repository root: result files written by the CLI, one folder per profile."""
    return Path(os.environ.get("TQD_RESULTS_DIR", REPO_ROOT / "results"))


def pool_dir(profile_name: str) -> Path:
    """The generated pool of a profile (not committed; ``python -m tqd_lite make-data`` builds it)."""
    return data_dir() / "pools" / profile_name


def golden_model_path(profile_name: str, prediction_type: str = "v_prediction") -> Path:
    """The committed denoiser trained on the golden clips of a profile, a model folder under
    ``data/models/``: ``golden_PROFILE`` (v prediction, the default) or ``golden_PROFILE_epsilon``."""
    suffix = "" if prediction_type == "v_prediction" else f"_{prediction_type}"
    return data_dir() / "models" / f"golden_{profile_name}{suffix}"


def display_path(path: str | Path) -> str:
    """Relative to the repository when inside it, so result files and messages read the same in
    every checkout."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
