"""The pictures of notebook 05 show what their labels say."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from tqd_lite.mcm.plots import discriminator_figure, signed_for_display, trajectories_figure  # noqa: E402


def test_the_trajectory_picture_puts_each_clip_beside_its_noisy_point():
    clips = [torch.full((3, 2, 4, 4), value) for value in (0.1, 0.2, 0.3, 0.4)]
    figure = trajectories_figure(*clips, t=499)
    rows = figure.axes[::2]  # the first frame of each row (2 frames per row)
    assert [ax.get_ylabel() for ax in rows] == [
        "real clip x0",
        "its x_t, t=499",
        "student sample x0",
        "its x_t, t=499",
    ]
    assert [float(ax.images[0].get_array().mean()) for ax in rows] == pytest.approx([0.1, 0.2, 0.3, 0.4])
    plt.close(figure)


def test_the_discriminator_picture_titles_each_image_with_its_logit():
    images = torch.rand(3, 3, 4, 4)
    figure = discriminator_figure(
        images,
        images,
        torch.tensor([1.0, 2.0, 3.0]),
        torch.tensor([-1.0, 0.0, 0.5]),
        names=("image", "teacher, 4 steps"),
    )
    assert [ax.get_title() for ax in figure.axes] == ["+1.00", "+2.00", "+3.00", "-1.00", "+0.00", "+0.50"]
    assert figure.axes[3].get_ylabel() == "teacher, 4 steps"
    plt.close(figure)


def test_signed_maps_are_centred_on_mid_grey():
    shown = signed_for_display(torch.tensor([-2.0, 0.0, 1.0]))
    assert shown.tolist() == [0.0, 0.5, 0.75]
