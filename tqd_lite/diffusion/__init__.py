"""Video diffusion on diffusers: the denoisers, noising and targets, the training loop with a
pluggable timestep policy, one sampling pipeline, model folders, training runs with evaluations,
and what survives noise (notebook 02). Nothing here imports ``tqd_lite.tqd`` or ``tqd_lite.mcm``.
"""

from tqd_lite import lazy_exports

# name -> the module of this subpackage that defines it, imported on first use
_EXPORTS = {
    "ClipBank": "train",
    "FactorizedVideoUNet": "model",
    "PARTS": "hierarchy",
    "TrainConfig": "train",
    "UniformTimesteps": "train",
    "VideoPipeline": "pipeline",
    "build_model": "model",
    "count_parameters": "model",
    "ddim_pipeline": "pipeline",
    "ddim_scheduler": "pipeline",
    "default_config": "training_run",
    "export_weights": "checkpoints",
    "is_model_folder": "checkpoints",
    "load_pipeline": "checkpoints",
    "model_provenance": "checkpoints",
    "from_model_range": "noise",
    "load_bank": "training_run",
    "load_denoiser": "checkpoints",
    "load_run_data": "training_run",
    "loss_curve": "training_run",
    "make_noise_scheduler": "noise",
    "min_snr_weights": "noise",
    "parameter_groups": "model",
    "recovery_errors": "hierarchy",
    "run_training": "training_run",
    "to_model_range": "noise",
    "train": "train",
    "training_config_of": "checkpoints",
    "training_target": "noise",
    "x0_predictions": "train",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
