"""The video denoisers: a factorized (2+1)-D UNet assembled from diffusers blocks, and a
``UNet3DConditionModel`` wrapper kept for comparison (``benchmarks/bench_learning.py``).

Both map a noisy clip, its timesteps and optional class labels to a prediction of the same
shape (epsilon or v, see :mod:`tqd_lite.diffusion.noise`)::

    model(sample (B, C, F, H, W), timestep (B,), class_labels (B,) | None) -> (B, C, F, H, W)

**Class conditioning with a null class.** A model made for ``num_classes = K`` has K + 1 class
embeddings; index K is the *null class* ("no label"). ``class_labels=None`` means the null
class for every clip, so an unconditional model is simply ``K = 0``, and classifier-free
guidance compares the prediction for label k with the one for the null class (MCM, docs/papers.md
section 2).

**Spatial and temporal parameters.** :func:`parameter_groups` splits every parameter into
``spatial`` (per-frame 2-D convolutions and norms), ``temporal`` (layers that mix frames) and
``embedding`` (timestep and class embeddings), which the gradient analysis compares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.resnet import SpatioTemporalResBlock, TemporalResnetBlock
from diffusers.models.transformers.transformer_temporal import TransformerTemporalModel
from diffusers.models.unets.unet_3d_blocks import DownBlockSpatioTemporal, UpBlockSpatioTemporal
from diffusers.models.unets.unet_3d_condition import UNet3DConditionModel
from torch import nn

ARCHITECTURES = ("factorized", "unet3d")
CLIP_NORMS = ("none", "out", "all")
MAX_FRAMES = 64  # the longest clip the temporal attention's sinusoidal frame positions cover


@dataclass(frozen=True)
class ModelPreset:
    """A named model size. ``block_out_channels`` gives one UNet level per entry."""

    architecture: str
    block_out_channels: tuple[int, ...]
    layers_per_block: int
    description: str
    patch_size: int = 1
    temporal_attention: bool = False
    # which GroupNorms see the whole clip: "none", "out" or "all" (see FactorizedVideoUNet)
    clip_norms: str = "none"
    # how many of the highest-resolution levels mix frames with 3x3x3 kernels instead of 3x1x1
    spatiotemporal_levels: int = 0


PRESETS: dict[str, ModelPreset] = {
    "tiny": ModelPreset(
        "factorized", (32, 64, 128), 1, "CPU and quick profile (16x16); its samples are still mud (issue 17)"
    ),
    "tiny-p2": ModelPreset(
        "factorized",
        (32, 64),
        1,
        "a 2x2 space-to-depth stem: 3x faster steps, but learned slower per second",
        2,
    ),
    "tiny-attn": ModelPreset(
        "factorized",
        (32, 64, 128),
        1,
        "tiny plus temporal self-attention at the lowest level: a scene held together across frames",
        temporal_attention=True,
    ),
    "tiny-clipnorm": ModelPreset(
        "factorized",
        (32, 64, 128),
        1,
        "tiny with its output norm over the whole clip, so frames can differ in mean colour",
        clip_norms="out",
    ),
    "tiny-clipnorm-all": ModelPreset(
        "factorized",
        (32, 64, 128),
        1,
        "tiny with every per-frame norm (output and spatial ResNet blocks) over the whole clip",
        clip_norms="all",
    ),
    "tiny-clipnorm-all-attn": ModelPreset(
        "factorized",
        (32, 64, 128),
        1,
        "tiny-clipnorm-all plus temporal self-attention at the lowest level, to keep a sprite's "
        "identity across frames",
        temporal_attention=True,
        clip_norms="all",
    ),
    "tiny-clipnorm-all-st1": ModelPreset(
        "factorized",
        (32, 64, 128),
        1,
        "tiny-clipnorm-all whose top level mixes frames with 3x3x3 kernels, so a texture moving "
        "about a pixel per frame can be followed where it is drawn",
        clip_norms="all",
        spatiotemporal_levels=1,
    ),
    "small": ModelPreset(
        "factorized",
        (32, 64, 128, 128),
        1,
        "full profile (32x32): tiny's widths plus a level for the larger frames",
    ),
    "small-clipnorm-all": ModelPreset(
        "factorized",
        (32, 64, 128, 128),
        1,
        "small with every per-frame norm over the whole clip (tiny-clipnorm-all at 32x32)",
        clip_norms="all",
    ),
    "unet3d-tiny": ModelPreset(
        "unet3d", (32, 64), 1, "diffusers UNet3DConditionModel of similar size, for the speed comparison"
    ),
}


def get_preset(name: str) -> ModelPreset:
    """The preset called ``name``, with an error that lists the known ones."""
    if name not in PRESETS:
        raise ValueError(f"unknown model preset {name!r}; expected one of {sorted(PRESETS)}")
    return PRESETS[name]


class ClipGroupNorm(nn.GroupNorm):
    """``GroupNorm`` over each clip's frames together: it takes frames as a batch ``(B*F, C, h, w)``,
    as diffusers' 2-D layers do, and normalises each group over ``(C/G, F, h, w)``. The model sets
    ``frames`` at the start of every forward pass. Same parameters as ``nn.GroupNorm``."""

    frames: int = 1

    @classmethod
    def like(cls, norm: nn.GroupNorm) -> ClipGroupNorm:
        return cls(norm.num_groups, norm.num_channels, eps=norm.eps, affine=norm.affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_frames, c, h, w = x.shape
        clip = x.reshape(batch_frames // self.frames, self.frames, c, h, w).transpose(1, 2)  # (B, C, F, h, w)
        return super().forward(clip).transpose(1, 2).reshape(batch_frames, c, h, w)


def widen_temporal_kernels(block: TemporalResnetBlock) -> None:
    """Give a diffusers ``TemporalResnetBlock`` 3x3x3 convolutions instead of its 3x1x1 ones.

    A 3x1x1 kernel compares each pixel with the *same* pixel in the neighbouring frames. A sprite
    that moves about a pixel per frame at 16x16 is, one frame later, at a neighbouring pixel, so
    at the full-resolution level a 3x1x1 kernel cannot follow its texture; a 3x3x3 one can (the
    spatio-temporal kernels of C3D and VDM's 3-D UNets, at about 3x the temporal convolutions'
    cost at that level) [our choice].
    """
    for name in ("conv1", "conv2"):
        conv = getattr(block, name)
        setattr(block, name, nn.Conv3d(conv.in_channels, conv.out_channels, kernel_size=3, padding=1))


class FactorizedVideoUNet(ModelMixin, ConfigMixin):
    """A UNet whose every block is a diffusers ``SpatioTemporalResBlock``: a 2-D ResNet block
    applied to each frame, then a temporal ResNet block (kernel 3 x 1 x 1) across frames,
    blended by a learned mix factor (the video ResNet block of Stable Video Diffusion).

    No spatial attention: at 16x16 and 32x32 the lowest level (4x4 or 8x8) already sees the
    whole frame through its 3x3 convolutions, and attention costs more than it gives on a
    CPU (``benchmarks/bench_learning.py``, ``benchmarks/bench_train.py``) [our choice].
    ``temporal_attention=True`` (preset ``tiny-attn``) adds one temporal self-attention layer
    after the mid block; in 600-step probes it changed neither the samples nor their flicker
    (``results/benchmarks/golden_recipe_16*.json``).

    **Norms over the clip.** diffusers' 2-D blocks normalise each frame on its own (32 groups; at
    the first level, 32 channels, each channel is its own group), so after ``norm_out`` every
    channel of every frame has mean 0 and the final convolution can hardly give one frame another
    mean colour than the next. The noise's per-frame means (std 1/16 per channel at 16x16) then
    survive the whole DDIM trajectory as flicker (``benchmarks/probe_frame_means.py``).
    ``clip_norms="out"`` normalises ``norm_out``'s groups over the whole clip ``(C/G, F, H, W)``
    instead, as diffusers' temporal blocks do; ``"all"`` also the two norms of every spatial
    ResNet block (:class:`ClipGroupNorm`) [our choice].
    """

    temporal_markers = ("temporal_res_block", "time_mixer", "temporal_attention")

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        block_out_channels: tuple[int, ...] = (32, 64, 64),
        layers_per_block: int = 1,
        num_classes: int = 0,
        patch_size: int = 1,
        temporal_attention: bool = False,
        clip_norms: str = "none",
        spatiotemporal_levels: int = 0,
        sample_size: int | None = None,
        num_frames: int | None = None,
    ):
        # sample_size, num_frames: the clip shape it was trained on, recorded in its config when
        # its weights are exported (the pipeline's default shape); they change no layer
        super().__init__()
        if clip_norms not in CLIP_NORMS:
            raise ValueError(f"clip_norms must be one of {CLIP_NORMS}, got {clip_norms!r}")
        if not 0 <= spatiotemporal_levels <= len(block_out_channels):
            raise ValueError(
                f"spatiotemporal_levels must be in [0, {len(block_out_channels)}], "
                f"got {spatiotemporal_levels}"
            )
        if any(c % 32 for c in block_out_channels):
            # the temporal ResNet block of diffusers normalises in 32 groups
            raise ValueError(f"block_out_channels must be multiples of 32, got {block_out_channels}")
        width, temb_dim = block_out_channels[0], 4 * block_out_channels[0]
        self.time_proj = Timesteps(width, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embedding = TimestepEmbedding(width, temb_dim)
        self.class_embedding = nn.Embedding(num_classes + 1, temb_dim)  # index num_classes = null
        # optional space-to-depth stem: p x p pixel patches become channels, so every level runs
        # at 1/p the resolution (Hoogeboom et al. 2023, "simple diffusion"); only tiny-p2 uses it
        self.patchify, self.unpatchify = nn.PixelUnshuffle(patch_size), nn.PixelShuffle(patch_size)
        self.conv_in = nn.Conv2d(in_channels * patch_size**2, width, kernel_size=3, padding=1)

        self.down_blocks = nn.ModuleList()
        channels = width
        for level, out in enumerate(block_out_channels):
            last = level == len(block_out_channels) - 1
            self.down_blocks.append(
                DownBlockSpatioTemporal(channels, out, temb_dim, layers_per_block, add_downsample=not last)
            )
            channels = out
        self.mid_block = SpatioTemporalResBlock(channels, channels, temb_dim, eps=1e-5)
        # optional: at the lowest level every position attends over the clip's frames (with
        # sinusoidal frame positions), the temporal attention of ModelScope/AnimateDiff
        self.mid_temporal_attention = (
            TransformerTemporalModel(
                num_attention_heads=channels // 32,
                attention_head_dim=32,
                in_channels=channels,
                positional_embeddings="sinusoidal",
                num_positional_embeddings=MAX_FRAMES,
            )
            if temporal_attention
            else None
        )

        # Up path: each level takes the previous level's output plus skip connections.
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(block_out_channels))
        for level, out in enumerate(reversed_channels):
            skip = reversed_channels[min(level + 1, len(reversed_channels) - 1)]
            last = level == len(reversed_channels) - 1
            self.up_blocks.append(
                UpBlockSpatioTemporal(
                    in_channels=skip,
                    prev_output_channel=channels,
                    out_channels=out,
                    temb_channels=temb_dim,
                    num_layers=layers_per_block + 1,
                    resnet_eps=1e-5,
                    add_upsample=not last,
                )
            )
            channels = out
        self.norm_out = (ClipGroupNorm if clip_norms != "none" else nn.GroupNorm)(32, width, eps=1e-5)
        if clip_norms == "all":
            for block in self.modules():
                if isinstance(block, SpatioTemporalResBlock):
                    spatial = block.spatial_res_block
                    spatial.norm1, spatial.norm2 = (
                        ClipGroupNorm.like(spatial.norm1),
                        ClipGroupNorm.like(spatial.norm2),
                    )
        for level in range(spatiotemporal_levels):  # the up block of a level runs at its resolution
            for block in (self.down_blocks[level], self.up_blocks[-1 - level]):
                for resnet in block.resnets:
                    widen_temporal_kernels(resnet.temporal_res_block)
        self.clip_group_norms = [m for m in self.modules() if isinstance(m, ClipGroupNorm)]
        self.conv_out = nn.Conv2d(width, in_channels * patch_size**2, kernel_size=3, padding=1)

    def embed(self, timestep: torch.Tensor, class_labels: torch.Tensor | None, batch: int) -> torch.Tensor:
        """Timestep plus class embedding, one vector per clip: ``(B, temb_dim)``."""
        emb = self.time_embedding(self.time_proj(timestep.expand(batch)).to(self.dtype))
        if class_labels is None:  # the null class
            class_labels = torch.full((batch,), self.config.num_classes, device=emb.device)
        return emb + self.class_embedding(class_labels)

    def forward(
        self, sample: torch.Tensor, timestep: torch.Tensor, class_labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        batch, channels, frames, height, width = sample.shape
        for norm in self.clip_group_norms:  # they see (B*F, C, h, w) and need F to find the clips
            norm.frames = frames
        temb = self.embed(timestep, class_labels, batch).repeat_interleave(frames, dim=0)  # (B*F, D)
        # every frame of a video block is treated as videos, not still images
        video = torch.zeros(batch, frames, device=sample.device, dtype=sample.dtype)  # (B, F)
        # (B, C, F, H, W) -> (B*F, C, H, W): the 2-D layers see frames as a batch
        frames_2d = sample.permute(0, 2, 1, 3, 4).reshape(batch * frames, channels, height, width)
        x = self.conv_in(self.patchify(frames_2d))
        skips = (x,)
        for block in self.down_blocks:
            x, states = block(x, temb, image_only_indicator=video)
            skips += states
        x = self.mid_block(x, temb, image_only_indicator=video)
        if self.mid_temporal_attention is not None:
            x = self.mid_temporal_attention(x, num_frames=frames).sample  # (B*F, C, h, w)
        for block in self.up_blocks:
            n = len(block.resnets)
            x, skips = block(x, skips[-n:], temb, image_only_indicator=video), skips[:-n]
        x = self.unpatchify(self.conv_out(nn.functional.silu(self.norm_out(x))))
        return x.reshape(batch, frames, channels, height, width).permute(0, 2, 1, 3, 4)


class UNet3DDenoiser(ModelMixin, ConfigMixin):
    """diffusers' ``UNet3DConditionModel`` (ModelScope-style) behind the same interface.

    It has no class embedding of its own, so the class embedding is fed as a one-token text
    context to its cross-attention (the mid block always has cross-attention).
    """

    temporal_markers = ("temp_convs", "temp_attentions", "transformer_in")

    @register_to_config
    def __init__(
        self,
        in_channels: int = 3,
        block_out_channels: tuple[int, ...] = (32, 64),
        layers_per_block: int = 1,
        num_classes: int = 0,
        sample_size: int | None = None,
        num_frames: int | None = None,
    ):
        super().__init__()  # sample_size, num_frames: as in FactorizedVideoUNet
        context_dim = 4 * block_out_channels[0]
        self.class_embedding = nn.Embedding(num_classes + 1, context_dim)
        levels = len(block_out_channels)
        self.unet = UNet3DConditionModel(
            in_channels=in_channels,
            out_channels=in_channels,
            down_block_types=("DownBlock3D",) * levels,
            up_block_types=("UpBlock3D",) * levels,
            block_out_channels=tuple(block_out_channels),
            layers_per_block=layers_per_block,
            norm_num_groups=8,
            cross_attention_dim=context_dim,
            attention_head_dim=8,
        )

    def forward(
        self, sample: torch.Tensor, timestep: torch.Tensor, class_labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        batch = sample.shape[0]
        if class_labels is None:
            class_labels = torch.full((batch,), self.config.num_classes, device=sample.device)
        context = self.class_embedding(class_labels)[:, None, :]  # (B, 1, D)
        return self.unet(sample, timestep.expand(batch), encoder_hidden_states=context).sample


MODEL_CLASSES = {"factorized": FactorizedVideoUNet, "unet3d": UNet3DDenoiser}


def build_model(preset: str, num_classes: int = 0) -> nn.Module:
    """A freshly initialised denoiser of the named preset (``tiny``, ``small``, ``unet3d-tiny``)."""
    if num_classes < 0:
        raise ValueError(f"num_classes must be >= 0, got {num_classes}")
    spec = get_preset(preset)
    return MODEL_CLASSES[spec.architecture](
        block_out_channels=spec.block_out_channels,
        layers_per_block=spec.layers_per_block,
        num_classes=num_classes,
        **(
            {
                "patch_size": spec.patch_size,
                "temporal_attention": spec.temporal_attention,
                "clip_norms": spec.clip_norms,
                "spatiotemporal_levels": spec.spatiotemporal_levels,
            }
            if spec.architecture == "factorized"
            else {}
        ),
    )


def model_config(preset: str, num_classes: int) -> dict:
    """What a checkpoint records to rebuild its model (and to refuse a mismatched one)."""
    return {"preset": preset, "num_classes": num_classes, **asdict(get_preset(preset))}


def parameter_groups(model: nn.Module) -> dict[str, list[str]]:
    """Names of the ``spatial``, ``temporal`` and ``embedding`` parameters of a denoiser."""
    groups: dict[str, list[str]] = {"spatial": [], "temporal": [], "embedding": []}
    for name, _ in model.named_parameters():
        if any(marker in name for marker in model.temporal_markers):
            groups["temporal"].append(name)
        elif "embedding" in name:
            groups["embedding"].append(name)
        else:
            groups["spatial"].append(name)
    return groups


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def check_trained_clip_shape(unet: nn.Module, num_frames: int, size: int, *, name: str, remedy: str) -> None:
    """A unet whose config records the clip shape it was trained on (``num_frames``,
    ``sample_size``) runs at that shape only: otherwise a ValueError naming ``name`` (the model or
    its file) and ``remedy`` (how to ask for another shape, or which profile to pick)."""
    recorded = (unet.config.get("num_frames"), unet.config.get("sample_size"))
    if None not in recorded and recorded != (num_frames, size):
        raise ValueError(
            f"{name} was trained on {recorded[0]} frames of {recorded[1]}x{recorded[1]}, not the "
            f"{num_frames} frames of {size}x{size} asked for ({remedy})"
        )
