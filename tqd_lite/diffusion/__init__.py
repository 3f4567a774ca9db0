"""Video diffusion on diffusers: the denoisers, noising and targets, the training loop with a
pluggable timestep policy, training runs with evaluations, and what survives noise (notebook 02).
Nothing here imports ``tqd_lite.tqd`` or ``tqd_lite.mcm``.
"""

from tqd_lite.diffusion.hierarchy import PARTS, recovery_errors
from tqd_lite.diffusion.model import build_model, count_parameters, parameter_groups
from tqd_lite.diffusion.noise import (
    from_model_range,
    make_noise_scheduler,
    min_snr_weights,
    sample_clips,
    to_model_range,
    training_target,
)
from tqd_lite.diffusion.train import (
    ClipBank,
    TrainConfig,
    UniformTimesteps,
    load_denoiser,
    train,
    x0_predictions,
)
from tqd_lite.diffusion.training_run import default_config, load_bank, load_run_data, loss_curve, run_training

__all__ = [
    "ClipBank",
    "PARTS",
    "TrainConfig",
    "UniformTimesteps",
    "build_model",
    "count_parameters",
    "default_config",
    "from_model_range",
    "load_bank",
    "load_denoiser",
    "load_run_data",
    "loss_curve",
    "make_noise_scheduler",
    "min_snr_weights",
    "parameter_groups",
    "recovery_errors",
    "run_training",
    "sample_clips",
    "to_model_range",
    "train",
    "training_target",
    "x0_predictions",
]
