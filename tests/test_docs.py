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


def test_readme_small_batch_probe_numbers_come_from_the_result_files():
    """The README's paragraph on image models quotes the simple-world probes' step counts and times."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks"
    for name in ("golden_recipe_16_simple_b4_4000", "golden_recipe_16_simple_1500"):
        (rows,) = json.loads((folder / f"{name}.json").read_text())["arms"].values()
        last = rows[-1]
        assert f"ran {last['step']:,} " in readme and f"{last['train_seconds']:,.0f} s" in readme, name
    assert "a batch of 4 clips ran 4,000 steps" in readme and "a batch of 16 ran 1,500" in readme
    long_run = json.loads((folder / "image_model" / "25min" / "unet2d_simple_16_b32_shift4.json").read_text())
    assert f"({long_run['steps']:,} steps of {long_run['images_seen'] // long_run['steps']} frames," in readme
    shift = long_run["provenance"]["snr_shift"]
    assert f"{long_run['seconds'] / 60:.0f} minutes at shift {shift:g}" in readme


def test_readme_long_video_probe_numbers_come_from_the_result_file():
    """The README's paragraph on the 12,000-step video probe quotes its result file."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    path = ROOT / "results" / "benchmarks" / "golden_recipe_16_simple_b4_shift4_12000.json"
    result = json.loads(path.read_text())
    ((name, rows),) = result["arms"].items()
    last = rows[-1]
    assert f"ran {last['step']:,} steps ({last['train_seconds']:,.0f} s," in readme
    later = [row["dynamic_degree"] for row in rows if row["step"] >= 4000]
    golden = result["targets"]["simple"]["golden renders"]["dynamic_degree"]
    assert f"dynamic degree {min(later):.2f}-{max(later):.2f} against golden renders' {golden:.2f}" in readme
    batch = result["recipes"][name]["batch_size"]
    assert (
        f"Its {last['step']:,} steps of {batch} clips show the model {last['step'] * batch:,} scenes"
        in readme
    )
    image_run = json.loads(
        (ROOT / "results/benchmarks/image_model/25min/unet2d_simple_16_b32_shift4.json").read_text()
    )
    assert f"the 25-minute image run saw {image_run['images_seen']:,} independent frames" in readme


def test_readme_pretraining_probe_numbers_come_from_its_result_file():
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks" / "image_model" / "pretrain"
    run = json.loads((folder / "factorized_simple_16_b32_shift4_then_clips_b4.json").read_text())
    block = run["provenance"]
    assert " ".join(block["command"].split()) in readme.replace("python ", "")
    minutes = block["clip_minutes"] + float(block["command"].split("--minutes ")[1].split()[0])
    frames = run["images_seen"] // run["steps"]
    expected = (
        f"In {minutes:.0f} minutes it ran {run['steps']:,} steps of {frames} frames, "
        f"then {run['clip_steps']:,} steps of {block['clip_batch']} clips."
    )
    assert expected in readme


def test_readme_bf16_step_times_come_from_the_benchmark_files():
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks"
    fp32, bf16 = (
        json.loads((folder / f"train_tiny-clipnorm-all_16_b4_{p}_avx512bf16.json").read_text())
        for p in ("fp32", "bf16")
    )
    ms = [round(r["seconds_per_step"] * 1000) for r in (fp32, bf16)]
    assert f"at batch 4 took {ms[0]} ms in fp32 and {ms[1]} ms under autocast" in readme


