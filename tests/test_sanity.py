"""The metric sanity table: every trusted metric reacts to golden clips, damage and failure modes as
its declaration says (tqd_lite.quality.sanity), and the legacy metrics are shown to be fooled."""

import numpy as np
import pytest
import torch

from tqd_lite.quality.learned import metric_path
from tqd_lite.quality.sanity import (
    SanityTable,
    build_table,
    check_cell,
    declarations,
    golden_specs,
    render_specs,
    verdicts,
)
from tqd_lite.quality.sanity_run import legacy_measure
from tqd_lite.quality.suite import MetricSuite, golden_reference
from tqd_lite.quality.targets import check_targets, measure, reference_rows, target_lines
from tqd_lite.quality.undertrained import load_undertrained_samples
from tqd_lite.world.clips import luminance

SIZE, FRAMES = 16, 8


@pytest.fixture(scope="module")
def reference() -> torch.Tensor:
    return golden_reference(size=SIZE, num_frames=FRAMES)


@pytest.fixture(scope="module")
def suite(reference) -> MetricSuite:
    for kind in ("tracker", "judge"):
        if not (metric_path(kind, SIZE) / "config.json").is_file():
            pytest.fail(
                f"{metric_path(kind, SIZE)} is missing: `python -m tqd_lite train-metrics --size {SIZE}`"
            )
    return MetricSuite.with_reference(reference)


@pytest.fixture(scope="module")
def table(suite, reference) -> SanityTable:
    legacy = legacy_measure(SIZE, reference[:256])  # the first 256 golden reference clips
    return build_table(
        lambda clips: {**suite.measure(clips), **legacy(clips)},
        size=SIZE,
        num_frames=FRAMES,
        clips=96,
        seed=1,
        undertrained=load_undertrained_samples(SIZE)[:96],
        golden_draws=8,
        progress=False,
    )


def test_every_trusted_metric_passes_the_sanity_table(table):
    fooled = {metric: reasons for metric, reasons in verdicts(table).items() if reasons}
    assert not fooled, "\n".join(f"{m}: {r}" for m, reasons in fooled.items() for r in reasons)


def test_the_legacy_metrics_are_fooled_as_the_notebooks_say(table):
    # the old metrics, kept as columns: noise reads as sharp and flicker as motion (notebooks 04, 05)
    old = verdicts(table, include_legacy=True)
    assert any(r.startswith("uniform noise") for r in old["old_vq_raw"])
    assert any(r.startswith("static + flicker") for r in old["old_dynamic_degree"])
    # ... and the old encoder's FD puts a different clip in every frame nearer golden than a blurred one
    assert table.values["hard cuts"]["old_fd"] < table.values["blur 1.0"]["old_fd"]


def test_a_still_clip_reads_zero_motion_however_it_flickers(table):
    from tqd_lite.quality.tracker import DYNAMIC_THRESHOLD

    for name in ("static scenes", "static + flicker"):
        assert table.values[name]["dynamic_degree"] <= 0.05
        assert table.values[name]["tracked_speed"] < DYNAMIC_THRESHOLD  # detection jitter, below "moving"
    assert table.values["static + flicker"]["flicker"] > 5 * table.golden["flicker"][0]


def test_speed_is_monotone_in_the_true_speed(table):
    speeds = [table.values[n]["tracked_speed"] for n in ("half speed", "normal speed", "double speed")]
    assert speeds[0] < speeds[1] < speeds[2]
    # half speed renders exactly half the motion; the tracker should see about half
    assert speeds[0] / speeds[1] == pytest.approx(0.5, abs=0.12)


def test_the_check_fails_on_a_fooled_metric(table):
    """A metric that rewards noise as detail is caught: give the judge's visual column the legacy
    visual score's values and interval, and declare it as the judge's visual metric."""
    d = declarations(table.families, size=table.settings["size"])["judge_visual"]
    fooled = SanityTable(
        {n: {**row, "judge_visual": row["old_vq_raw"]} for n, row in table.values.items()},
        table.families,
        {**table.golden, "judge_visual": table.golden["old_vq_raw"]},
        table.settings,
    )
    assert check_cell(fooled, "judge_visual", "uniform noise", "worse", d) is not None
    assert check_cell(table, "judge_visual", "uniform noise", "worse", d) is None


def test_the_held_out_family_still_ranks_below_golden(table):
    # shuffled frames never reached the judge's training (judge.HELD_OUT_FAMILY)
    from tqd_lite.quality.judge import HELD_OUT_FAMILY

    assert HELD_OUT_FAMILY == "shuffled frames"
    shuffled, low = table.values["shuffled frames"], table.golden
    assert shuffled["judge_world"] < low["judge_world"][1]
    assert shuffled["judge_motion"] < low["judge_motion"][1]
    # nor did any model's samples: the judge learns mud from synthetic muddy fields only
    undertrained = table.values["undertrained samples"]
    assert undertrained["judge_world"] < low["judge_world"][1]
    assert undertrained["judge_visual"] < table.values["blur 0.25"]["judge_visual"]


