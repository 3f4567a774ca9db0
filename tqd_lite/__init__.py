"""tqd-lite: a notebook-first reference implementation of TQD and MCM on a toy video world.

Modules, one idea each: :mod:`~tqd_lite.world.render` (the toy clips), :mod:`~tqd_lite.world.degrade`
(visual and motion degradations), :mod:`~tqd_lite.world.video_io` (files, decord), :mod:`~tqd_lite.world.pool`
(the web-like corpus), :mod:`~tqd_lite.quality.scores` and :mod:`~tqd_lite.quality.corpus` (MQ, VQ, splits),
:mod:`~tqd_lite.quality.encoder` and :mod:`~tqd_lite.quality.metrics` (evaluation), :mod:`~tqd_lite.cli`.
Nothing heavy happens at import: devices are chosen inside functions.
"""

__version__ = "0.1.0"


def lazy_exports(package: str, exports: dict[str, str]):
    """``__getattr__`` for a subpackage whose ``__init__`` names ``{name: module}``: each name is
    imported from its module on first use (PEP 562), so importing one module (say
    ``tqd_lite.tqd.sampler``) does not import the rest of its subpackage."""
    import importlib

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
