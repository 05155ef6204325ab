"""Data fixtures: a local client with a project, real PNG digits and generated WAV files."""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from keel.client import Client

PROJECT = "vision"


@pytest.fixture
def data_client(make_keel: Callable[..., Client]) -> Client:
    client = make_keel()
    client.projects.create(name=PROJECT)
    return client


def write_digits(folder: Path, count: int = 60) -> list[Path]:
    """PNG files of scikit-learn's bundled 8x8 digits, in one folder per label."""
    pytest.importorskip("sklearn")
    pil = pytest.importorskip("PIL.Image")
    from sklearn.datasets import load_digits

    digits = load_digits()
    paths = []
    for i in range(count):
        label = int(digits.target[i])
        target = folder / f"label_{label}" / f"digit_{i:04d}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        pixels = (digits.images[i] * 16).clip(0, 255).astype("uint8")
        pil.fromarray(pixels, mode="L").save(target)
        paths.append(target)
    return paths


def write_wavs(folder: Path, count: int = 4) -> list[Path]:
    """Short mono sine tones as 16-bit WAV files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"tone_{i}.wav"
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(8000)
            freq = 220.0 * (i + 1)
            frames = b"".join(
                struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * t / 8000))) for t in range(800)
            )
            handle.writeframes(frames)
        paths.append(path)
    return paths


@pytest.fixture
def digits(tmp_path: Path) -> Path:
    folder = tmp_path / "work" / "digits"
    write_digits(folder)
    return folder


@pytest.fixture
def wavs(tmp_path: Path) -> Path:
    folder = tmp_path / "work" / "audio"
    write_wavs(folder)
    return folder


@pytest.fixture
def digit_writer() -> Callable[[Path, int], list[Path]]:
    return write_digits
