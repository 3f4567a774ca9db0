"""MCM's experiment runner end to end on a miniature: a 3-step teacher, 2-step distillations,
four clips per sampler and a two-point guidance sweep (sampling is most of its time)."""

import json

import pytest
import torch

from tqd_lite.mcm import experiments as mcm
from tqd_lite.mcm import report as mcm_report
from tqd_lite.profiles import get_profile

MINIATURE = get_profile("quick").with_overrides(
    mcm_steps=2, mcm_batch_size=2, mcm_images=8, mcm_eval_clips=4, mcm_seeds=(0, 1), mcm_variant_seeds=(0,)
)


@pytest.fixture(scope="module")
def miniature_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcm")
    patch = pytest.MonkeyPatch()
    patch.setattr(mcm, "TEACHER_STEPS", 3)
    patch.setattr(mcm, "GUIDANCE_SWEEP", (0.0, 4.0))  # every test of this module sees this sweep
    patch.setattr(mcm, "teacher_path", lambda pool: folder / "teacher")
    patch.setattr(mcm, "REPO_ROOT", folder)
    summary = mcm.run_experiments(MINIATURE, folder / "out", groups=("main",), progress=False)
    yield folder, summary
    patch.undo()


def test_the_runner_writes_every_row_at_every_step_count(miniature_run):
    folder, summary = miniature_run
    assert set(summary["rows"]) == {"teacher_ddim50", "teacher_ddim4", "lcm", "mcm"}
    assert set(summary["rows"]["mcm"]) == {"1", "2", "4", "8"}
    assert summary["rows"]["mcm"]["1"]["seeds"] == [0, 1]
    names = [c["name"] for c in summary["comparisons"]]
    assert names[0] == "MCM vs LCM, 1 step(s)" and "MCM vs the teacher's DDIM 50, 4 step(s)" in names
    assert len(names) == len(mcm_report.COMPARISONS) * len(mcm.SAMPLE_STEPS)
    teacher = json.loads((folder / "teacher" / "provenance.json").read_text())
    assert teacher["train_config"]["num_classes"] == 2 and teacher["step"] == 3
    report = json.loads((folder / "out" / "runs" / "mcm-seed1" / "result.json").read_text())
    assert report["provenance"]["seed"] == 1 and report["provenance"]["arm"] == "mcm"
    assert not (folder / "out" / "runs" / "mcm-seed1" / "distill_checkpoint.pt").exists()
    samples = torch.load(folder / "out" / "runs" / "mcm-seed1" / "samples8.pt", weights_only=True)
    assert samples["4"].dtype == torch.uint8 and samples["4"].shape == (4, 3, 8, 16, 16)
    table = (folder / "out" / "summary.md").read_text()
    assert "| mcm (n=2) | 1 |" in table and "| real clips: teacher_clips |" in table
    assert "| MCM vs LCM, 8 step(s) |" in table
    assert "older teacher" not in table  # distilled the teacher today's config makes
    assert (folder / "out" / "mcm_results.png").is_file() and (folder / "out" / "samples.png").is_file()
    reference = summary["reference"]
    assert reference["teacher_clips"]["frechet_distance"] > 0  # the teacher's data is not golden
    assert "frechet_distance" not in reference["heldout_golden"]  # zero by construction
    assert reference["teacher_clips"]["vq"] < 0.5 <= reference["teacher_clips"]["mq"]  # motion-rich
    assert list(summary["guidance_sweep"]) == [str(w) for w in mcm.GUIDANCE_SWEEP]
    assert json.loads((folder / "out" / "guidance.json").read_text())["provenance"]["profile"] == "quick"


