"""The loaders of every data file tqd-lite reads: ``.pt`` files (resume checkpoints, partial
gradient grids, stored samples), JSON or YAML files (reports, provenance, configs), CSV tables
(scores, pool manifests) and loose safetensors files (frozen failure samples). Model folders go
through diffusers' ``from_pretrained`` (safetensors: no code), videos through
:mod:`tqd_lite.world.video_io`.

``torch.load`` runs with ``weights_only=True``, so a file holding anything but tensors and plain
data (numbers, strings, lists, dicts) is refused instead of unpickled: a crafted checkpoint cannot
run code. Every failure (missing, truncated, random bytes, foreign objects, bad JSON) becomes a
``FileNotFoundError`` or ``ValueError`` that names the file and what was expected, which the CLI
prints as one line with exit code 2.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import torch


def first_line(error: Exception) -> str:
    """An exception's first message line (its type's name if it has none), for one-line errors."""
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
        raise ValueError(f"{path} is not a readable {what} ({first_line(error)})") from None


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
        raise ValueError(f"{path} is not a readable {what} ({first_line(error)})") from None


def load_csv(path: str | Path, what: str) -> tuple[list[str], list[dict[str, str]]]:
    """``(header, rows)`` of the UTF-8 CSV file ``path`` (a ``what``), each row a dict."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{path} is not a readable {what} ({first_line(error)})") from None


def load_safetensors(path: str | Path, what: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """``(tensors, metadata)`` of the safetensors file ``path`` (a ``what``): tensors only, no code."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        with safe_open(path, framework="pt") as handle:
            return {k: handle.get_tensor(k) for k in handle.keys()}, dict(handle.metadata() or {})
    except Exception as error:  # truncated, random bytes, not safetensors
        raise ValueError(f"{path} is not a readable {what} ({first_line(error)})") from None