def test_readme_three_times_throughput_paragraph_comes_from_the_benchmark_files():
    """The 3x target's verdict: the rate 3x needs, as a share of the measured bf16 peak."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks"
    old = json.loads((folder / "train_tiny_16_cpu.json").read_text())
    fp32, bf16, fp32_b4, bf16_b4, compiled_b4 = (
        json.loads((folder / f"train_tiny-clipnorm-all_16_b{b}_{p}_avx512bf16.json").read_text())
        for b, p in ((16, "fp32"), (16, "bf16"), (4, "fp32"), (4, "bf16"), (4, "bf16_compiled"))
    )
    assert compiled_b4["compiled"] and not bf16_b4["compiled"]
    assert fp32["parameters"] == old["parameters"]  # the same network, the norms aside
    target = 3 * old["clips_per_second"]
    gflop_per_clip = bf16["achieved_gflops"] / bf16["clips_per_second"]
    bf16_peak = bf16["achieved_gflops"] / bf16["fraction_of_bf16_peak"]
    expected = (
        f"three times the {old['clips_per_second']:.1f} clips/s of the old `tiny` step at batch 16",
        f"runs {fp32['clips_per_second']:.1f} clips/s in fp32, at {fp32['fraction_of_fp32_peak']:.0%}",
        f"and {bf16['clips_per_second']:.1f} under bf16 autocast, "
        f"{bf16['clips_per_second'] / old['clips_per_second']:.2f} times the old rate, "
        f"at {bf16['fraction_of_bf16_peak']:.0%} of the bf16 peak",
        f"Three times the old rate, {target:.1f} clips/s, would need {target * gflop_per_clip:.0f} "
        f"GFLOP/s of this step's arithmetic, {target * gflop_per_clip / bf16_peak:.0%} of the bf16 peak",
        f"{fp32_b4['clips_per_second']:.1f} clips/s in fp32.",
        f"compiling its step at batch 4 took {compiled_b4['seconds_per_step'] * 1000:.0f} ms against "
        f"{bf16_b4['seconds_per_step'] * 1000:.0f}",
    )
    for sentence in expected:
        assert sentence in readme


def test_readme_fixed_bucket_sentence_names_the_codes_constants():
    from tqd_lite.diffusion.validation import NUM_BUCKETS
    from tqd_lite.profiles import PROFILES

    readme = " ".join((ROOT / "README.md").read_text().split())
    on = [name for name, profile in PROFILES.items() if profile.validation_clips]
    assert on == ["full", "gpu"] and PROFILES["full"].validation_clips == PROFILES["gpu"].validation_clips
    clips = PROFILES["full"].validation_clips
    expected = f"in the full and gpu profiles: the denoising loss of the first {clips} held-out golden clips"
    assert f"{expected} at {NUM_BUCKETS} fixed timesteps" in readme


def test_readme_causes_table_numbers_come_from_the_probe_files():
    """Each number of the causes table is a 600-step probe's last row (or the H200's 32-px probe)."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| Cause | What was tried | Verdict |") :].split("\n\n")[0]
    folder = ROOT / "results" / "benchmarks"
    files = {
        "renders-cosine": "golden_recipe_16_b.json",
        "renders-cosine-nosnr": "golden_recipe_16_nosnr.json",
        "renders-cosine-nosnr-clipnorm": "golden_recipe_16_clipnorm.json",
        "renders-cosine-attn": "golden_recipe_16.json",
        "renders-cosine-attn-mixed": "golden_recipe_16_b.json",
    }
    row = {arm: json.loads((folder / file).read_text())["arms"][arm][-1] for arm, file in files.items()}
    plain, nosnr, clipnorm = (
        row["renders-cosine"],
        row["renders-cosine-nosnr"],
        row["renders-cosine-nosnr-clipnorm"],
    )
    attn, mixed = row["renders-cosine-attn"], row["renders-cosine-attn-mixed"]
    gpu = json.loads((folder / "gpu_probe" / "probe_32.json").read_text())
    quoted = [
        f"(`renders-cosine`): FD {plain['fd']:.1f}",
        f"(`renders-cosine-nosnr`): {nosnr['fd']:.1f}",
        f"flicker {nosnr['flicker']:.4f} → {clipnorm['flicker']:.4f}",
        f"(`renders-cosine-attn`): FD {attn['fd']:.1f}, flicker {attn['flicker']:.4f} "
        f"(without: {plain['fd']:.1f}, {plain['flicker']:.4f})",
        f"(`renders-cosine-attn-mixed`): {mixed['fd']:.1f}",
        f"at 32 px on the H200, {gpu['evaluations'][-1]['flicker']:.4f} "
        f"(golden {gpu['targets']['golden renders']['flicker']:.4f})",
    ]
    for text in quoted:
        assert text in table, text


