"""The figures: what each one shows, and the command's files and refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import albumentations as A
import numpy as np
import pytest
from PIL import Image

from generator.errors import InputError
from generator.evaluation import figures
from generator.registry import builtin_systems
from generator.repository.export import load_data
from generator.synthesis.recipe import default_recipe
from generator.synthesis.synthesizer import Synthesizer, exemplar_canvases
from tests.conftest import assert_one_line_error, run_cli


def test_figures_command_writes_four_pngs(capsys, tiny_build: Path, tmp_path: Path):
    code, _ = run_cli(capsys, "figures", "nko", "--from", str(tiny_build), "--out", str(tmp_path))
    assert code == 0
    paths = figures.figure_paths("nko", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths), "no temporary files"
    sizes = {}
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG"
            sizes[path.name] = image.size
    cell = 28 * figures.ZOOM
    for name in ("nko-exemplars.png", "nko-samples.png", "nko-class-means.png"):
        assert sizes[name][0] >= 10 * cell, "a column per class, enlarged"
    assert sizes["nko-exemplars.png"][1] >= len(builtin_systems()["nko"].fonts) * cell, "a row per font"
    assert sizes["nko-deformation-sweep.png"][1] >= len(figures.ELASTIC_SCALES) * cell, "a row per strength"


def test_figures_refuse_existing_files(capsys, tiny_build: Path, tmp_path: Path):
    mine = tmp_path / "vai-class-means.png"
    mine.write_bytes(b"mine")
    code, err = run_cli(capsys, "figures", "vai", "--from", str(tiny_build), "--out", str(tmp_path))
    assert_one_line_error(code, err, str(mine), "--overwrite")
    assert mine.read_bytes() == b"mine"
    assert list(tmp_path.iterdir()) == [mine]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["klingon"], ["'klingon'", "--spec"]),
        (["vai", "--seed", "-1"], ["--seed -1"]),
        (["vai", "--from", "NONE"], ["NONE", "make dataset"]),
    ],
)
def test_bad_figures_input(capsys, tiny_build: Path, tmp_path: Path, argv, needles):
    argv = [str(tmp_path / "none") if arg == "NONE" else arg for arg in argv]
    needles = [str(tmp_path / "none") if needle == "NONE" else needle for needle in needles]
    if "--from" not in argv:
        argv += ["--from", str(tiny_build)]
    code, err = run_cli(capsys, "figures", *argv, "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, *needles)
    assert not (tmp_path / "out").exists()


def test_figures_need_the_fonts_the_config_was_made_with(tiny_build: Path, tmp_path: Path):
    shutil.copytree(tiny_build / "vai", tmp_path / "build" / "vai")
    path = tmp_path / "build" / "vai" / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["fonts"][0]["sha256"] = "0" * 64
    path.write_text(json.dumps(metadata))
    with pytest.raises(InputError, match="generated with other fonts"):
        figures.write_figures(builtin_systems()["vai"], tmp_path / "out", tmp_path / "build")


def test_the_sweeps_1x_row_is_what_the_generator_draws():
    system = builtin_systems()["osmanya"]
    seeds = [3, 4, 5]
    rows = figures.deformation_sweep(system, scales=(0.0, 1.0, 4.0), seeds=seeds, label=2, font=1)
    generator_images = []
    synthesizer = Synthesizer(exemplar_canvases(system), default_recipe())
    for seed in seeds:
        synthesizer.recipe.set_random_seed(seed)
        generator_images.append(synthesizer.image(2, 1))
    for drawn, expected in zip(rows[1], generator_images, strict=True):
        np.testing.assert_array_equal(drawn, expected)
    strength = [np.mean([np.abs(a.astype(int) - b).mean() for a, b in zip(row, rows[0], strict=True)]) for row in rows]
    assert strength[0] == 0 < strength[1] < strength[2], "images drift further from alpha 0 as alpha grows"


def test_elastic_recipe_scales_only_alpha():
    def elastic(recipe):
        return [transform for transform in recipe.transforms if isinstance(transform, A.ElasticTransform)]

    default, scaled = elastic(default_recipe()), elastic(figures.elastic_recipe(2.5))
    assert scaled[0].alpha == pytest.approx(2.5 * default[0].alpha), "the whole-digit field is scaled"
    assert scaled[0].sigma == default[0].sigma
    assert [(t.alpha, t.sigma) for t in scaled[1:]] == [(t.alpha, t.sigma) for t in default[1:]], "the fine one is not"


def test_class_means_and_samples(tiny_build: Path):
    (images, labels), _ = load_data("geez", tiny_build)
    means = figures.class_means(images, labels, 10)
    np.testing.assert_allclose(means[3], images[labels == 3].mean(axis=0))
    assert figures.stretch(means[3]).max() == 255
    rows = figures.sample_rows(images, labels, 10, per_class=4, seed=1)
    assert len(rows) == 4
    assert all(len(row) == 10 for row in rows)
    for label in range(10):
        members = images[labels == label]
        assert all(any(np.array_equal(row[label], member) for member in members) for row in rows)


def test_confusion_matrix_image():
    matrix = np.array([[3, 1], [0, 4]])
    image = figures.confusion_matrix_image(matrix, ["0", "1"], "test")
    assert image.mode == "RGB"
    assert image.width > 2 * 40
