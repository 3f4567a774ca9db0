"""Per-sample gradients, group cosines and the gradient-similarity analysis."""

import json
import math
import shutil

import numpy as np
import pytest
import torch
from scipy import stats

from tqd_lite.cli import main
from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.noise import make_noise_scheduler
from tqd_lite.paths import data_dir, golden_model_path
from tqd_lite.stats import mean_ci
from tqd_lite.tqd.gradient_analysis import (
    GradientAnalysisConfig,
    Variant,
    analyze,
    apply_variant,
    crossing_timestep,
    curve,
    gap_curve,
    mse_matched_blur,
    pixel_mse,
)
from tqd_lite.tqd.gradient_run import load_analysis_model
from tqd_lite.tqd.gradients import (
    GradientSet,
    check_timesteps,
    group_cosines,
    layer_groups,
    looped_gradients,
    per_sample_gradients,
)
from tqd_lite.viz.widgets import GradientExplorer
from tqd_lite.world.degrade import freeze
from tqd_lite.world.render import ClipSpec, render_clips


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return build_model("tiny").eval(), make_noise_scheduler("v_prediction")


@pytest.fixture(scope="module")
def small_clips():
    """Eight 8x8 clips of 4 frames, in [0, 1]: enough for two batches of four."""
    return render_clips([ClipSpec(seed=i, num_frames=4, size=8) for i in range(8)])