def test_hue_shift_keeps_grey_grey_and_cuts_take_each_frame_from_another_clip():
    from tqd_lite.world import failures

    grey = torch.full((1, 3, 2, 4, 4), 0.4)
    assert torch.allclose(failures.hue_shift(grey, 45.0), grey, atol=1e-6)
    clips = torch.arange(8.0).view(8, 1, 1, 1, 1).expand(8, 3, 8, 2, 2)
    cut = failures.hard_cuts(clips)
    assert cut[2, 0, 3, 0, 0] == 5.0  # frame 3 of clip 2 is frame 3 of clip (2 + 3) mod 8
    flicker = failures.brightness_flicker(torch.full((4, 3, 8, 4, 4), 0.5), torch.Generator().manual_seed(0))
    assert luminance(flicker).std(dim=(2, 3)).max() < 1e-6  # the offset is uniform within a frame
    assert np.ptp(luminance(flicker).mean(dim=(2, 3)).numpy(), axis=1).min() > 0.02


def test_evaluate_reports_distances_with_intervals_beside_the_real_vs_real_floor(suite):
    from tqd_lite.world import failures

    golden = render_specs(golden_specs(64, size=SIZE, num_frames=FRAMES, seed=5))
    good = suite.evaluate(golden)
    assert (
        good["fd_low"] <= good["fd"] <= good["fd_high"] and good["kid_low"] <= good["kid"] <= good["kid_high"]
    )
    assert good["fd"] < 3 * good["floor_fd"] + 1  # golden clips sit near the floor
    noise = suite.evaluate(failures.uniform_noise(tuple(golden.shape), torch.Generator().manual_seed(0)))
    assert noise["fd_low"] > 100 * good["fd_high"] and noise["precision"] == 0.0
    assert noise["judge_world"] < 0.05 < 0.9 < good["judge_world"]


def test_golden_renders_meet_every_target_and_the_undertrained_samples_miss_them(suite):
    rows = reference_rows(suite, num_clips=64)
    golden = measure(suite, render_specs(golden_specs(64, size=SIZE, num_frames=FRAMES, seed=5)))
    met = check_targets(golden, rows, profile="quick")
    assert all(target["passed"] for target in met.values()), target_lines(met)
    mud = check_targets(measure(suite, load_undertrained_samples(SIZE)[:64]), rows, profile="quick")
    # the frozen mud (data/failures) drifts in colour no more than golden clips of the simple world
    # do, by the flicker index; the motion and distance targets reject it
    assert [name for name, target in mud.items() if not target["passed"]] == ["motion", "distance"]
    assert mud["sprites"]["passed"]  # the tracker finds sprite-like blobs in mud: the other targets matter
    assert check_targets(golden, rows, profile="full")["distance"]["bound"] == rows["blur 0.25"]["fd_high"]
    assert check_targets(golden, rows, profile="gpu")["distance"]["bound"] == rows["blur 0.25"]["fd_high"]
    with pytest.raises(ValueError, match="no distance target for profile 'huge'"):
        check_targets(golden, rows, profile="huge")


def test_muddy_fields_scramble_detail_fade_colour_and_drift():
    from tqd_lite.world import failures

    golden = render_specs(golden_specs(4, size=SIZE, num_frames=FRAMES, seed=2))
    still = failures.muddy_fields(golden, torch.Generator().manual_seed(0), drift=0.0)
    # without drift, a flat clip stays flat: mud adds no colour of its own
    flat = torch.full((2, 3, FRAMES, SIZE, SIZE), 0.3)
    assert torch.allclose(failures.muddy_fields(flat, torch.Generator().manual_seed(0), drift=0.0), flat)
    # colour contrast fades: the spread of the smoothed colours about grey halves (fade 0.5)
    assert still.std(dim=(1, 3, 4)).mean() < golden.std(dim=(1, 3, 4)).mean()
    # the drift is a colour offset per frame: frame means move, a still clip's detail does not
    drifted = failures.muddy_fields(golden, torch.Generator().manual_seed(0))
    offsets = (drifted - still).mean(dim=(3, 4))  # (B, C, F)
    assert offsets.std(dim=2).mean() > 0.01 and offsets.mean(dim=2).abs().max() < 0.02
    # the same generator gives the same mud
    again = failures.muddy_fields(golden, torch.Generator().manual_seed(0))
    assert torch.equal(drifted, again)


@pytest.mark.parametrize("size", [16, 32])
def test_the_frozen_undertrained_samples_are_committed_with_provenance(size):
    from tqd_lite.quality.undertrained import UNDERTRAINED_CLIPS, undertrained_provenance

    clips = load_undertrained_samples(size)
    assert clips is not None, f"no frozen samples at {size} px: `python -m tqd_lite freeze-samples MODEL`"
    assert clips.shape == (UNDERTRAINED_CLIPS, 3, FRAMES, size, size)
    assert 0 <= clips.min() and clips.max() <= 1
    block = undertrained_provenance(size)
    assert "dirty" not in block["git_commit"] and block["model"].startswith("data/models/golden_")


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_the_committed_sanity_tables_pass_and_store_the_codes_verdicts(profile):
    """The committed table of each size passes today's declarations, and the verdicts its file
    stores are the ones the code computes from its values (so its markdown is not stale)."""
    import json

    from tqd_lite.paths import REPO_ROOT
    from tqd_lite.quality.sanity_run import load_table

    path = REPO_ROOT / "results" / profile / "sanity" / "sanity.json"
    table = load_table(path)
    computed = verdicts(table, include_legacy=True)
    trusted = {m: r for m, r in computed.items() if r and not m.startswith("old_")}
    assert not trusted, f"{path}: {trusted}"
    assert json.loads(path.read_text())["verdicts"] == computed, f"{path} is stale: rerun reproduce sanity"
