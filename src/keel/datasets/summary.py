"""A folder version's summary by file type: counts and bytes, and image sizes when Pillow is there.

Counts and sizes come from the tree's entries (no file is read). Image
dimensions read only the headers of at most :data:`IMAGES_MEASURED` images per
extension, spread evenly over the folder, so summarising 50,000 images stays
cheap; the summary says how many were measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from keel.artifacts.model import TreeEntry
from keel.datasets.schemas import FileTypeSummary

IMAGES_MEASURED: Final = 200
IMAGE_SUFFIXES: Final = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else "(none)"


def summarise_files(root: Path, entries: list[TreeEntry]) -> list[FileTypeSummary]:
    """Files, bytes and (for images, if Pillow is installed) width/height ranges per extension."""
    groups: dict[str, list[TreeEntry]] = {}
    for entry in entries:
        groups.setdefault(_suffix(entry.path), []).append(entry)
    out = []
    for ext in sorted(groups, key=lambda e: (-len(groups[e]), e)):
        members = groups[ext]
        summary = FileTypeSummary(extension=ext, files=len(members), size=sum(e.size for e in members))
        if ext in IMAGE_SUFFIXES and root.is_dir():
            _measure_images(root, members, summary)
        out.append(summary)
    return out


def _measure_images(root: Path, members: list[TreeEntry], summary: FileTypeSummary) -> None:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # Pillow is optional: no dimensions then
        return
    step = max(1, len(members) // IMAGES_MEASURED)
    widths: list[int] = []
    heights: list[int] = []
    for entry in members[::step][:IMAGES_MEASURED]:
        try:
            with Image.open(root / entry.path) as image:
                width, height = image.size
        except (OSError, UnidentifiedImageError):
            continue
        widths.append(width)
        heights.append(height)
    if widths:
        summary.images_measured = len(widths)
        summary.width_min, summary.width_max = min(widths), max(widths)
        summary.height_min, summary.height_max = min(heights), max(heights)