def _readme_tqd_blocks() -> list[str]:
    """The README's TQD blocks: the policy, then the image loop and the video loop."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("```python\nfrom tqd_lite.tqd.sampler import TimestepPolicy")
    blocks = re.findall(r"```python\n(.*?)```", readme[start:], flags=re.S)[:3]
    assert "images" in blocks[1] and "encoder_hidden_states" in blocks[2]
    return blocks


def _image_loop() -> dict:
    from diffusers import DDPMScheduler, UNet2DModel

    unet = UNet2DModel(
        sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 8),
        down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
    )  # fmt: skip
    return {
        "unet": unet,
        "images": torch.randn(6, 3, 8, 8),
        "noise_scheduler": DDPMScheduler(num_train_timesteps=100),
    }


def _video_loop() -> dict:
    from diffusers import DDIMScheduler, UNet3DConditionModel

    unet = UNet3DConditionModel(
        sample_size=8, in_channels=3, out_channels=3, layers_per_block=1, block_out_channels=(8, 8),
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        norm_num_groups=4, cross_attention_dim=8, attention_head_dim=4,
    )  # fmt: skip
    return {
        "unet": unet,
        "clips": torch.randn(6, 3, 4, 8, 8),  # (B, C, F, H, W)
        "text_embeddings": torch.randn(6, 2, 8),
        "noise_scheduler": DDIMScheduler(num_train_timesteps=1000),
    }


@pytest.mark.parametrize(
    "variant", [1, 2], ids=["image UNet2DModel, T=100", "video UNet3DConditionModel, T=1000"]
)
def test_readme_tqd_snippets_run_as_printed_in_plain_diffusers_loops(variant):
    namespace = (_image_loop, _video_loop)[variant - 1]()
    data = namespace.get("images", namespace.get("clips"))
    g = torch.Generator().manual_seed(0)
    namespace |= {
        "noise": torch.randn_like(data),
        "mq": torch.rand(6, generator=g),
        "vq": torch.rand(6, generator=g),
    }
    namespace["g"] = g
    blocks = _readme_tqd_blocks()
    exec(blocks[0] + blocks[variant], namespace)
    timesteps, T = namespace["timesteps"], namespace["noise_scheduler"].config.num_train_timesteps
    assert timesteps.dtype == torch.long and 0 <= timesteps.min() <= timesteps.max() < T
    assert namespace["loss"].ndim == 0 and namespace["weights"].dtype == torch.float32
    namespace["loss"].backward()  # gradients reach the model
    assert next(namespace["unet"].parameters()).grad is not None
    sigmas, _ = namespace["policy"].draw(namespace["mq"], namespace["vq"], generator=g, dtype=data.dtype)
    assert sigmas.dtype == data.dtype and ((0 <= sigmas) & (sigmas < 1)).all()


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


def _readme_cli_commands() -> list[str]:
    """Every ``python -m tqd_lite ...`` command the README prints, in code blocks or inline."""
    readme = (ROOT / "README.md").read_text()
    found = re.findall(r"^python -m tqd_lite [^\n#]*", readme, flags=re.M)
    found += re.findall(r"`(python -m tqd_lite [^`]*)`", readme)
    return sorted({c.strip() for c in found})


def test_every_readme_command_parses_and_builds_its_config():
    """The README's commands are long runs, so they are checked as printed without running them:
    the parser accepts every argument, and every --set / --policy builds its config."""
    import shlex

    from tqd_lite.cli import build_parser, settings_overrides, timestep_policy
    from tqd_lite.diffusion.training_run import default_config
    from tqd_lite.mcm.distill import DistillConfig
    from tqd_lite.profiles import get_profile, override_fields
    from tqd_lite.tqd.gradient_run import default_analysis_config

    commands = _readme_cli_commands()
    assert len(commands) > 25
    for command in commands:
        argv = shlex.split(command)[3:]
        if argv == ["--help"]:
            continue
        args = build_parser().parse_args(argv)
        if getattr(args, "config", None):  # a user's own file, e.g. my_run.yaml
            continue
        overrides = settings_overrides(None, getattr(args, "set", None) or [])
        profile = get_profile(getattr(args, "profile", None))
        if args.command == "train":
            default_config(profile, args.seed, **overrides)
            timestep_policy(args.policy)
        elif args.command == "distill":
            override_fields(DistillConfig(), overrides, "distillation")
        elif args.command == "analyze-gradients":
            default_analysis_config(profile, args.seed, **overrides)
    benchmarks = set(re.findall(r"python (benchmarks/\w+\.py)", (ROOT / "README.md").read_text()))
    assert benchmarks and all((ROOT / script).is_file() for script in benchmarks)


def test_readme_library_two_stage_run_numbers_come_from_its_result_files():
    """The paragraph on the frames-first run quotes its report, its target curve and the world probe."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks" / "golden_simple_16"
    report = json.loads((folder / "train.json").read_text())
    config = report["train_config"]
    assert " ".join(report["provenance"]["command"].replace(" --no-progress", "").split()) in readme
    frames, clips = config["frame_steps"], config["steps"] - config["frame_steps"]
    assert f"It trained {frames:,} steps on single frames" in readme and f"then {clips:,} on clips" in readme
    assert f"in {report['train_seconds'] / 60:.0f} minutes on 2 cores" in readme
    curve = json.loads((folder / "targets_curve.json").read_text())["curve"]
    last = curve[-1]["targets"]
    assert not last["motion"]["passed"] and not last["flicker"]["passed"] and not last["distance"]["passed"]
    first_clips = next(point for point in curve if point["step"] > frames)
    assert f"{first_clips['step'] - frames:,} clip steps later" in readme
    assert first_clips["flicker"] < 0.5 * curve[0]["flicker"]  # where the curve turns


def test_readme_world_paragraph_numbers_come_from_the_world_probe_and_the_full_dilemma():
    """The paragraph on the project's world quotes the world probe, the full pool's dilemma and the
    pool's latent correlation."""
    from tqd_lite.world.pool import PoolConfig
    from tqd_lite.world.render import WORLD

    readme = " ".join((ROOT / "README.md").read_text().split())
    assert WORLD.name == "simple" and "**The project's world is the simple one.**" in readme
    assert f"went from -0.3 to {PoolConfig().latent_correlation}" in readme
    worlds = json.loads((ROOT / "results/benchmarks/world_dilemma_16.json").read_text())["worlds"]
    simple, classic = worlds["simple"], worlds["classic"]
    assert (
        f"r(VQ, MQ) = {simple['correlation_vq_mq']:.3f} and a golden share of {simple['golden_share']:.1%}"
        in readme
    )
    assert f"({classic['correlation_vq_mq']:.3f} and {classic['golden_share']:.1%} in the classic" in readme
    full = json.loads((ROOT / "results/full/dilemma/report.json").read_text())["dilemma"]
    assert f"gives {full['correlation_vq_mq']:.3f} and {full['golden_share']:.1%}" in readme