def _inputs(n=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.rand(n, 3, 4, 8, 8, generator=g) * 2 - 1
    return x0, torch.randn(x0.shape, generator=g), torch.tensor([5, 500, 990][:n])


def _flat(gradients: dict) -> torch.Tensor:
    return torch.cat([g.flatten(1) for g in gradients.values()], dim=1)  # (B, num_weights)


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal to float32 precision, clip by clip: the difference is a millionth of the gradient's
    size (the same terms summed in another order differ in their last bits; parameters whose
    gradient is zero in exact arithmetic, like a bias just before a GroupNorm, are pure round-off)."""
    return bool(((a - b).norm(dim=-1) <= 1e-5 * b.norm(dim=-1) + 1e-10).all())


# ----------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon"])
def test_vmapped_per_sample_gradients_equal_looped_backward_passes(tiny, prediction_type):
    model, _ = tiny
    scheduler = make_noise_scheduler(prediction_type)
    x0, noise, t = _inputs()
    vmapped = per_sample_gradients(model, scheduler, x0, noise, t)
    looped = looped_gradients(model, scheduler, x0, noise, t)
    assert vmapped.keys() == looped.keys()
    for name in looped:
        assert vmapped[name].shape == looped[name].shape
        assert vmapped[name].shape[0] == 3
    assert _close(_flat(vmapped), _flat(looped))
    chunked = per_sample_gradients(model, scheduler, x0, noise, t, chunk_size=2)
    assert _close(_flat(chunked), _flat(vmapped))


def test_mean_of_per_sample_gradients_is_the_minibatch_gradient(tiny):
    """d/dtheta of (1/B) sum_i L_i is the mean of the per-clip gradients."""
    model, scheduler = tiny
    x0, noise, t = _inputs()
    per_sample = GradientSet.of(per_sample_gradients(model, scheduler, x0, noise, t)).mean().gradients
    model.zero_grad()
    x_t = scheduler.add_noise(x0, noise, t)
    target = scheduler.get_velocity(x0, noise, t)
    losses = (model(x_t, t) - target).pow(2).mean(dim=(1, 2, 3, 4))
    losses.mean().backward()
    batch_gradient = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert _close(_flat(per_sample)[0], batch_gradient)
    model.zero_grad()


def test_cosine_of_identical_gradients_is_one_and_of_known_angles_is_exact():
    a = {"w": torch.tensor([[1.0, 0.0]]), "b": torch.tensor([[0.0]])}
    b = {"w": torch.tensor([[1.0, 1.0]]), "b": torch.tensor([[2.0]])}
    groups = {"all": ["w", "b"], "w": ["w"]}
    same = group_cosines(a, a, {"w": ["w"]})
    assert same["w"].item() == pytest.approx(1.0, abs=1e-12)
    cos = group_cosines(a, b, groups)
    assert cos["w"].item() == pytest.approx(1 / math.sqrt(2))  # 45 degrees
    assert cos["all"].item() == pytest.approx(1 / math.sqrt(6))  # <(1,0,0),(1,1,2)> / sqrt(6)


def test_cosine_of_a_real_gradient_with_itself_is_one_in_every_group(tiny):
    model, scheduler = tiny
    grads = per_sample_gradients(model, scheduler, *_inputs(2))
    for group, cos in group_cosines(grads, grads, layer_groups(model)).items():
        assert torch.allclose(cos, torch.ones(2, dtype=torch.float64), atol=1e-10), group


def test_layer_groups_split_spatial_and_temporal_and_cover_every_block(tiny):
    model, _ = tiny
    groups = layer_groups(model)
    names = [n for n, _ in model.named_parameters()]
    assert groups["all"] == names
    assert not set(groups["spatial"]) & set(groups["temporal"])
    blocks = [g for g in groups if g.startswith("block:")]
    assert {"block:down_blocks.0", "block:mid_block", "block:up_blocks.2", "block:io"} <= set(blocks)
    assert sorted(n for g in blocks for n in groups[g]) == sorted(names)  # a partition


def test_gradient_sets_of_different_shapes_are_refused(tiny):
    model, scheduler = tiny
    x0, noise, t = _inputs(2)
    with pytest.raises(ValueError, match="same shape"):
        per_sample_gradients(model, scheduler, x0, noise[:, :, :2], t)
    a = {"w": torch.zeros(2, 3)}
    with pytest.raises(ValueError, match="shapes"):
        group_cosines(a, {"w": torch.zeros(2, 4)}, {"all": ["w"]})
    with pytest.raises(ValueError, match="different models"):
        group_cosines(a, {"v": torch.zeros(2, 3)}, {"all": ["w"]})


@pytest.mark.parametrize("timesteps, message", [([], "empty"), ([5, 1000], "outside"), ([-1], "outside")])
def test_bad_timestep_grids_are_refused(timesteps, message):
    with pytest.raises(ValueError, match=message):
        check_timesteps(timesteps)
    with pytest.raises(ValueError, match=message):
        GradientAnalysisConfig(timesteps=tuple(timesteps))


def test_bad_analysis_settings_are_refused():
    with pytest.raises(ValueError, match="unknown degradation"):
        GradientAnalysisConfig(kinds=("smudge",))
    with pytest.raises(ValueError, match="controls must be motion"):
        GradientAnalysisConfig(controls=("blur",))
    with pytest.raises(ValueError, match="strengths"):
        GradientAnalysisConfig(strengths=(0.0,))


def test_a_checkpoint_of_another_preset_is_refused():
    path = golden_model_path("quick")
    with pytest.raises(ValueError, match="small"):
        load_analysis_model(path, preset="small")
    model, scheduler, info = load_analysis_model(path)
    assert info["prediction_type"] == scheduler.config.prediction_type == "v_prediction"


# ----------------------------------------------------------------------------- the analysis
def test_mse_matched_blur_hits_the_motion_degradations_pixel_mse(small_clips):
    target = pixel_mse(freeze(small_clips, 1.0), small_clips)
    matched = mse_matched_blur(small_clips, target)
    reachable = target < 0.9 * pixel_mse(
        mse_matched_blur(small_clips, torch.full_like(target, 9.0)), small_clips
    )
    got = pixel_mse(matched, small_clips)
    assert reachable.any()
    assert torch.allclose(got[reachable], target[reachable], rtol=1e-3)
    assert torch.equal(apply_variant(Variant("blur~freeze", 1.0), small_clips), matched)


def test_analysis_grid_has_every_measure_and_sane_values(tiny, small_clips):
    model, scheduler = tiny
    config = GradientAnalysisConfig(timesteps=(5, 900), pairs=2, batch_size=2, kinds=("blur", "freeze"))
    grid = analyze(model, scheduler, small_clips, config, progress=False)
    names = [v["name"] for v in grid["variants"]]
    assert names == ["blur@1", "freeze@1", "blur~freeze@1", "blur~slow_down@1"]
    for measure in ("paired_batch", "unpaired_batch", "paired_clip"):
        values = np.asarray(grid["measures"][measure]["blur@1"]["temporal"])
        assert values.shape == (2, 2)  # (timesteps, pairs)
        assert np.all(np.abs(values) <= 1 + 1e-9)
    assert np.asarray(grid["ceiling"]["batch"]["all"]).shape == (2, 2)
    assert all(v["pixel_mse"] > 0 for v in grid["variants"])
    with pytest.raises(ValueError, match="two independent batches"):
        analyze(model, scheduler, small_clips[:3], config, progress=False)


def test_an_interrupted_grid_resumes_at_its_next_pair(tiny, small_clips, tmp_path, monkeypatch):
    model, scheduler = tiny
    config = GradientAnalysisConfig(timesteps=(5, 900), pairs=3, batch_size=2, kinds=("blur",), controls=())
    whole = analyze(model, scheduler, small_clips, config, progress=False)

    import tqd_lite.tqd.gradient_analysis as module

    real_apply, calls, kill_at = module.apply_variant, [], [5]

    def killed_in_the_third_pair(variant, clips):
        calls.append(1)
        if len(calls) in kill_at:  # 2 calls per pair (batches A and B)
            raise KeyboardInterrupt
        return real_apply(variant, clips)

    monkeypatch.setattr(module, "apply_variant", killed_in_the_third_pair)
    partial, key = tmp_path / "grid.partial.pt", {"model": "m1"}
    with pytest.raises(KeyboardInterrupt):
        analyze(model, scheduler, small_clips, config, progress=False, partial=partial, partial_key=key)
    assert torch.load(partial, weights_only=True)["done"] == 2
    calls.clear()
    kill_at.clear()
    resumed = analyze(model, scheduler, small_clips, config, progress=False, partial=partial, partial_key=key)
    assert len(calls) == 2  # only the third pair was computed
    for measure in ("paired_batch", "unpaired_batch", "paired_clip"):
        assert resumed["measures"][measure] == whole["measures"][measure]
    assert resumed["ceiling"] == whole["ceiling"] and resumed["variants"] == whole["variants"]
    calls.clear()
    analyze(
        model, scheduler, small_clips, config, progress=False, partial=partial, partial_key={"model": "m2"}
    )
    assert len(calls) == 6  # other weights: the partial grid is not reused


def test_explorer_point_reproduces_the_grids_first_pair(tiny, small_clips):
    model, scheduler = tiny
    config = GradientAnalysisConfig(timesteps=(100,), pairs=2, batch_size=2, kinds=("stutter",), controls=())
    grid = analyze(model, scheduler, small_clips, config, progress=False)
    explorer = GradientExplorer({"v_prediction": grid}, {"v_prediction": (model, scheduler)}, small_clips)
    point = explorer.compute_point("v_prediction", "stutter", 1.0, 100)
    cached = grid["measures"]["paired_batch"]["stutter@1"]["spatial"][0][0]
    assert point["paired_batch"]["spatial"] == pytest.approx(cached, abs=1e-6)
    explorer.widget()  # builds headless


def test_mean_ci_matches_the_student_t_interval():
    mean, half = mean_ci([[1.0, 2.0, 3.0]])
    assert mean[0] == 2.0
    assert half[0] == pytest.approx(stats.t.ppf(0.975, 2) / math.sqrt(3))


def _blur_freeze_grid(timesteps: list[int], blur: list[list[float]], freeze: list[list[float]]) -> dict:
    """A grid with one visual (blur@1) and one motion (freeze@1) variant; values (T, pairs)."""
    return {
        "timesteps": timesteps,
        "config": {"strengths": [1.0]},
        "variants": [
            {"name": "blur@1", "family": "visual", "strength": 1.0},
            {"name": "freeze@1", "family": "motion", "strength": 1.0},
        ],
        "measures": {"paired_batch": {"blur@1": {"all": blur}, "freeze@1": {"all": freeze}}},
    }


def test_crossing_is_interpolated_where_visual_overtakes_motion():
    # visual: 0.2, 0.6, 0.9; motion: 0.9, 0.8, 0.7 -> gap -0.7, -0.2, +0.2: crossing at t = 150
    grid = _blur_freeze_grid(
        [0, 100, 200], [[0.2, 0.2], [0.6, 0.6], [0.9, 0.9]], [[0.9, 0.9], [0.8, 0.8], [0.7, 0.7]]
    )
    assert crossing_timestep(grid, "paired_batch", "all") == pytest.approx(150.0)
    grid["measures"]["paired_batch"]["blur@1"]["all"] = [[0.1, 0.1]] * 3
    assert crossing_timestep(grid, "paired_batch", "all") is None  # never ahead
    grid["measures"]["paired_batch"]["blur@1"]["all"] = [[0.95, 0.95]] * 3
    assert crossing_timestep(grid, "paired_batch", "all") == 0.0  # ahead from the first timestep


def test_the_gap_is_paired_over_batches_and_its_table_names_the_golden_like_side():
    from tqd_lite.tqd.gradient_run import gap_report, gap_table

    visual = [[0.2, 0.4, 0.6], [0.5, 0.7, 0.9]]  # (T, pairs): wide spread between pairs
    # motion = visual + 0.3 at t = 5 and visual - 0.1 at t = 950, in every pair
    motion = [[v + 0.3 for v in visual[0]], [v - 0.1 for v in visual[1]]]
    grid = _blur_freeze_grid([5, 950], visual, motion)
    gap = gap_curve(grid, "paired_batch", "all")
    assert np.allclose(gap.mean, [-0.3, 0.1]) and np.allclose(gap.half_width, 0.0)
    assert curve(grid, "paired_batch", "blur@1").half_width[0] > 0.4  # unpaired bands would overlap
    named = gap_curve(grid, "paired_batch", "all", "blur@1", "freeze@1")
    assert np.allclose(named.mean, gap.mean)
    table = gap_table(grid, groups=("all",), digits=2)
    assert table[2:] == ["| 5 | -0.30 ± 0.00 (motion) |", "| 950 | +0.10 ± 0.00 (visual) |"]
    titles = [line for line in gap_report(grid, groups=("all",)) if "cos(first)" in line]
    assert [t.split(": ")[0] for t in titles] == [  # no pixel-MSE control in this grid: no third table
        "paired batch, visual family vs motion family (strength 1)",
        "paired batch, blur@1 vs freeze@1",
    ]
    grid["measures"]["paired_batch"]["freeze@1"]["all"][1] = [0.4, 0.7, 1.0]  # +-0.1: straddles 0
    assert gap_table(grid, groups=("all",))[3].endswith("(neither) |")
    with pytest.raises(ValueError, match="no variant 'smear@1'"):
        gap_curve(grid, "paired_batch", "all", "smear@1", "freeze@1")


def test_cli_writes_a_grid_with_provenance_and_reuses_it(tmp_path, capsys):
    out = tmp_path / "grads"
    argv = [
        "analyze-gradients",
        "--data",
        str(data_dir() / "sample"),
        "--checkpoint",
        str(golden_model_path("quick")),
        "--out",
        str(out),
        "--no-progress",
        "--set",
        "timesteps=[5,950]",
        "--set",
        "pairs=1",
        "--set",
        "batch_size=1",
        "--set",
        'kinds=["blur","freeze"]',
        "--set",
        "controls=[]",
    ]
    assert main(argv) == 0
    grid = json.loads((out / "v_prediction.json").read_text())
    assert {"command", "profile", "seed", "device"} <= grid["provenance"].keys()
    assert grid["provenance"]["analysis_config"]["timesteps"] == [5, 950]
    assert grid["timesteps"] == [5, 950] and (out / "gradients.png").is_file()
    assert grid["model"]["checkpoint"] == "data/models/golden_quick"  # the same in every checkout
    assert len(grid["model"]["weights_sha256"]) == 16 and len(grid["clips_sha256"]) == 16
    stamp = (out / "v_prediction.json").stat().st_mtime_ns
    assert main(argv) == 0  # same settings, weights and clips: read from disk, not recomputed
    assert (out / "v_prediction.json").stat().st_mtime_ns == stamp
    moved = tmp_path / "elsewhere" / "renamed"  # the same weights in another folder: still cached
    shutil.copytree(golden_model_path("quick"), moved)
    assert main([*argv[:4], str(moved), *argv[5:]]) == 0
    assert (out / "v_prediction.json").stat().st_mtime_ns == stamp
    assert main([*argv, "--seed", "1"]) == 0  # another seed: recomputed
    assert json.loads((out / "v_prediction.json").read_text())["config"]["seed"] == 1


def test_cli_rejects_an_empty_grid_and_unknown_settings(capsys):
    assert main(["analyze-gradients", "--set", "timesteps=[]"]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["analyze-gradients", "--set", "timesteps=500"]) == 2
    assert "timesteps must be a list, e.g. --set timesteps=[500]" in capsys.readouterr().err
    assert main(["analyze-gradients", "--checkpoint", "x.pt"]) == 2
    assert "give --out too" in capsys.readouterr().err
    assert main(["analyze-gradients", "--set", "wobble=1"]) == 2
    assert "wobble" in capsys.readouterr().err


def test_missing_golden_model_names_the_command_that_makes_it(tmp_path, monkeypatch):
    from tqd_lite.profiles import get_profile
    from tqd_lite.tqd.gradient_run import default_checkpoints

    monkeypatch.setenv("TQD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TQD_RESULTS_DIR", str(tmp_path / "results"))
    with pytest.raises(FileNotFoundError, match="reproduce golden-model --profile full"):
        default_checkpoints(get_profile("full"))


def test_model_record_reads_exported_weights_or_the_run_that_made_a_checkpoint(tmp_path):
    from tqd_lite.tqd.gradient_run import model_record

    exported = json.loads((golden_model_path("quick") / "provenance.json").read_text())
    assert model_record(golden_model_path("quick")) == {
        "steps": exported["step"],
        "command": exported["provenance"]["command"],
    }
    run = tmp_path / "golden_model"
    run.mkdir()
    with pytest.raises(FileNotFoundError, match="train.json"):
        model_record(run / "checkpoint.pt")
    report = {"provenance": {"command": "python -m tqd_lite reproduce golden-model"}, "final": {"step": 7}}
    (run / "train.json").write_text(json.dumps(report))
    assert model_record(run / "checkpoint.pt") == {"steps": 7, "command": report["provenance"]["command"]}


def test_loop_and_vmap_methods_give_the_same_grid(tiny, small_clips):
    model, scheduler = tiny
    config = GradientAnalysisConfig(timesteps=(50,), pairs=1, batch_size=2, kinds=("quantise",), controls=())
    by_vmap = analyze(model, scheduler, small_clips, config, progress=False, method="vmap")
    by_loop = analyze(model, scheduler, small_clips, config, progress=False, method="loop")
    for measure, variants in by_vmap["measures"].items():
        for group, values in variants["quantise@1"].items():
            loop_values = by_loop["measures"][measure]["quantise@1"][group]
            assert np.allclose(values, loop_values, atol=1e-5), (measure, group)
    with pytest.raises(ValueError, match="method"):
        analyze(model, scheduler, small_clips, config, progress=False, method="magic")


def test_an_identity_degradation_is_golden_in_every_paired_measure(tiny):
    """With two frames, freeze@1 changes nothing: every paired cosine is 1 and the unpaired one is
    exactly the golden-vs-golden level (this pins down which batch meets which noise)."""
    model, scheduler = tiny
    clips = render_clips([ClipSpec(seed=i, num_frames=2, size=8) for i in range(4)])
    assert torch.equal(freeze(clips, 1.0), clips)
    config = GradientAnalysisConfig(timesteps=(5, 700), pairs=2, batch_size=2, kinds=("freeze",), controls=())
    grid = analyze(model, scheduler, clips, config, progress=False)
    for group in ("all", "temporal", "block:mid_block"):
        for measure in ("paired_batch", "paired_clip"):
            assert np.allclose(grid["measures"][measure]["freeze@1"][group], 1.0, atol=1e-6)
        unpaired = grid["measures"]["unpaired_batch"]["freeze@1"][group]
        assert np.allclose(unpaired, grid["ceiling"]["batch"][group], atol=1e-6)


def test_forcing_one_prediction_type_recomputes_its_grid_and_reads_the_others(tmp_path):
    """``reproduce gradients`` recomputes the v model's grid and reads the epsilon model's cached one."""
    from tqd_lite.profiles import get_profile
    from tqd_lite.tqd.gradient_run import default_analysis_config, grid_path, run_gradient_analysis

    profile = get_profile("quick")
    config = default_analysis_config(
        profile, timesteps=(5, 950), pairs=1, batch_size=1, kinds=("blur",), controls=()
    )
    models = [golden_model_path("quick"), golden_model_path("quick", "epsilon")]
    options = {"data": data_dir() / "sample", "progress": False}
    run_gradient_analysis(profile, config, models, tmp_path, **options)
    stamps = {p: grid_path(tmp_path, p).stat().st_mtime_ns for p in ("v_prediction", "epsilon")}
    run_gradient_analysis(profile, config, models, tmp_path, force=("v_prediction",), **options)
    assert grid_path(tmp_path, "v_prediction").stat().st_mtime_ns != stamps["v_prediction"]
    assert grid_path(tmp_path, "epsilon").stat().st_mtime_ns == stamps["epsilon"]


def test_a_grid_made_from_other_weights_or_clips_is_labelled_stale():
    """Committed grids outlive the models and pools they were made from: notebook 03 says so."""
    from tqd_lite.tqd.gradient_run import clips_fingerprint, load_analysis_model, stale_grid_lines

    clips = torch.rand(2, 3, 8, 16, 16)
    model = golden_model_path("quick")
    info = load_analysis_model(model)[2]
    grid = {
        "model": dict(info),
        "clips_sha256": clips_fingerprint(clips),
        "provenance": {"git_commit": "abc1234"},
    }
    assert stale_grid_lines({"v_prediction": grid}, [info], clips) == []
    old = {**grid, "model": {**info, "weights_sha256": "0" * 16}}
    (line,) = stale_grid_lines({"v_prediction": old}, [info], clips)
    assert "commit abc1234" in line and "weights now at data/models/golden_quick" in line
    assert "clips" not in line
    (line,) = stale_grid_lines({"v_prediction": grid}, [info], clips + 0.5)
    assert "the clips analysed now" in line and "weights" not in line
    assert stale_grid_lines({"v_prediction": grid}, [info]) == []  # weights only (notebook 03's full grid)
    assert len(stale_grid_lines({"v_prediction": old}, [info])) == 1


def test_notebook_03_reading_of_the_quick_grid_holds_for_the_committed_grids():
    """Each sentence of notebook 03's "Reading the quick grid" that names a side, an order or a
    crossing, checked on the committed grids (so regenerating them cannot leave the text behind)."""
    from tqd_lite.paths import results_dir
    from tqd_lite.tqd.gradient_analysis import crossing_timestep, gap_curve
    from tqd_lite.tqd.gradient_run import load_grids

    grids = load_grids(results_dir() / "quick" / "gradients")
    groups = ("all", "spatial", "temporal")

    def sides(grid, visual=None, motion=None):  # group -> [+1 visual, -1 motion, 0 neither] per t
        out = {}
        for g in groups:
            c = gap_curve(grid, "paired_batch", g, visual, motion)
            out[g] = [int(np.sign(m)) if abs(m) > h else 0 for m, h in zip(c.mean, c.half_width, strict=True)]
        return out

    for prediction, grid in grids.items():
        low = [i for i, t in enumerate(grid["timesteps"]) if t <= 100]
        for visual, motion in ((None, None), ("blur@1", "freeze@1"), ("blur~freeze@1", "freeze@1")):
            assert all(sides(grid, visual, motion)[g][i] == -1 for g in groups for i in low), prediction
        assert all(side == -1 for g in groups for side in sides(grid, "blur~freeze@1", "freeze@1")[g])
        last = {name: curve(grid, "paired_batch", name).mean[-1] for name in grid["measures"]["paired_batch"]}
        assert last["blur@1"] > last["downsample@1"] > last["quantise@1"]  # "blur converges fastest, ..."
        level = gap_curve(grid, "paired_batch", "all", "downsample@1", "freeze@1")
        assert abs(level.mean[-1]) < level.half_width[-1]  # "ends level with the freeze"
        behind = gap_curve(grid, "paired_batch", "all", "quantise@1", "freeze@1")
        assert behind.mean[-1] < 0  # "quantisation's mean stays behind it (clearly only under epsilon)"
        assert (abs(behind.mean[-1]) > behind.half_width[-1]) == (prediction == "epsilon")
        assert crossing_timestep(grid, "paired_batch") is None  # the family means do not cross
        paired = crossing_timestep(grid, "paired_batch", "all", "blur@1", "freeze@1")
        per_clip = {g: crossing_timestep(grid, "paired_clip", g, "blur@1", "freeze@1") for g in groups}
        assert grid["timesteps"][-2] < paired < grid["timesteps"][-1]  # "just below the top of the range"
        assert per_clip["temporal"] < per_clip["all"] < paired  # "earlier, earliest in the temporal layers"
    at_top = {
        p: {g: s[-1] for g, s in sides(grid, "blur@1", "freeze@1").items()} for p, grid in grids.items()
    }
    assert at_top == {"v_prediction": dict.fromkeys(groups, 1), "epsilon": dict.fromkeys(groups, 0)}
