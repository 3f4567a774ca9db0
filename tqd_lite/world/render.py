"""The toy video world: short RGB clips with two independent, continuous quality knobs.

* **Visual quality** ``q`` in [0, 1]: every clip is first rendered sharp (textured sprites,
  a finely textured background), then degraded with one visual degradation of
  :mod:`tqd_lite.world.degrade` (blur, downsample-upsample or coarse DCT quantisation). The knob is
  *calibrated* (:func:`visual_strength`): equal ``q`` leaves the same expected fine detail
  whichever degradation is used, falling evenly on a log scale from sharp (``q = 1``) to the
  detail floor all three reach (``q = 0``). Without it, "q = 0.8" would be sharp under blur
  and already destroyed under downsampling. The degradation acts frame by frame, so it leaves
  the motion untouched.
* **Motion intensity** ``m`` in [0, 1]: sprite speed and camera-pan speed scale with ``m``;
  ``m = 0`` is a perfectly still clip. The textures and colours do not depend on ``m``.

Content (colours, sprite shapes and textures, starting positions, directions) is drawn from
``spec.seed``, so a :class:`ClipSpec` renders to the same clip every time, and two specs that
differ only in ``q`` or ``m`` show the same scene. Sprites are textured with stripes or
checkers and bounce off the frame edges over a smooth, slowly panning background [our choice;
docs/papers.md section 1 names the two qualities].

The world's variety is a :class:`WorldStyle`. The project's world is :data:`WORLD` (``simple``:
axis-aligned textures of 2-5 px and a palette of colours), chosen in issue 17 because a small
model can learn it at 16x16 while the dilemma stays (``benchmarks/probe_world_dilemma.py``); the
first world, ``classic`` (free colours and angles, textures of 1-3.5 px at the Nyquist band), is
kept for the probes that compare the two.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from tqd_lite.world.degrade import VISUAL_DEGRADATIONS

SUPERSAMPLE = 4  # sub-pixel samples per axis: antialiased edges and smooth sub-pixel motion
MAX_SPRITE_SPEED = 0.15  # sprite speed at m = 1, in frame widths per frame
MAX_CAMERA_SPEED = 0.08  # camera-pan speed at m = 1, in frame widths per frame
BACKGROUND_TEXTURE_AMPLITUDE = 0.08  # contrast of the fine background checker


@dataclass(frozen=True)
class WorldStyle:
    """What a scene's textures and colours may be: the world's variety, which a small model must cover.

    ``texture_angles``: ``"any"`` (a random angle per sprite) or ``"axis"`` (stripes and checkers
    aligned with the frame); ``stripe_period`` and ``checker_cell``: ranges in pixels;
    ``colour_levels``: ``None`` for free colours, or the number of values each colour channel is
    snapped to within its range (a palette of ``levels**3`` colours). Every style makes the same
    random draws in the same order, so a spec shows the same scene layout and motion in each.
    """

    name: str
    texture_angles: str
    stripe_period: tuple[float, float]
    checker_cell: tuple[float, float]
    colour_levels: int | None


CLASSIC = WorldStyle("classic", "any", (2.0, 3.5), (1.0, 1.75), None)
# issue 17: textures twice as coarse, axis-aligned, and eight colours per range; its probes
# (benchmarks/probe_golden_recipe.py, README "Frames first") found the classic world's variety is
# what a small model misses at 16 px
SIMPLE = WorldStyle("simple", "axis", (4.0, 5.0), (2.0, 2.5), 2)
WORLD_STYLES = {style.name: style for style in (CLASSIC, SIMPLE)}
WORLD = SIMPLE  # the project's world: every render, pool, metric and model uses it unless told


def world_style(name: str) -> WorldStyle:
    """The :class:`WorldStyle` called ``name``, or a clear error naming the known ones."""
    if name not in WORLD_STYLES:
        raise ValueError(f"unknown world style {name!r}; expected one of {sorted(WORLD_STYLES)}")
    return WORLD_STYLES[name]


def _snap(colour: np.ndarray, low: float, high: float, levels: int | None) -> np.ndarray:
    """Snap each channel of ``colour`` (drawn uniform in [low, high]) to ``levels`` values in that range."""
    if levels is None:
        return colour
    steps = np.round((colour - low) / (high - low) * (levels - 1))
    return low + steps * (high - low) / (levels - 1)


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one clip. Rendering is a pure function of it."""

    seed: int
    visual_quality: float = 1.0
    motion_intensity: float = 1.0
    visual_degradation: str = "blur"
    num_frames: int = 8
    size: int = 16

    def __post_init__(self):
        for name in ("visual_quality", "motion_intensity"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ClipSpec.{name} must be in [0, 1], got {value}")
        if self.visual_degradation not in VISUAL_DEGRADATIONS:
            raise ValueError(
                f"ClipSpec.visual_degradation must be one of {sorted(VISUAL_DEGRADATIONS)}, "
                f"got {self.visual_degradation!r}"
            )
        if self.size < 8:
            raise ValueError(f"ClipSpec.size must be >= 8, got {self.size}")
        if self.num_frames < 2:
            raise ValueError(f"ClipSpec.num_frames must be >= 2, got {self.num_frames}")

    def to_dict(self) -> dict:
        return asdict(self)


def random_spec(
    rng: np.random.Generator, *, size: int, num_frames: int, motion: float | None = None
) -> ClipSpec:
    """A spec with a random scene, both knobs uniform in [0, 1] (or the given ``motion``) and a random
    visual degradation: what the learned metrics train and calibrate on."""
    return ClipSpec(
        seed=int(rng.integers(2**31 - 1)),
        visual_quality=float(rng.uniform(0, 1)),
        motion_intensity=float(rng.uniform(0, 1)) if motion is None else motion,
        visual_degradation=str(rng.choice(sorted(VISUAL_DEGRADATIONS))),
        num_frames=num_frames,
        size=size,
    )


def _bounce(position: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Reflect positions into [low, high], like a ball bouncing between two walls."""
    span = high - low
    phase = torch.remainder(position - low, 2 * span)
    return low + torch.where(phase < span, phase, 2 * span - phase)


def _two_contrasting_colours(
    rng: np.random.Generator, levels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    dark = _snap(rng.uniform(0.05, 0.45, 3), 0.05, 0.45, levels)
    light = _snap(rng.uniform(0.55, 0.95, 3), 0.55, 0.95, levels)
    return (dark, light) if rng.random() < 0.5 else (light, dark)


def _texture(kind: str, a: torch.Tensor, b: torch.Tensor, scale: float) -> torch.Tensor:
    """Binary high-frequency pattern in local coordinates (a, b): stripes or checkers."""
    if kind == "stripes":
        return torch.sin(2 * math.pi * a / scale) > 0
    return torch.sin(math.pi * a / scale) * torch.sin(math.pi * b / scale) > 0


@dataclass(frozen=True)
class SceneTruth:
    """What the renderer knows about a clip's sprites, beside its pixels (the tracker's targets).

    ``centres``: ``(S, F, 2)`` sprite centres ``(x, y)`` in pixels (pixel ``(i, j)`` covers
    ``[j, j+1) x [i, i+1)``); ``radii``: ``(S,)`` half-widths in pixels; ``masks``: ``(S, F, H, W)``
    the share of each pixel where the sprite is visible (drawn last, so on top). ``S`` may be 0.
    """

    centres: torch.Tensor
    radii: torch.Tensor
    masks: torch.Tensor

    @property
    def num_sprites(self) -> int:
        return int(self.centres.shape[0])


def render_scene(
    spec: ClipSpec, *, sprites: bool = True, style: WorldStyle = WORLD
) -> tuple[torch.Tensor, SceneTruth]:
    """Render the undegraded clip of ``spec`` and its :class:`SceneTruth`.

    ``sprites=False`` draws the same background with no sprite (the sanity table's content
    negative): the background's random draws come first, so its pixels do not change.
    ``style``: the world's textures and colours (:class:`WorldStyle`).
    """
    rng = np.random.default_rng(spec.seed)
    size, frames, k = spec.size, spec.num_frames, SUPERSAMPLE
    coords = (torch.arange(size * k, dtype=torch.float32) + 0.5) / k  # sample centres, pixels
    y, x = torch.meshgrid(coords, coords, indexing="ij")  # (Hk, Wk)
    t = torch.arange(frames, dtype=torch.float32).view(-1, 1, 1)  # (F, 1, 1)

    # Background: a smooth two-colour wave plus a faint fine checker, both panning with the camera.
    cam_angle = rng.uniform(0, 2 * math.pi)
    cam_speed = spec.motion_intensity * MAX_CAMERA_SPEED * size * rng.uniform(0.3, 1.0)
    bx = x + cam_speed * math.cos(cam_angle) * t  # (F, Hk, Wk)
    by = y + cam_speed * math.sin(cam_angle) * t
    wave_angle, wavelength = rng.uniform(0, 2 * math.pi), size * rng.uniform(0.8, 1.6)
    wave = 0.5 + 0.5 * torch.sin(
        2 * math.pi * (math.cos(wave_angle) * bx + math.sin(wave_angle) * by) / wavelength
        + rng.uniform(0, 2 * math.pi)
    )
    colour_a, colour_b = (
        torch.tensor(_snap(c, 0.15, 0.85, style.colour_levels), dtype=torch.float32).view(3, 1, 1, 1)
        for c in rng.uniform(0.15, 0.85, (2, 3))
    )
    image = colour_a * (1 - wave) + colour_b * wave  # (3, F, Hk, Wk)
    fine = _texture("checkers", bx, by, rng.uniform(1.0, 2.0)).float() * 2 - 1
    image = image + BACKGROUND_TEXTURE_AMPLITUDE * fine

    # Sprites: textured squares or discs bouncing off the frame edges.
    centres, radii, owner = [], [], torch.full((frames, size * k, size * k), -1)  # owner: top sprite
    for index in range(rng.integers(1, 3) if sprites else 0):
        radius = size * rng.uniform(0.16, 0.26)
        start = rng.uniform(radius, size - radius, 2)
        direction = rng.uniform(0, 2 * math.pi)
        speed = spec.motion_intensity * MAX_SPRITE_SPEED * size * rng.uniform(0.6, 1.0)
        cx = _bounce(start[0] + speed * math.cos(direction) * t, radius, size - radius)
        cy = _bounce(start[1] + speed * math.sin(direction) * t, radius, size - radius)
        dx, dy = x - cx, y - cy  # (F, Hk, Wk), sprite-local coordinates
        if rng.random() < 0.5:
            inside = (dx.abs() < radius) & (dy.abs() < radius)
        else:
            inside = dx**2 + dy**2 < radius**2
        angle = rng.uniform(0, math.pi)
        if style.texture_angles == "axis":
            angle = math.pi / 2 * round(angle / (math.pi / 2))
        a = math.cos(angle) * dx + math.sin(angle) * dy
        b = -math.sin(angle) * dx + math.cos(angle) * dy
        kind = "stripes" if rng.random() < 0.5 else "checkers"
        period = rng.uniform(*style.stripe_period) if kind == "stripes" else rng.uniform(*style.checker_cell)
        pattern = _texture(kind, a, b, period)
        colour_1, colour_2 = (
            torch.tensor(c, dtype=torch.float32).view(3, 1, 1, 1)
            for c in _two_contrasting_colours(rng, style.colour_levels)
        )
        sprite = torch.where(pattern, colour_1, colour_2)
        image = torch.where(inside, sprite, image)
        owner = torch.where(inside, index, owner)
        centres.append(torch.stack([cx.view(frames), cy.view(frames)], dim=-1))  # (F, 2)
        radii.append(radius)

    # Average the k x k sub-pixel samples: (3, F, Hk, Wk) -> (3, F, H, W)
    image = image.view(3, frames, size, k, size, k).mean(dim=(3, 5))
    masks = (
        torch.stack([(owner == i).float() for i in range(len(radii))])
        if radii
        else torch.zeros(0, frames, size * k, size * k)
    )
    truth = SceneTruth(
        centres=torch.stack(centres) if centres else torch.zeros(0, frames, 2),
        radii=torch.tensor(radii, dtype=torch.float32),
        masks=masks.view(-1, frames, size, k, size, k).mean(dim=(3, 5)),  # (S, F, H, W)
    )
    return image.clamp(0, 1), truth


def render_sharp(spec: ClipSpec, style: WorldStyle = WORLD) -> torch.Tensor:
    """Render the undegraded clip of ``spec``: ``(3, F, H, W)`` float32 in [0, 1]."""
    return render_scene(spec, style=style)[0]


CALIBRATION_SCENES = 16  # sharp scenes whose mean detail curve calibrates the visual knob
CALIBRATION_STRENGTHS = 201  # grid of degradation strengths in [0, 1]


@functools.cache
def _log_detail_curves(size: int, num_frames: int, style: WorldStyle) -> dict[str, np.ndarray]:
    """For each visual degradation: the mean over calibration scenes of ``style`` of log10 visual
    score, per strength."""
    from tqd_lite.quality.scores import visual_score  # scores depends on degrade only; no cycle

    scenes = torch.stack(
        [
            render_sharp(ClipSpec(seed=10_000 + i, size=size, num_frames=num_frames), style)
            for i in range(CALIBRATION_SCENES)
        ]
    )
    strengths = np.linspace(0, 1, CALIBRATION_STRENGTHS)
    curves = {}
    for kind, degrade in VISUAL_DEGRADATIONS.items():
        curve = np.array([torch.log10(visual_score(degrade(scenes, s))).mean().item() for s in strengths])
        curves[kind] = np.minimum.accumulate(curve)  # detail never comes back with more strength
    return curves


def visual_strength(
    kind: str, visual_quality: float, size: int, num_frames: int, style: WorldStyle = WORLD
) -> float:
    """The strength of degradation ``kind`` that realises ``visual_quality`` in the world ``style``
    (see the module doc); each world is calibrated on its own scenes, since its textures set the
    detail that sharp clips have.

    Target: ``log10 detail = sharp + (1 - q) (floor - sharp)``, where ``floor`` is the lowest
    detail that every degradation reaches at strength 1; each kind gets the strength whose
    measured detail is nearest the target. Downsampling shrinks frames by whole pixels, so its
    detail jumps (at 16x16 a one-pixel shrink already removes most of it): for mild targets it
    can only be left off or jump, and "nearest" picks whichever is closer.
    """
    curves = _log_detail_curves(size, num_frames, style)
    sharp = curves[kind][0]
    floor = max(curve[-1] for curve in curves.values())
    target = sharp + (1.0 - visual_quality) * (floor - sharp)
    return float(np.linspace(0, 1, CALIBRATION_STRENGTHS)[np.argmin(np.abs(curves[kind] - target))])


def degrade_to_quality(clip: torch.Tensor, spec: ClipSpec, style: WorldStyle = WORLD) -> torch.Tensor:
    """Apply ``spec``'s visual degradation at the strength that realises its visual quality in
    the world ``style`` that ``clip`` was rendered in."""
    if spec.visual_quality >= 1.0:
        return clip
    strength = visual_strength(
        spec.visual_degradation, spec.visual_quality, spec.size, spec.num_frames, style
    )
    return VISUAL_DEGRADATIONS[spec.visual_degradation](clip, strength)


def render_clip(spec: ClipSpec, style: WorldStyle = WORLD) -> torch.Tensor:
    """Render ``spec`` in the world ``style``, its visual degradation applied: ``(3, F, H, W)`` in [0, 1]."""
    return render_clip_with_truth(spec, style=style)[0]


def render_clip_with_truth(
    spec: ClipSpec, *, sprites: bool = True, style: WorldStyle = WORLD
) -> tuple[torch.Tensor, SceneTruth]:
    """:func:`render_clip` and the :class:`SceneTruth` of its sprites (visual damage moves no sprite)."""
    clip, truth = render_scene(spec, sprites=sprites, style=style)
    return degrade_to_quality(clip, spec, style), truth


def render_clips(specs: list[ClipSpec], style: WorldStyle = WORLD) -> torch.Tensor:
    """Render several specs into a batch ``(B, 3, F, H, W)``."""
    return torch.stack([render_clip(spec, style) for spec in specs])