def test_readme_quick_recipe_paragraph_numbers_come_from_its_result_files():
    """The paragraph on the quick golden model quotes its report and target curve, and the attention
    probe's; the command it prints is the one the committed model records."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "benchmarks"
    report = json.loads((folder / "golden_quick_uniform" / "train.json").read_text())
    command = " ".join(report["provenance"]["command"].replace(" --no-progress", "").split())
    assert command in readme and "--export data/models/golden_quick" in command
    assert "timestep_logit_mean" not in report["train_config"]  # made before the recipe drew them
    assert f"in {report['train_seconds'] / 60:.1f} minutes of training on 2 cores" in readme
    curve = json.loads((folder / "golden_quick_uniform" / "targets_curve.json").read_text())
    last, golden = curve["curve"][-1], curve["rows"]["golden renders"]
    targets = last["targets"]
    assert targets["sprites"]["passed"] and "it meets the sprite share only" in readme
    assert not any(targets[name]["passed"] for name in ("flicker", "motion", "distance"))
    assert (
        f"at step {last['step']:,}, flicker {last['flicker']:.4f} against a bound of "
        f"{targets['flicker']['bound']:.4f}, coherent-motion dynamic degree {last['dynamic_degree']:.2f} "
        f"against golden renders' {golden['dynamic_degree']:.2f}, and a Fréchet distance of "
        f"{last['fd']:.2f} against a bound of {targets['distance']['bound']:.2f}"
    ) in readme
    frames = report["train_config"]["frame_steps"]
    turn = next(point for point in curve["curve"] if point["step"] > frames)
    assert f"(step {turn['step']:,}: distance {turn['fd']:.2f})" in readme
    attn = json.loads((folder / "golden_quick_attn" / "targets_curve.json").read_text())["curve"][-1]
    attn_report = json.loads((folder / "golden_quick_attn" / "train.json").read_text())
    assert (
        f"(flicker {attn['flicker']:.4f} against {last['flicker']:.4f}, dynamic degree "
        f"{attn['dynamic_degree']:.2f} against {last['dynamic_degree']:.2f}, distance {attn['fd']:.2f} "
        f"against {last['fd']:.2f}), in {attn_report['train_seconds'] / 60:.1f} minutes"
    ) in readme
    assert attn["fd"] > last["fd"] and attn["dynamic_degree"] <= last["dynamic_degree"]


def _targets_sentence(result: dict, *, interval: bool) -> str:
    """How the README quotes a targets file's flicker, motion and distance against their bounds."""
    s, t, golden = result["samples"], result["targets"], result["rows"]["golden renders"]
    distance = f"{s['fd']:.2f}" + (f" ({s['fd_low']:.2f}–{s['fd_high']:.2f})" if interval else "")
    return (
        f"flicker {t['flicker']['value']:.4f} against a bound of {t['flicker']['bound']:.4f}, "
        f"dynamic degree {s['dynamic_degree']:.2f} against golden renders' {golden['dynamic_degree']:.2f}, "
        f"and a Fréchet distance of {distance} against a bound of {t['distance']['bound']:.2f}"
    )


def test_readme_sampling_steps_table_comes_from_its_result_files():
    """The table of the quick golden model sampled with 25, 50 and 100 DDIM steps and with its raw
    weights quotes the targets files, whose commands used those steps and weights."""
    readme = (ROOT / "README.md").read_text()
    folder = ROOT / "results" / "benchmarks" / "golden_quick_uniform" / "sampling"
    rows = {"EMA, 25": "ema_ddim25", "EMA, 50": "ema_ddim50", "EMA, 100": "ema_ddim100"}
    rows["raw, 50"] = "raw_ddim50"
    distances = {}
    for label, name in rows.items():
        result = json.loads((folder / name / "targets.json").read_text())
        s, command = result["samples"], result["provenance"]["command"]
        assert ("--raw-weights" in command) == label.startswith("raw")
        steps = int(label.split(", ")[1])
        assert f"--steps {steps}" in command or (steps == 25 and "reproduce golden-model" in command)
        assert (
            f"| {label} | {s['flicker']:.4f} | {s['dynamic_degree']:.2f} | "
            f"{s['fd']:.2f} ({s['fd_low']:.2f}–{s['fd_high']:.2f}) |"
        ) in readme
        distances[label] = s
    # "the 25-step distance lies above the 50-step interval, and the 50-step one below the 25-step interval"
    assert distances["EMA, 25"]["fd"] > distances["EMA, 50"]["fd_high"]
    assert distances["EMA, 50"]["fd"] < distances["EMA, 25"]["fd_low"]
    assert distances["EMA, 100"]["fd"] < distances["EMA, 50"]["fd"]
    assert 1.8 < distances["EMA, 25"]["fd"] / distances["EMA, 50"]["fd"] < 2.2  # "about doubled"
    assert "which 25 steps about doubled" in readme
    raw, ema = distances["raw, 50"], distances["EMA, 50"]  # "not measurably better (the intervals overlap)"
    assert raw["fd_low"] < ema["fd_high"] and ema["fd_low"] < raw["fd_high"]
    degrees = [distances[f"EMA, {n}"]["dynamic_degree"] for n in (25, 50, 100)]  # "with no trend"
    assert degrees != sorted(degrees) and degrees != sorted(degrees, reverse=True)
    committed = json.loads((folder.parent / "targets.json").read_text())  # reproduce golden-model's
    t, provenance = committed["targets"], committed["provenance"]
    assert provenance["sample_steps"] == 50 and "reproduce golden-model" in provenance["command"]
    assert [name for name in t if t[name]["passed"]] == ["sprites"]
    sentence = _targets_sentence(committed, interval=False)
    assert f"{sentence}: the sprite share is still the only target met" in " ".join(readme.split())


