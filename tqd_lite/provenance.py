"""Every result file says which command, profile, seed and device made it."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import torch

from tqd_lite import __version__
from tqd_lite.paths import REPO_ROOT


def describe_device(device: torch.device | str) -> str:
    """A readable device name, e.g. ``cpu (x86_64, 2 threads)`` or ``cuda (NVIDIA H100)``."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({platform.machine()}, {torch.get_num_threads()} threads)"


SOURCE_MANIFEST = "TQD_SOURCE_MANIFEST"  # env var: a copied tree's manifest (see _manifest_commit)


def _git_commit() -> str:
    manifest = os.environ.get(SOURCE_MANIFEST)
    if manifest:  # named on purpose: the copy's own git (if any) may sit at another commit
        return _manifest_commit(Path(manifest))
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
        )
    except OSError:
        out = None
    if out is None or out.returncode != 0:
        return "unknown"
    # "+dirty" when the library differs from the commit; data, tests and notes do not count
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "tqd_lite"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def git_blob_hash(data: bytes) -> str:
    """The object id git gives a file's bytes: ``sha1(b"blob <size>\\0" + data)`` (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _manifest_commit(manifest: Path) -> str:
    """The commit a copied source tree came from, checked file by file.

    A GPU lent for minutes receives the working tree, but the git it finds there (if any) may sit
    at another commit with the tree laid over it: the first lease here reported ``6a6159b+dirty``
    for code committed as a39d94a. The manifest, made beside the repository with
    ``{ git rev-parse --short HEAD; git ls-files -s tqd_lite; }`` and named by the environment
    variable ``TQD_SOURCE_MANIFEST``, gives the commit and each library file's blob hash there;
    the copy is that commit only if every library file hashes the same and none is missing or
    added, else it is ``+dirty``.
    """
    commit, *lines = manifest.read_text().splitlines()
    expected = {line.split("\t", 1)[1]: line.split()[1] for line in lines if "\t" in line}
    package = REPO_ROOT / "tqd_lite"
    found = {
        path.relative_to(REPO_ROOT).as_posix(): git_blob_hash(path.read_bytes())
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return commit.strip() + ("" if found == expected else "+dirty")


def current_command() -> str:
    """The command line of this process, as a user would type it."""
    argv = list(sys.argv)
    package = Path(__file__).resolve().parent
    script = Path(argv[0]).resolve() if argv else None
    if script is not None and script.suffix == ".py" and script.is_relative_to(package):
        # `python -m tqd_lite[.module]`: sys.argv[0] is the module's file; name the module instead
        parts = script.relative_to(package.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__main__" else parts)
        argv[0:1] = ["python", "-m", module]
    return shlex.join(argv)


def provenance(
    profile: str, seed: int, device: torch.device | str, command: str | None = None, **extra
) -> dict:
    """The provenance block stored in every result file."""
    return {
        "command": command or current_command(),
        "profile": profile,
        "seed": seed,
        "device": describe_device(device),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "tqd_lite": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        **extra,
    }


def write_result(path: str | Path, result: dict, provenance_block: dict) -> Path:
    """Write ``{"provenance": ..., **result}`` as pretty JSON, creating folders as needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"provenance": provenance_block, **result}, indent=2) + "\n")
    return path
