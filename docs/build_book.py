"""Render the notebooks, executed in the quick profile, to a static HTML book: ``make book``.

    python docs/build_book.py                 # execute every notebook, write build/book/
    python docs/build_book.py --no-execute    # render the notebooks as committed (no outputs)

Why nbconvert: it ships with JupyterLab, which tqd-lite already installs, so the book needs no
new dependency (Jupyter Book or mkdocs-jupyter would add a Sphinx or MkDocs stack for the same
pages), and its HTML embeds every figure, so ``build/book/`` opens from disk in any browser.
Each notebook runs in its own kernel from the ``notebooks/`` folder, with ``$TQD_PROFILE`` (default
quick) as nbval runs it; the kernel is the ``python3`` kernelspec of this environment.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def chapter_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The first heading of the first markdown cell."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def render(path: Path, out_dir: Path, execute: bool, timeout: int) -> tuple[str, float]:
    """Write ``out_dir/NAME.html``; returns the chapter's title and the seconds it ran."""
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    if execute:
        ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
            notebook, {"metadata": {"path": str(path.parent)}}
        )
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    (out_dir / f"{path.stem}.html").write_text(body)
    return chapter_title(notebook, path.stem), time.perf_counter() - start


def index_page(chapters: list[tuple[str, str, float]], profile: str | None) -> str:
    items = "\n".join(
        f'<li><a href="{html.escape(name)}.html">{html.escape(title)}</a>'
        + (f" <small>({seconds:.0f} s)</small>" if profile else "")
        + "</li>"
        for name, title, seconds in chapters
    )
    how = f"executed in the {profile} profile" if profile else "as committed, without outputs"
    return (
        "<!doctype html><meta charset='utf-8'><title>tqd-lite</title>"
        "<body style='font-family: sans-serif; max-width: 44em; margin: 3em auto'>"
        "<h1>tqd-lite: the notebooks</h1>"
        f"<p>TQD and MCM on a toy video world, one chapter per notebook ({how}).</p>"
        f"<ol>{items}</ol></body>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(ROOT / "build" / "book"), help="output folder")
    parser.add_argument("--no-execute", action="store_true", help="render without running the notebooks")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    os.environ.setdefault("TQD_PROFILE", "quick")  # the kernels inherit it
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    chapters = []
    for path in tqdm(sorted(NOTEBOOKS.glob("[0-9]*.ipynb")), desc="book"):
        title, seconds = render(path, out_dir, not args.no_execute, args.timeout)
        chapters.append((path.stem, title, seconds))
    profile = None if args.no_execute else os.environ["TQD_PROFILE"]
    (out_dir / "index.html").write_text(index_page(chapters, profile))
    (out_dir / "chapters.json").write_text(json.dumps(chapters, indent=2) + "\n")
    print(f"book: {out_dir / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