def test_readme_full_golden_model_paragraph_comes_from_its_result_files():
    """The 32-px golden model's training time, clip-stage timings and 50-step targets quote the
    committed report and targets file, whose commands made them."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    folder = ROOT / "results" / "full" / "golden_model"
    report = json.loads((folder / "train.json").read_text())
    assert "--export data/models/golden_full" in report["provenance"]["command"]
    steps = report["train_config"]["steps"]
    assert f"gives {steps} steps in {report['train_seconds']:.0f} s of training" in readme
    seconds = {e["step"]: e["train_seconds"] for e in report["evaluations"]}
    frame_steps = report["train_config"]["frame_steps"]
    stage = [seconds[frame_steps + 2000] - seconds[frame_steps], seconds[steps] - seconds[frame_steps + 2000]]
    assert f"took {stage[0]:.0f} s and {stage[1]:.0f} s per 2,000" in readme
    result = json.loads((folder / "ddim50" / "targets.json").read_text())
    provenance, t = result["provenance"], result["targets"]
    assert provenance["profile"] == "full" and provenance["sample_steps"] == 50
    assert provenance["checkpoint"] == "data/models/golden_full" and "--num-clips 96" in provenance["command"]
    assert [name for name in t if t[name]["passed"]] == ["sprites"]
    assert "it meets the sprite target only: " + _targets_sentence(result, interval=True) in readme


def test_readme_data_cause_row_comes_from_the_set_c_probe():
    """The causes table's data row quotes the Set-C probe's and the committed model's 50-step
    targets files, and its verdict follows from their intervals."""
    readme = (ROOT / "README.md").read_text()
    bench = ROOT / "results" / "benchmarks"
    probe = json.loads((bench / "golden_quick_setc" / "ddim50" / "targets.json").read_text())
    committed = json.loads((bench / "golden_quick_uniform" / "targets.json").read_text())
    report = json.loads((bench / "golden_quick_setc" / "train.json").read_text())
    assert "--split set_c" in report["provenance"]["command"] and report["split"] == "set_c"
    assert f"the pool's {report['train_clips']} Set-C clips" in readme
    p, c = probe["samples"], committed["samples"]
    assert probe["provenance"]["sample_steps"] == committed["provenance"]["sample_steps"] == 50
    assert (
        f"Fréchet distance {p['fd']:.2f} ({p['fd_low']:.2f}–{p['fd_high']:.2f}) against the "
        f"uniform-timestep model's {c['fd']:.2f} ({c['fd_low']:.2f}–{c['fd_high']:.2f}), "
        f"flicker {p['flicker']:.4f} against {c['flicker']:.4f}, "
        f"dynamic degree {p['dynamic_degree']:.2f} against {c['dynamic_degree']:.2f}"
    ) in readme
    assert p["fd_low"] > c["fd_high"]  # "confirmed for the distance"
    assert (
        p["flicker"] < c["flicker"] and p["dynamic_degree"] <= c["dynamic_degree"]
    )  # "a little less", "no better"


def test_readme_high_noise_recipe_paragraph_comes_from_its_result_files():
    """The paragraph on the recipe's timestep density quotes the retrained quick model's report and
    its 50-step targets; its loss history is the high-noise probe's, step for step."""
    from tqd_lite.profiles import get_profile

    readme = " ".join((ROOT / "README.md").read_text().split())
    bench = ROOT / "results" / "benchmarks"
    report = json.loads((bench / "golden_quick" / "train.json").read_text())
    probe = json.loads((bench / "golden_quick_highnoise15" / "train.json").read_text())
    made = json.loads((ROOT / "data/models/golden_quick/provenance.json").read_text())
    assert made["provenance"]["command"] == report["provenance"]["command"]
    assert made["train_config"]["timestep_logit_mean"] == get_profile("quick").train_logit_mean
    assert f"a logit-normal of mean {get_profile('quick').train_logit_mean:g}" in readme
    command = " ".join(report["provenance"]["command"].replace(" --no-progress", "").split())
    assert f"by the same command as before, `{command}`" in readme
    assert report["loss_history"] == probe["loss_history"]  # "the same run, step for step"
    assert f"in {report['train_seconds'] / 60:.1f} minutes of training" in readme
    result = json.loads((bench / "golden_quick" / "targets.json").read_text())
    t = result["targets"]
    assert "reproduce golden-model" in result["provenance"]["command"]
    assert result["provenance"]["sample_steps"] == 50
    assert [name for name in t if t[name]["passed"]] == ["sprites", "distance"]
    assert _targets_sentence(result, interval=True) in readme


