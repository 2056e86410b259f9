"""Handwritten seeds (``--exemplars``) and sanitation, on seed folders the tests draw themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.generate import GenerateSettings, generate
from generator.layout import METADATA_FILE
from generator.registry import NumeralSystem
from generator.synthesis.fonts import render_glyph
from generator.synthesis.normalize import normalize_exemplars
from generator.synthesis.plan import plan_split
from generator.synthesis.seeds import read_seeds
from generator.synthesis.synthesizer import exemplar_canvases
from tests.conftest import TINY, assert_one_line_error, run_cli


def _square(glyph: np.ndarray, side: int) -> Image.Image:
    """A white-on-black glyph centred on a square black margin, resized to ``side`` pixels."""
    height, width = glyph.shape
    full = max(height, width) * 5 // 4
    square = np.zeros((full, full), np.uint8)
    top, left = (full - height) // 2, (full - width) // 2
    square[top : top + height, left : left + width] = glyph
    return Image.fromarray(square).resize((side, side))


def _as_paper(glyph: np.ndarray, side: int) -> Image.Image:
    """A glyph as a scan would show it: dark ink on light grey paper, at another size."""
    ink = np.asarray(_square(glyph, side))
    return Image.fromarray((235 - ink.astype(np.int16) * 215 // 255).astype(np.uint8))


def write_seed_folder(folder: Path, system: NumeralSystem, bad: bool = False) -> Path:
    """One seed per font and class, in three formats, sizes and polarities; with ``bad``, three planted faults."""
    formats = [("png", 110, True), ("jpg", 60, True), ("bmp", 28, False)]
    for label, name in enumerate(system.class_names):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for font, (suffix, size, paper) in zip(system.fonts, formats, strict=False):
            glyph = render_glyph(font, system.characters[label])
            image = _as_paper(glyph, size) if paper else _square(glyph, size)
            image.save(folder / name / f"{font.stem}.{suffix}")
    if bad:
        Image.new("L", (64, 64), 240).save(folder / "2" / "blank.png")
        blot = np.full((64, 64), 240, np.uint8)
        blot[8:56, 6:58] = 20
        Image.fromarray(blot).save(folder / "4" / "blot.png")
        _as_paper(render_glyph(system.fonts[0], system.characters[3]), 80).save(folder / "5" / "a-three.png")
    return folder


def font_images(system: NumeralSystem) -> list[list[np.ndarray]]:
    return normalize_exemplars(exemplar_canvases(system))


def test_clean_seeds_are_all_kept(tmp_path: Path, vai):
    seeds = read_seeds(write_seed_folder(tmp_path / "seeds", vai), vai, font_images(vai), weight=0.5)
    assert len(seeds.kept) == 3 * vai.num_classes
    assert not seeds.dropped
    assert all(len(seeds.canvases(label)) == 3 for label in range(vai.num_classes))


def test_sanitation_drops_planted_bad_seeds(tmp_path: Path, vai):
    seeds = read_seeds(write_seed_folder(tmp_path / "seeds", vai, bad=True), vai, font_images(vai), weight=0.5)
    reasons = {seed.file: reason for seed, reason in seeds.dropped}
    assert set(reasons) == {"2/blank.png", "4/blot.png", "5/a-three.png"}
    assert reasons["2/blank.png"].startswith("empty")
    assert reasons["4/blot.png"].startswith("scribbled")
    assert reasons["5/a-three.png"].startswith("mislabelled: looks like class 3")
    assert len(seeds.kept) == 3 * vai.num_classes


def test_seed_weight_sets_the_share_of_seeded_images(vai):
    class Seeds:  # what plan_split needs of a SeedSet: a weight and the seeds of each class
        def __init__(self, weight: float):
            self.weight = weight

        def canvases(self, label: int) -> list[None]:
            return [None] * (1 + label % 3)

    fonts = len(vai.fonts)
    labels, sources = plan_split(vai, "train", 10_000, 0, Seeds(1.0))
    assert (sources >= fonts).all()
    assert all((sources[labels == label] - fonts < 1 + label % 3).all() for label in range(vai.num_classes))
    _, sources = plan_split(vai, "train", 10_000, 0, Seeds(0.25))
    assert 0.22 < (sources >= fonts).mean() < 0.28
    _, unseeded = plan_split(vai, "train", 10_000, 0)
    assert (unseeded < fonts).all()


def test_generate_with_seeds_records_them(tmp_path: Path, capsys, vai):
    folder = write_seed_folder(tmp_path / "seeds", vai, bad=True)
    out = tmp_path / "out"
    code, err = run_cli(
        capsys,
        *("generate", "--configs", "vai", "--out", str(out), "--workers", "1"),
        *("--train-size", "40", "--test-size", "20", "--exemplars", str(folder), "--exemplar-weight", "1"),
    )
    assert code == 0, err
    assert "3 left out" in err
    assert "a-three.png" in err
    metadata = json.loads((out / "vai" / METADATA_FILE).read_text())
    seeds = metadata["exemplars"]["handwritten_seeds"]
    assert seeds["weight"] == 1.0
    assert len(seeds["kept"]) == 30
    assert {entry["file"] for entry in seeds["dropped"]} == {"2/blank.png", "4/blot.png", "5/a-three.png"}
    assert all(len(entry["sha256"]) == 64 for entry in seeds["kept"] + seeds["dropped"])


@pytest.mark.parametrize(
    ("arrange", "extra", "needles"),
    [
        (lambda folder: folder / "missing", [], ["missing", "is not a folder"]),
        (lambda folder: (folder / "x").mkdir() or folder, [], ["'x' is not a class folder"]),
        (lambda folder: (folder / "3" / "notes.png").write_text("not an image") and folder, [], ["notes.png"]),
        (lambda folder: [p.unlink() for p in (folder / "7").iterdir()] and folder, [], ["class 7", "no usable"]),
        (lambda folder: folder, ["--exemplar-weight", "0"], ["--exemplar-weight 0.0"]),
        (lambda folder: folder, ["--exemplar-weight", "1.5"], ["--exemplar-weight 1.5"]),
        (lambda folder: folder, ["--configs", "vai", "nko"], ["serves one config"]),
    ],
)
def test_bad_seed_input_is_one_line_and_writes_nothing(tmp_path: Path, capsys, vai, arrange, extra, needles):
    folder = arrange(write_seed_folder(tmp_path / "seeds", vai))
    out = tmp_path / "out"
    args = ["generate", "--configs", "vai", "--out", str(out), "--exemplars", str(folder), "--workers", "1"]
    code, err = run_cli(capsys, *args, *("--train-size", "20", "--test-size", "10"), *extra)
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_generated_samples_record_sanitation(tmp_path: Path, vai):
    (folder,) = generate([vai], tmp_path / "on", GenerateSettings(seed=3, workers=1, progress=False, **TINY))
    samples = json.loads((folder / METADATA_FILE).read_text())["sanitation"]["samples"]
    for split in ("train", "test"):
        assert samples[split]["redrawn"] == sum(samples[split]["redrawn_per_class"].values())
        assert samples[split]["redrawn_share"] == samples[split]["redrawn"] / TINY[f"{split}_size"]
    (folder,) = generate(
        [vai], tmp_path / "off", GenerateSettings(seed=3, workers=1, progress=False, sanitize=False, **TINY)
    )
    assert json.loads((folder / METADATA_FILE).read_text())["sanitation"]["samples"] is None
