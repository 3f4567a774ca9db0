"""The fixed-bucket validation loss: its buckets, its closed form for a model that predicts zero,
and that it is a pure function of the weights."""

import pytest
import torch

from tqd_lite.diffusion.model import build_model
from tqd_lite.diffusion.noise import make_noise_scheduler, to_model_range
from tqd_lite.diffusion.validation import bucket_timesteps, fixed_bucket_loss


class PredictsZero(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, t, labels=None):
        return torch.zeros_like(x)


def test_the_buckets_are_the_centres_of_ten_equal_slices_of_the_schedule():
    assert bucket_timesteps() == [50, 150, 250, 350, 450, 550, 650, 750, 850, 950]
    assert bucket_timesteps(4, 100) == [12, 37, 62, 87]
    with pytest.raises(ValueError, match="num_buckets must be in"):
        bucket_timesteps(0)


@pytest.mark.parametrize("prediction_type", ["v_prediction", "epsilon"])
def test_a_model_that_predicts_zero_scores_the_mean_square_of_its_target(prediction_type):
    clips = torch.rand(5, 3, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    scheduler = make_noise_scheduler(prediction_type)
    result = fixed_bucket_loss(PredictsZero(), scheduler, clips, seed=3, batch_size=2)
    x0 = to_model_range(clips)
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(3))
    for t, loss in zip(result["timesteps"], result["loss"], strict=True):
        abar = scheduler.alphas_cumprod[t].double()
        # v = sqrt(abar) eps - sqrt(1 - abar) x0; the epsilon model's target is eps itself
        target = abar.sqrt() * eps - (1 - abar).sqrt() * x0 if prediction_type == "v_prediction" else eps
        assert loss == pytest.approx(target.pow(2).mean().item(), rel=1e-5)
    assert result["mean"] == pytest.approx(sum(result["loss"]) / 10)


def test_the_loss_is_a_pure_function_of_the_weights():
    clips = torch.rand(2, 3, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    scheduler = make_noise_scheduler("v_prediction")
    torch.manual_seed(0)
    model = build_model("tiny").eval()
    loss = lambda **kw: fixed_bucket_loss(model, scheduler, clips, num_buckets=3, **kw)["loss"]  # noqa: E731
    first = loss()
    assert loss() == first
    assert loss(seed=1) != first  # other noise
    with torch.no_grad():
        next(model.parameters()).add_(0.01)
    assert loss() != first  # other weights


def test_an_empty_or_misshapen_batch_is_refused():
    with pytest.raises(ValueError, match=r"non-empty batch \(N, 3, F, H, W\)"):
        fixed_bucket_loss(PredictsZero(), make_noise_scheduler("v_prediction"), torch.rand(3, 8, 16, 16))