LEVERS = {  # the levers table's rows: label -> (targets file, training report or None, flag in its command)
    "the recipe with uniform timesteps (`golden_quick_uniform`)": (
        "golden_quick_uniform/targets.json",
        "golden_quick_uniform/train.json",
        "",
    ),
    "3x3x3 temporal kernels at the top level (`--set preset=tiny-clipnorm-all-st1`, `golden_quick_st1`)": (
        "golden_quick_st1/ddim50/targets.json",
        "golden_quick_st1/train.json",
        "--set preset=tiny-clipnorm-all-st1",
    ),
    "three quarters of the steps on clips (`--set frame_steps=1125`, `golden_quick_clips3q`)": (
        "golden_quick_clips3q/ddim50/targets.json",
        "golden_quick_clips3q/train.json",
        "--set frame_steps=1125",
    ),
    "timesteps drawn toward high noise (`--policy sampler=logit_normal --policy logit_mean=1.0`, "
    "`golden_quick_highnoise`)": (
        "golden_quick_highnoise/ddim50/targets.json",
        "golden_quick_highnoise/train.json",
        "--policy sampler=logit_normal --policy logit_mean=1.0",
    ),
    "timesteps drawn further toward high noise (`--policy sampler=logit_normal --policy logit_mean=1.5`, "
    "`golden_quick_highnoise15`)": (
        "golden_quick_highnoise15/ddim50/targets.json",
        "golden_quick_highnoise15/train.json",
        "--policy sampler=logit_normal --policy logit_mean=1.5",
    ),
    "only the temporal layers learn in the clip stage, on the high-noise recipe "
    "(`--set clip_stage_layers=temporal`, `golden_quick_temporal_stage`)": (
        "golden_quick_temporal_stage/ddim50/targets.json",
        "golden_quick_temporal_stage/train.json",
        "--set clip_stage_layers=temporal",
    ),
    "the learning rate restarted when the clips begin, on the high-noise recipe "
    "(`--set lr_schedule=cosine_per_stage`, `golden_quick_lr_restart`)": (
        "golden_quick_lr_restart/ddim50/targets.json",
        "golden_quick_lr_restart/train.json",
        "--set lr_schedule=cosine_per_stage",
    ),
    "the uniform-timestep model, ancestral DDPM steps (`sample --ancestral`, "
    "`golden_quick_uniform/sampling/ancestral_ddpm50`)": (
        "golden_quick_uniform/sampling/ancestral_ddpm50/targets.json",
        None,
        "--ancestral",
    ),
    "the high-noise model, ancestral DDPM steps (`golden_quick_highnoise/ddpm50`)": (
        "golden_quick_highnoise/ddpm50/targets.json",
        None,
        "--ancestral",
    ),
    "the further high-noise model, ancestral DDPM steps (`golden_quick_highnoise15/ddpm50`)": (
        "golden_quick_highnoise15/ddpm50/targets.json",
        None,
        "--ancestral",
    ),
}


def _target_cell(target: dict, digits: str) -> str:
    """A target's value and bound as the standing table prints them, with ": met" where passed."""
    met = ": met" if target["passed"] else ""
    return f"{target['value']:{digits}} ({target['bound']:{digits}}){met}"


def test_readme_targets_standing_table_comes_from_the_committed_models_targets_files():
    """Each committed golden model's row quotes its DDIM-50 targets file and training report."""
    readme = " ".join((ROOT / "README.md").read_text().split())
    bench, full = ROOT / "results" / "benchmarks", ROOT / "results" / "full" / "golden_model"
    models = {
        "quick, 16 px (`data/models/golden_quick`)": (bench / "golden_quick", bench / "golden_quick"),
        "full, 32 px (`data/models/golden_full`)": (full / "ddim50", full),
    }
    for label, (targets_folder, train_folder) in models.items():
        result = json.loads((targets_folder / "targets.json").read_text())
        report = json.loads((train_folder / "train.json").read_text())
        assert result["provenance"]["sample_steps"] == 50 and result["samples"]["num_clips"] == 96
        t, golden = result["targets"], result["rows"]["golden renders"]
        row = (
            f"| {label} | {report['train_seconds'] / 60:.1f} min | {_target_cell(t['sprites'], '.2f')} | "
            f"{_target_cell(t['flicker'], '.4f')} | {result['samples']['dynamic_degree']:.2f} "
            f"({golden['dynamic_degree']:.2f}) | {_target_cell(t['distance'], '.2f')} |"
        )
        assert row in readme, row
        assert not t["flicker"]["passed"] and not t["motion"]["passed"]  # "neither draws the world yet"
    simple = json.loads((bench / "golden_simple_16" / "train.json").read_text())["train_config"]
    simple_frame_steps = simple["frame_steps"]
    assert f"the simple world's {simple['steps'] - simple_frame_steps:,} clip steps" in readme
    clip_stage = [
        r["dynamic_degree"]
        for r in json.loads((bench / "golden_simple_16" / "targets_curve.json").read_text())["curve"]
        if r["step"] > simple_frame_steps
    ]
    assert f"held dynamic degree between {min(clip_stage):.2f} and {max(clip_stage):.2f} at 16 px" in readme
    probe = json.loads((bench / "gpu_probe" / "probe_32.json").read_text())
    gpu_clips = probe["evaluations"][-1]["step"] * probe["train_config"]["batch_size"]
    full_config = json.loads((full / "train.json").read_text())["train_config"]
    full_clips = (full_config["steps"] - full_config["frame_steps"]) * full_config["batch_size"]
    assert f"after {gpu_clips:,} clips, {gpu_clips / full_clips:.0f} times the clips" in readme


