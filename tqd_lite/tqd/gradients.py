"""Per-sample gradients of the denoising loss, and cosine similarity by layer group.

TQD's gradient analysis (docs/papers.md, section 1) asks how much the parameter update from a degraded
clip points the same way as the update from its golden original. The quantity is the gradient
of one clip's training loss at a fixed timestep t with fixed noise eps,

    g(x0) = d/dtheta | model(x_t, t) - target(x0, eps, t) |^2,   x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps,

and two gradients are compared by their cosine,

    cos(g, h) = <g, h> / (|g| |h|),

over all parameters or over a group of them (spatial, temporal, one UNet block).

:func:`per_sample_gradients` computes ``g`` for every clip of a batch at once with ``torch.func``
(``vmap`` over ``grad`` of a one-clip loss); :func:`looped_gradients` is the plain reference, one
backward pass per clip. Both return ``{parameter name: (B, *shape)}``.

The loss has no Min-SNR (or any other) weight: at a fixed t a weight only scales the gradient,
and a cosine does not see scale. For the same reason the choice of epsilon or v *loss* on one
network changes nothing at fixed t (the two differ by the factor ``abar_t``): what the
prediction type changes is the network that training produces, so comparing prediction types
means comparing two trained models.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.func import functional_call, grad, vmap

from tqd_lite.diffusion.model import parameter_groups
from tqd_lite.diffusion.noise import NUM_TRAIN_TIMESTEPS, training_target

Gradients = dict[str, torch.Tensor]  # parameter name -> (B, *parameter shape)


def check_timesteps(timesteps, name: str = "timesteps") -> list[int]:
    """Integer DDPM timesteps in ``[0, NUM_TRAIN_TIMESTEPS)``; anything else is a clear error."""
    values = [int(t) for t in timesteps]
    if not values:
        raise ValueError(f"{name} is empty: give at least one timestep in [0, {NUM_TRAIN_TIMESTEPS})")
    outside = [t for t in values if not 0 <= t < NUM_TRAIN_TIMESTEPS]
    if outside:
        raise ValueError(
            f"{name} {outside} are outside the schedule: DDPM timesteps are integers in "
            f"[0, {NUM_TRAIN_TIMESTEPS}) (0 = clean, {NUM_TRAIN_TIMESTEPS - 1} = pure noise)"
        )
    if any(float(t) != int(t) for t in timesteps):
        raise ValueError(f"{name} must be integers, got {list(timesteps)}")
    return values


def _noisy_inputs(noise_scheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor):
    """``x_t`` and the training target for clips ``x0`` (B, C, F, H, W) in model range [-1, 1]."""
    if x0.shape != noise.shape:
        raise ValueError(f"clips {tuple(x0.shape)} and noise {tuple(noise.shape)} must have the same shape")
    if timesteps.shape != (len(x0),):
        raise ValueError(f"timesteps must have shape ({len(x0)},), got {tuple(timesteps.shape)}")
    check_timesteps(timesteps.tolist())
    x_t = noise_scheduler.add_noise(x0, noise, timesteps)
    return x_t, training_target(noise_scheduler, x0, noise, timesteps)


def per_sample_gradients(
    model, noise_scheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor, chunk_size=None
) -> Gradients:
    """The gradient of each clip's own loss, for the whole batch in one vectorised pass.

    ``x0``, ``noise``: ``(B, C, F, H, W)`` in model range; ``timesteps``: ``(B,)``.
    ``chunk_size``: clips per vectorised chunk (default: all), to bound memory.
    """
    x_t, target = _noisy_inputs(noise_scheduler, x0, noise, timesteps)
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = {name: b.detach() for name, b in model.named_buffers()}

    def one_clip_loss(params, x_t, target, t):
        # vmap strips the batch dimension; the model wants it back: (1, C, F, H, W)
        output = functional_call(model, (params, buffers), (x_t[None], t[None]))
        return (output.float() - target[None]).pow(2).mean()

    batched = vmap(grad(one_clip_loss), in_dims=(None, 0, 0, 0), chunk_size=chunk_size)
    return batched(params, x_t, target, timesteps)


def looped_gradients(
    model, noise_scheduler, x0: torch.Tensor, noise: torch.Tensor, timesteps: torch.Tensor
) -> Gradients:
    """The same as :func:`per_sample_gradients`, one backward pass per clip (the reference)."""
    x_t, target = _noisy_inputs(noise_scheduler, x0, noise, timesteps)
    named = dict(model.named_parameters())
    rows = []
    for i in range(len(x0)):
        output = model(x_t[i : i + 1], timesteps[i : i + 1])
        loss = (output.float() - target[i : i + 1]).pow(2).mean()
        rows.append(torch.autograd.grad(loss, list(named.values())))
    return {name: torch.stack([row[k] for row in rows]) for k, name in enumerate(named)}


# ----------------------------------------------------------------------------- layer groups
def layer_groups(model) -> dict[str, list[str]]:
    """Parameter names of each group: ``all``, ``spatial``, ``temporal``, and each top-level block.

    Blocks are the model's top-level modules with parameters (``down_blocks.0``, ``mid_block``,
    ...), with the small input and output convolutions and the embeddings folded into ``io``.
    """
    names = [name for name, _ in model.named_parameters()]
    kinds = parameter_groups(model)
    groups = {"all": names, "spatial": kinds["spatial"], "temporal": kinds["temporal"]}
    for name in names:
        parts = name.removeprefix("unet.").split(".")  # UNet3DDenoiser wraps a diffusers UNet
        if parts[0] in ("down_blocks", "up_blocks"):
            block = f"{parts[0]}.{parts[1]}"
        else:
            block = "mid_block" if parts[0] == "mid_block" else "io"
        groups.setdefault(f"block:{block}", []).append(name)
    return groups


def parameter_dots(a: Gradients, b: Gradients) -> torch.Tensor:
    """Per-parameter inner products ``<a_i[k], b_i[k]>`` of two gradient sets with rows i.

    Returns a float64 ``(B, num_parameters)`` tensor (parameters in ``a``'s order); group inner
    products are sums of its columns. Rows broadcast, so a ``(1, ...)`` mean gradient meets a batch.
    """
    if a.keys() != b.keys():
        raise ValueError("the two gradient sets are of different models (their parameter names differ)")
    columns = []
    for name in a:
        x, y = a[name], b[name]
        if x.shape[1:] != y.shape[1:]:
            raise ValueError(f"gradient of {name}: shapes {tuple(x.shape)} and {tuple(y.shape)} differ")
        # products in float32, sums accumulated in float64: cosines near 1 keep their last digits
        columns.append((x * y).flatten(1).sum(1, dtype=torch.float64))
    return torch.stack(columns, dim=1)


@dataclass
class GradientSet:
    """Per-clip gradients with their per-parameter squared norms, computed once and reused by
    every cosine the set takes part in."""

    gradients: Gradients
    norms: torch.Tensor  # (B, num_parameters) float64

    @classmethod
    def of(cls, gradients: Gradients) -> GradientSet:
        return cls(gradients, parameter_dots(gradients, gradients))

    def mean(self) -> GradientSet:
        """The minibatch gradient (mean over clips), as a one-row set."""
        return GradientSet.of({name: g.mean(0, keepdim=True) for name, g in self.gradients.items()})


def cosines(a: GradientSet, b: GradientSet, groups: dict[str, list[str]]) -> dict[str, torch.Tensor]:
    """``cos(a_i, b_i)`` over the parameters of each group: ``{group: (B,) float64}``.

    ``cos(g, h) = <g, h> / (|g| |h|)``; a group whose gradient is zero on one side gives NaN.
    """
    dots = parameter_dots(a.gradients, b.gradients)
    column = {name: k for k, name in enumerate(a.gradients)}
    result = {}
    for group, members in groups.items():
        index = torch.tensor([column[name] for name in members])
        dot, norm_a, norm_b = (m[:, index].sum(1) for m in (dots, a.norms, b.norms))
        result[group] = dot / (norm_a * norm_b).sqrt()
    return result


def group_cosines(a: Gradients, b: Gradients, groups: dict[str, list[str]]) -> dict[str, torch.Tensor]:
    """:func:`cosines` of two plain gradient dicts."""
    return cosines(GradientSet.of(a), GradientSet.of(b), groups)
