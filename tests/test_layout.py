"""The package's layering: which folder may import which (issue "One folder per paper").

world and quality are the ground everything stands on: they import nothing from diffusion, tqd or
mcm. diffusion trains any denoiser with any timestep policy, so it imports nothing from tqd or
mcm. MCM's pieces (consistency, discriminator) import no experiment module, and TQD's sampler
needs only torch, scipy and diffusers, so a user can copy it alone.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tqd_lite"

FORBIDDEN = {
    "world": ("tqd_lite.diffusion", "tqd_lite.tqd", "tqd_lite.mcm", "tqd_lite.viz"),
    "quality": ("tqd_lite.diffusion", "tqd_lite.tqd", "tqd_lite.mcm", "tqd_lite.viz"),
    "diffusion": ("tqd_lite.tqd", "tqd_lite.mcm"),
    "mcm/consistency.py": ("tqd_lite.mcm.experiments", "tqd_lite.mcm.report", "tqd_lite.viz", "matplotlib"),
    "mcm/discriminator.py": ("tqd_lite.mcm.experiments", "tqd_lite.mcm.report", "tqd_lite.viz", "matplotlib"),
}
STANDALONE = {"tqd/sampler.py": ("__future__", "dataclasses", "math", "numpy", "torch", "scipy", "diffusers")}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def files_of(part: str) -> list[Path]:
    path = PACKAGE / part
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_lower_layers_import_nothing_from_higher_ones(part):
    for path in files_of(part):
        bad = {m for m in imported_modules(path) if m.startswith(FORBIDDEN[part])}
        assert not bad, f"{path.relative_to(PACKAGE.parent)} imports {sorted(bad)}"


@pytest.mark.parametrize("part", sorted(STANDALONE))
def test_tqds_sampler_can_be_copied_alone(part):
    roots = {m.split(".")[0] for m in imported_modules(PACKAGE / part)}
    assert roots <= set(STANDALONE[part]), f"{part} imports {sorted(roots - set(STANDALONE[part]))}"


def test_the_checker_sees_an_import_inside_a_function(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from tqd_lite.tqd.sampler import TimestepPolicy\n")
    assert "tqd_lite.tqd.sampler" in imported_modules(sneaky)
    assert any(m.startswith(FORBIDDEN["diffusion"]) for m in imported_modules(sneaky))


def test_every_subpackage_exports_what_it_names():
    import importlib

    for folder in ("world", "quality", "diffusion", "tqd", "mcm", "viz"):
        module = importlib.import_module(f"tqd_lite.{folder}")
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert not missing, f"tqd_lite.{folder}.__all__ names {missing}"


def test_importing_tqds_sampler_leaves_the_rest_of_the_package_unloaded():
    import subprocess
    import sys

    code = (
        "import sys, tqd_lite.tqd.sampler; "
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'tqd_lite.')) "
        "and m not in ('tqd_lite.tqd', 'tqd_lite.tqd.sampler')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"  # the subpackages' names are imported lazily (PEP 562)