def test_readme_levers_table_and_its_verdicts_come_from_the_result_files():
    """Each row of the quick levers table quotes its targets file (DDIM or DDPM, 50 steps, 96 clips)
    and its training report, whose commands hold the row's flag; the verdicts under it follow."""
    readme = (ROOT / "README.md").read_text()
    bench = ROOT / "results" / "benchmarks"
    samples, targets, seconds = {}, {}, {}
    for label, (target_file, train_file, flag) in LEVERS.items():
        result = json.loads((bench / target_file).read_text())
        s, provenance = result["samples"], result["provenance"]
        assert provenance["sample_steps"] == 50 and result["rows"]["golden renders"]["num_clips"] == 96
        assert (provenance.get("scheduler") == "DDPMScheduler") == (flag == "--ancestral")
        name, trained = label.split(" (")[0], "—"
        if train_file:
            report = json.loads((bench / train_file).read_text())
            assert flag in report["provenance"]["command"] and report["train_config"]["steps"] == 4500
            seconds[name] = report["train_seconds"]
            trained = f"{seconds[name]:.0f}"
        else:
            assert flag in provenance["command"]
        row = (
            f"| {label} | {trained} | {s['flicker']:.4f} | {s['dynamic_degree']:.2f} | "
            f"{s['fd']:.2f} ({s['fd_low']:.2f}–{s['fd_high']:.2f}) |"
        )
        assert row in readme, row
        samples[name], targets[name] = s, result["targets"]
    base, st1 = (
        samples["the recipe with uniform timesteps"],
        samples["3x3x3 temporal kernels at the top level"],
    )
    clips = samples["three quarters of the steps on clips"]
    high = samples["timesteps drawn toward high noise"]
    ancestral = samples["the uniform-timestep model, ancestral DDPM steps"]
    high_ancestral = samples["the high-noise model, ancestral DDPM steps"]
    further_ancestral = samples["the further high-noise model, ancestral DDPM steps"]
    # "nothing measurable": the distance inside the interval, flicker and motion "move by little"
    assert st1["fd_low"] < base["fd"] < st1["fd_high"]
    assert (
        abs(st1["flicker"] - base["flicker"]) < 0.001
        and abs(st1["dynamic_degree"] - base["dynamic_degree"]) < 0.1
    )
    # "took longer than the other probes run alone the same day" (the first high-noise run shared the CPU)
    for alone in ("three quarters of the steps on clips", "timesteps drawn further toward high noise"):
        assert seconds[alone] < seconds["3x3x3 temporal kernels at the top level"]
    assert clips["dynamic_degree"] <= base["dynamic_degree"] and clips["fd_low"] < base["fd"]  # "no better"
    # "moved flicker, the sprite count and the distance toward golden renders'"
    assert high["flicker"] < base["flicker"] and high["sprite_count"] < base["sprite_count"]
    distance = targets["timesteps drawn toward high noise"]["distance"]
    assert (
        distance["passed"] and high["fd_high"] > distance["bound"] and base["fd_low"] < distance["bound"]
    )  # "by a hair"
    restart = "the learning rate restarted when the clips begin, on the high-noise recipe"
    high_noise = ["timesteps drawn toward high noise", "timesteps drawn further toward high noise", restart]
    assert [k for k, t in targets.items() if t["distance"]["passed"]] == high_noise
    # further toward high noise: the distance falls again, flicker and motion stay where they were
    further = samples["timesteps drawn further toward high noise"]
    assert high["fd_low"] < further["fd"] < high["fd"] and abs(further["flicker"] - high["flicker"]) < 0.0005
    assert abs(further["dynamic_degree"] - high["dynamic_degree"]) < 0.1
    # only the temporal layers in the clip stage, against the same draw: worse on all three, and slower
    name = "only the temporal layers learn in the clip stage, on the high-noise recipe"
    temporal = samples[name]
    assert temporal["flicker"] > further["flicker"] and temporal["dynamic_degree"] < further["dynamic_degree"]
    assert (
        temporal["fd_low"] > further["fd"]
        and seconds[name] > seconds["timesteps drawn further toward high noise"]
    )
    # the restart, against the same draw: the distance falls inside that row's interval, flicker is
    # no lower and motion no higher
    restarted = samples[restart]
    assert further["fd_low"] < restarted["fd"] < further["fd"]
    assert (
        restarted["flicker"] >= further["flicker"]
        and restarted["dynamic_degree"] <= further["dynamic_degree"]
    )
    for other in (bench / "golden_quick_uniform" / "sampling").glob("*/targets.json"):  # the sampling table's
        assert not json.loads(other.read_text())["targets"]["distance"]["passed"], other
    assert abs(high["dynamic_degree"] - base["dynamic_degree"]) < 0.1  # "its motion is unchanged"
    # ancestral steps: less flicker with each model, no more motion; the high-noise distances
    # rise, more than doubling at mean 1.0
    pairs = ((ancestral, base), (high_ancestral, high), (further_ancestral, further))
    assert all(a["flicker"] < d["flicker"] and a["dynamic_degree"] <= d["dynamic_degree"] for a, d in pairs)
    assert high_ancestral["fd"] > 2 * high["fd"] and further_ancestral["fd"] > further["fd"]


