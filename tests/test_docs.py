"""Every relative link in the README, docs/ and the notebooks resolves inside the repository, so a
fresh clone (which has nothing beside it) can follow them all."""

import json
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target)


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text()


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(markdown_of(path)):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor in the same page
        resolved = (path.parent / target.split("#")[0]).resolve()
        if not resolved.exists() or ROOT not in resolved.parents:
            broken.append(target)
    return broken


DOCUMENTS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "notebooks").glob("*.ipynb")),
]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves_in_the_repository(path):
    assert not broken_links(path), f"{path.relative_to(ROOT)} links to {broken_links(path)}"


def test_a_link_out_of_the_repository_counts_as_broken(tmp_path):
    page = ROOT / "docs" / "papers.md"
    assert broken_links(page) == []
    outside = tmp_path / "page.md"
    outside.write_text("[facts](../shared/papers.md) and [ok](https://example.org)")
    assert broken_links(outside) == ["../shared/papers.md"]


def test_the_book_renders_every_notebook_with_an_index_that_links_them(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "book"
    command = [sys.executable, str(ROOT / "docs" / "build_book.py"), "--no-execute", "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)  # `make book` executes them too (not in CI)
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert sorted(p.stem for p in out.glob("[0-9]*.html")) == chapters
    index = (out / "index.html").read_text()
    assert all(f'href="{name}.html"' in index for name in chapters)
    assert "The motion–vision dilemma" in index  # titles come from each notebook's first heading


def test_readme_gpu_probe_numbers_come_from_the_result_files():
    """The README's paragraph on the GPU lease quotes results/benchmarks/gpu_probe/ (no typed numbers)."""
    folder = ROOT / "results" / "benchmarks" / "gpu_probe"
    readme = (ROOT / "README.md").read_text()
    throughput = json.loads((folder / "throughput.json").read_text())
    rows = throughput["train_steps"]
    step = next(r for r in rows if r["batch_size"] == 256 and r["precision"] == "bf16")
    small = next(r for r in rows if r["preset"] == "small-clipnorm-all" and r["batch_size"] == 128)
    one, many = (
        next(r for r in rows if r["batch_size"] == n and r["precision"] == "fp32") for n in (16, 256)
    )
    quoted = [
        f"costs only {many['seconds_per_step'] / one['seconds_per_step']:.1f} times the time",
        f"a batch of 16 takes {one['seconds_per_step'] * 1000:.0f} ms",
        f"took {step['seconds_per_step'] * 1000:.0f} ms ({step['clips_per_second']:,.0f} clips/s)",
        f"{step['achieved_tflops']:.1f} TFLOP/s",
        f"{small['clips_per_second']:,.0f} clips/s",
        f"matrix-product rate of {throughput['bf16_matmul_peak_tflops']:.0f}",
    ]
    for size in (16, 32):
        probe = json.loads((folder / f"probe_{size}.json").read_text())
        last, golden = probe["evaluations"][-1], probe["targets"]["golden renders"]
        clips = last["step"] * probe["train_config"]["batch_size"]
        quoted += [f"{last['step']:,} steps", f"{clips:,} clips", f"flicker {last['flicker']:.2g}"]
        quoted += [str(round(last["dynamic_degree"], 4)), str(round(golden["dynamic_degree"], 4))]
    for text in quoted:
        assert text in " ".join(readme.split()), text


def _readme_tqd_snippet() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\nfrom tqd_lite.tqd.sampler import TimestepPolicy") + len("```python\n")
    return readme[start : readme.index("```", start)]


def _image_loop() -> dict:
    from diffusers import DDPMScheduler, UNet2DModel

    model = UNet2DModel(
        sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 8),
        down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
    )  # fmt: skip
    x0 = torch.randn(6, 3, 8, 8)
    return {
        "model": model,
        "model_kwargs": {},
        "x0": x0,
        "noise_scheduler": DDPMScheduler(num_train_timesteps=100),
    }


def _video_loop() -> dict:
    from diffusers import DDIMScheduler, UNet3DConditionModel

    model = UNet3DConditionModel(
        sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 8),
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        norm_num_groups=4, cross_attention_dim=8, attention_head_dim=4,
    )  # fmt: skip
    x0 = torch.randn(6, 3, 4, 8, 8)  # (B, C, F, H, W)
    kwargs = {"encoder_hidden_states": torch.randn(6, 2, 8)}
    return {
        "model": model,
        "model_kwargs": kwargs,
        "x0": x0,
        "noise_scheduler": DDIMScheduler(num_train_timesteps=1000),
    }


@pytest.mark.parametrize("loop", [_image_loop, _video_loop], ids=["image UNet, T=100", "video UNet, T=1000"])
def test_readme_tqd_snippet_runs_in_a_plain_diffusers_loop(loop):
    namespace = loop()
    noise = torch.randn_like(namespace["x0"])
    g = torch.Generator().manual_seed(0)
    mq, vq = torch.rand(6, generator=g), torch.rand(6, generator=g)
    namespace |= {"noise": noise, "target": noise, "mq": mq, "vq": vq, "g": g}
    exec(_readme_tqd_snippet(), namespace)
    timesteps, T = namespace["timesteps"], namespace["noise_scheduler"].config.num_train_timesteps
    assert timesteps.dtype == torch.long and 0 <= timesteps.min() <= timesteps.max() < T
    assert namespace["per_clip"].shape == (6,) and namespace["loss"].ndim == 0
    namespace["loss"].backward()  # gradients reach the model
    assert next(namespace["model"].parameters()).grad is not None
    sigmas = namespace["sigmas"]
    assert sigmas.dtype == namespace["x0"].dtype and ((0 <= sigmas) & (sigmas < 1)).all()


def _readme_export_commands() -> dict[str, list[str]]:
    """``{model folder: argv}`` of every README line that trains and exports a committed model."""
    import shlex

    commands = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("python -m tqd_lite train") and "--export data/models/" in line:
            argv = shlex.split(line.split("#")[0])[3:]
            commands[argv[argv.index("--export") + 1]] = argv
    return commands


def test_readme_commands_rebuild_the_committed_models_configs():
    """Run as written, each README command builds the training config its model records."""
    from tqd_lite.cli import build_parser, settings_overrides
    from tqd_lite.diffusion.checkpoints import model_provenance
    from tqd_lite.diffusion.train import recorded_train_config
    from tqd_lite.diffusion.training_run import default_config
    from tqd_lite.profiles import get_profile

    commands = _readme_export_commands()
    assert {"data/models/golden_quick", "data/models/golden_quick_epsilon"} <= set(commands)
    for folder, argv in commands.items():
        args = build_parser().parse_args(argv)
        config = default_config(
            get_profile(args.profile), args.seed, **settings_overrides(args.config, args.set)
        )
        recorded = recorded_train_config(model_provenance(ROOT / folder)["train_config"])
        assert config.to_dict() == recorded, f"README's command for {folder} builds another model"
