"""The two loaders of everything tqd-lite reads that it did not render itself: ``.pt`` files
(resume checkpoints, partial gradient grids, stored samples) and JSON or YAML files (reports,
provenance, configs). Model folders go through diffusers' ``from_pretrained`` (safetensors: no
code), videos through :mod:`tqd_lite.world.video_io`.

``torch.load`` runs with ``weights_only=True``, so a file holding anything but tensors and plain
data (numbers, strings, lists, dicts) is refused instead of unpickled: a crafted checkpoint cannot
run code. Every failure (missing, truncated, random bytes, foreign objects, bad JSON) becomes a
``FileNotFoundError`` or ``ValueError`` that names the file and what was expected, which the CLI
prints as one line with exit code 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def load_tensors(path: str | Path, what: str, map_location="cpu"):
    """The contents of the ``.pt`` file ``path`` (a ``what``, for the message): tensors and plain
    data only."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # truncated, random bytes, or objects other than plain data
        raise ValueError(f"{path} is not a readable {what} ({_first_line(error)})") from None


def load_json(path: str | Path, what: str):
    """The parsed JSON file ``path`` (or YAML, by its suffix ``.yaml``/``.yml``), a ``what``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)  # safe_load: plain data only, no Python objects
        return json.loads(text)
    except Exception as error:  # not UTF-8, not JSON / YAML
        raise ValueError(f"{path} is not a readable {what} ({_first_line(error)})") from None