def test_readme_tqd_run_length_paragraph_comes_from_the_convergence_curve():
    """The full profile's fine-tuning length is where the baseline's curve flattens, as the README says."""
    from statistics import mean

    from tqd_lite.profiles import get_profile
    from tqd_lite.tqd.experiments import fd_plateau_step, select_arms

    readme = " ".join((ROOT / "README.md").read_text().split())
    curve = json.loads((ROOT / "results" / "full" / "tqd" / "convergence" / "train.json").read_text())
    assert "+dirty" not in curve["provenance"]["git_commit"]
    by_step = {e["step"]: e for e in curve["evaluations"]}
    last, plateau = max(by_step), fd_plateau_step(curve["evaluations"])
    full = get_profile("full")
    steps = full.tqd_steps
    assert steps == plateau
    evaluation = mean(e["eval_seconds"] for e in curve["evaluations"][1:])
    runs = len(full.tqd_seeds) * len(select_arms(("main", "ablation")))

    def hours(step):
        return runs * (by_step[step]["train_seconds"] + evaluation) / 3600

    loss = {step: by_step[step]["fixed_bucket_loss"] for step in (plateau, last)}
    later = curve["evaluations"][1:]
    lowest = min(later, key=lambda e: e["fd"])
    after = [e["fd"] for e in later if e["step"] > lowest["step"]]
    run = json.loads(
        (ROOT / "results" / "full" / "tqd" / "runs" / "set_a-baseline-seed0" / "train.json").read_text()
    )
    assert run["train_config"]["steps"] == steps and "+dirty" not in run["provenance"]["git_commit"]
    expected = (
        f"fine-tuned the base model for {last} steps with an evaluation every {later[0]['step']} "
        f"(`python benchmarks/tqd_convergence.py --profile full`, `results/full/tqd/convergence/`). "
        f"The suite's FD fell from {by_step[0]['fd']:.1f} (the base image model, whose frames do not hang "
        f"together) to {lowest['fd']:.1f} after {lowest['step']} steps, its lowest; later evaluations "
        f"wavered between {min(after):.1f} and {max(after):.1f}, and from {plateau} steps on every later FD "
        f"lies inside that evaluation's 95% interval (`tqd.experiments.fd_plateau_step`). The fixed-bucket "
        f"validation loss kept falling: at {plateau} steps it was "
        f"{round(100 * (loss[plateau] / loss[last] - 1))}% above its value at {last} ({loss[plateau]:.3f} "
        f"against {loss[last]:.3f}). So the full profile fine-tunes {steps} steps. The curve's learning "
        f"rate decays over its {last} steps, so its point at {plateau} is not a finished {plateau}-step run, "
        f"whose rate has decayed to zero: the committed seed-0 baseline "
        f"(`results/full/tqd/runs/set_a-baseline-seed0/train.json`) ends at FD {run['final']['fd']:.1f} and "
        f"fixed-bucket loss {run['final']['fixed_bucket_loss']:.3f}. At the curve run's pace a run takes "
        f"{by_step[steps]['train_seconds'] / 60:.1f} minutes of training and {evaluation / 60:.1f} of "
        f"evaluation on 2 CPU cores, and the main table and the ablation ({runs} runs) about "
        f"{hours(steps):.1f} hours; at {last} steps they would take {hours(last):.1f}."
    )
    assert expected in readme
    probe = json.loads((ROOT / "results" / "benchmarks" / "gpu_probe" / "throughput.json").read_text())
    preset = get_profile(full.tqd_pool).model_preset
    step = {
        r["batch_size"]: r["seconds_per_step"]
        for r in probe["train_steps"]
        if r["preset"] == preset and r["precision"] == "fp32" and not r["compiled"]
    }
    gpu = (
        f"launch-bound on the H200 ({step[16]:.3f} s at batch 16 and {step[256]:.3f} s at batch 256, "
        f"`results/benchmarks/gpu_probe/throughput.json`). Taking batch 4 at batch 16's time, a run's "
        f"{steps} steps would take about {steps * step[16]:.0f} s there and the {runs} runs about "
        f"{runs * steps * step[16] / 60:.0f} minutes of training one after another"
    )
    assert gpu in readme