def test_finished_runs_are_skipped(miniature_run, monkeypatch):
    folder, _ = miniature_run
    monkeypatch.setattr(mcm, "TEACHER_STEPS", 3)
    monkeypatch.setattr(mcm, "teacher_path", lambda pool: folder / "teacher")

    def no_work(*args, **kwargs):
        raise AssertionError("a finished run was run again")

    monkeypatch.setattr(mcm, "distill", no_work)
    monkeypatch.setattr(mcm, "evaluate_teacher", no_work)
    monkeypatch.setattr(mcm, "train", no_work)
    monkeypatch.setattr(mcm, "_pipeline_samples", no_work)
    summary = mcm.run_experiments(MINIATURE, folder / "out", groups=("main",), progress=False)
    assert set(summary["rows"]) == {"teacher_ddim50", "teacher_ddim4", "lcm", "mcm"}


def test_unknown_groups_are_refused():
    with pytest.raises(ValueError, match="unknown MCM experiment group"):
        mcm.select_arms(("main", "kappa"))


def test_a_widened_guidance_sweep_measures_only_the_new_weights(miniature_run, monkeypatch, tmp_path):
    folder, _ = miniature_run
    (tmp_path / "guidance.json").write_bytes((folder / "out" / "guidance.json").read_bytes())
    teacher = mcm.load_denoiser(folder / "teacher")
    data = mcm.load_eval_data(MINIATURE)
    pool = get_profile(MINIATURE.mcm_pool)
    sampled_scales = []
    sample = mcm._pipeline_samples

    def counting(*args, **kwargs):
        sampled_scales.append(kwargs["guidance_scale"])  # 1 + w
        return sample(*args, **kwargs)

    monkeypatch.setattr(mcm, "_pipeline_samples", counting)
    monkeypatch.setattr(mcm, "GUIDANCE_SWEEP", (*mcm.GUIDANCE_SWEEP, 100.0))
    sweep = mcm.guidance_sweep(teacher, pool, data, tmp_path, {"command": "test"})
    assert sampled_scales == [101.0]
    assert list(sweep["by_w"]) == [str(w) for w in mcm.GUIDANCE_SWEEP]
    assert sweep["key"]["w"] == list(mcm.GUIDANCE_SWEEP)


def test_the_guidance_table_has_one_line_per_weight():
    metrics = {"frechet_distance": 9.5, "frame_frechet_distance": 134.1, "vq": 0.24, "mq": 0.84}
    table = mcm_report.guidance_table(
        {"4.0": {**metrics, "dynamic_degree": 1.0}, "8.0": {**metrics, "dynamic_degree": 0.969}}
    )
    lines = table.strip().splitlines()
    assert len(lines) == 4 and lines[0].endswith("| dynamic degree |")
    assert lines[3] == "| 8.0 | 9.50 | 134.10 | 0.24 | 0.84 | 0.97 |"


def test_paired_differences_use_a_single_step_reference_at_every_step_count():
    def metrics(value):
        return {m: value for m in mcm_report.METRICS}

    treated = {s: {str(k): metrics(10.0 * s + k) for k in mcm.SAMPLE_STEPS} for s in (0, 1, 2)}
    reference = {s: {"50": metrics(10.0 * s)} for s in (0, 1, 2)}  # the teacher: one step count
    entries = mcm_report._paired_differences("student vs teacher", treated, reference)
    assert [e["name"] for e in entries] == [f"student vs teacher, {k} step(s)" for k in mcm.SAMPLE_STEPS]
    for entry, k in zip(entries, mcm.SAMPLE_STEPS, strict=True):
        fd = entry["frechet_distance"]
        assert fd["difference"] == pytest.approx(k) and fd["ci95"] == pytest.approx(0.0)
        assert fd["verdict"] == "worse" and entry["vq"]["verdict"] == "higher"


def test_a_summary_of_another_teachers_runs_says_so():
    pool = get_profile("quick")
    today = mcm.teacher_config(pool).to_dict()
    assert mcm.older_teacher_note(today, pool) == ""
    old = {**today, "preset": "tiny", "snr_gamma": 5.0}
    note = mcm.older_teacher_note(old, pool)
    assert "**Made with an older teacher.**" in note and "preset=tiny," in note
    assert "preset=tiny-clipnorm-all," in note
