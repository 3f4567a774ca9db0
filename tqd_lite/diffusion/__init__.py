"""Video diffusion on diffusers: the denoisers, noising and targets, the training loop with a
pluggable timestep policy, one sampling pipeline, model folders, training runs with evaluations,
and what survives noise (notebook 02). Nothing here imports ``tqd_lite.tqd`` or ``tqd_lite.mcm``.
"""

from tqd_lite.diffusion.checkpoints import export_weights, load_denoiser, training_config_of
from tqd_lite.diffusion.hierarchy import PARTS, recovery_errors
from tqd_lite.diffusion.model import FactorizedVideoUNet, build_model, count_parameters, parameter_groups
from tqd_lite.diffusion.noise import (
    from_model_range,
    make_noise_scheduler,
    min_snr_weights,
    to_model_range,
    training_target,
)
from tqd_lite.diffusion.pipeline import VideoPipeline, ddim_scheduler
from tqd_lite.diffusion.train import ClipBank, TrainConfig, UniformTimesteps, train, x0_predictions
from tqd_lite.diffusion.training_run import default_config, load_bank, load_run_data, loss_curve, run_training

__all__ = [
    "ClipBank",
    "FactorizedVideoUNet",
    "PARTS",
    "TrainConfig",
    "UniformTimesteps",
    "VideoPipeline",
    "build_model",
    "count_parameters",
    "ddim_scheduler",
    "default_config",
    "export_weights",
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
    "to_model_range",
    "train",
    "training_config_of",
    "training_target",
    "x0_predictions",
]
