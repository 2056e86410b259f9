"""The handwriting transforms and the recipe built from them, on shapes the tests draw."""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest

from generator.recipe import INGREDIENTS, PLAIN, build_recipe, default_recipe, load_recipe, save_recipe
from generator.sanitation import Templates
from generator.synthesis import MAX_SANITATION_REDRAWS, Synthesizer, exemplar_canvases
from generator.transforms import InkPressure, PenStroke, StrokeGaps


def canvas_with(draw) -> np.ndarray:
    canvas = np.zeros((64, 64), np.uint8)
    draw(canvas)
    return canvas


def thickness(image: np.ndarray) -> float:
    """Twice the largest distance from an ink pixel to the background: the widest stroke's width, plus one."""
    return 2 * float(cv2.distanceTransform((image >= 128).astype(np.uint8), cv2.DIST_L2, 5).max())


def run(transform: A.BasicTransform, image: np.ndarray, seed: int = 0) -> np.ndarray:
    return A.Compose([transform], seed=seed)(image=image)["image"]


def test_pen_stroke_redraws_a_heavy_stroke_with_the_nib():
    heavy = canvas_with(lambda c: cv2.rectangle(c, (26, 10), (39, 54), 255, -1))  # a 14 px wide bar
    assert thickness(heavy) > 12
    thin = run(PenStroke(width=(4.0, 4.0), nib_ratio=(1.0, 1.0), overshoot_p=0.0), heavy)
    assert 4 <= thickness(thin) <= 7, "a 4-5 px nib, wherever the centreline branches"
    ys, _ = np.nonzero(thin >= 128)
    assert ys.max() - ys.min() >= 30, "the bar's length survives"


def test_pen_stroke_overshoots_run_on_past_the_ends():
    line = canvas_with(lambda c: cv2.line(c, (20, 32), (44, 32), 255, 3))
    pen = {"width": (3.0, 3.0), "nib_ratio": (1.0, 1.0)}
    plain = run(PenStroke(**pen, overshoot_p=0.0), line)
    longer = run(PenStroke(**pen, overshoot=(6.0, 6.0), overshoot_p=1.0), line)
    extent = [np.ptp(np.nonzero(image >= 128)[1]) for image in (plain, longer)]
    assert extent[1] >= extent[0] + 10, "both ends run on by about 6 px"


def test_ink_pressure_varies_the_ink_and_keeps_the_paper_black():
    block = canvas_with(lambda c: cv2.rectangle(c, (8, 8), (55, 55), 255, -1))
    faded = run(InkPressure(low=(0.3, 0.3), cells=(3, 3), p=1.0), block)
    assert faded[0:6].max() == 0
    assert faded[:, 58:].max() == 0
    ink = faded[10:54, 10:54]
    assert ink.min() < 180, "some of the ink fades"
    assert ink.std() > 10


def test_stroke_gaps_cut_the_stroke_and_only_the_stroke():
    line = canvas_with(lambda c: cv2.line(c, (8, 32), (56, 32), 255, 3))
    gapped = run(StrokeGaps(gaps=(2, 2), size=(6.0, 6.0), p=1.0), line)
    assert np.count_nonzero(gapped) < np.count_nonzero(line)
    assert not np.any(gapped > line), "nothing is added"
    pieces = cv2.connectedComponents((gapped >= 128).astype(np.uint8))[0] - 1
    assert pieces >= 2


@pytest.mark.parametrize("ingredients", [PLAIN, tuple(INGREDIENTS)])
def test_recipe_is_seeded_and_survives_saving(tmp_path: Path, vai, ingredients):
    exemplar = exemplar_canvases(vai)[0][4]
    path = tmp_path / "recipe.json"
    save_recipe(build_recipe(ingredients), path)
    first, again, reloaded = build_recipe(ingredients), build_recipe(ingredients), load_recipe(path)
    outputs = []
    for recipe in (first, again, reloaded):
        recipe.set_random_seed(11)
        outputs.append([recipe(image=exemplar)["image"] for _ in range(5)])
    assert all(np.array_equal(a, b) for a, b in zip(outputs[0], outputs[1], strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(outputs[0], outputs[2], strict=True))
    assert not np.array_equal(outputs[0][0], outputs[0][1]), "each draw differs"


def test_unknown_ingredient_is_refused():
    with pytest.raises(ValueError, match="crayon"):
        build_recipe(["elastic", "crayon"])
    assert [type(t).__name__ for t in build_recipe(PLAIN).transforms] == ["ElasticTransform"]
    assert len(default_recipe().transforms) > 4


def test_templates_name_the_class_an_image_resembles(vai):
    canvases = exemplar_canvases(vai)
    images = [cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA) for canvas in canvases[0]]
    templates = Templates.from_images(images, list(range(vai.num_classes)), vai.num_classes)
    assert templates.out_of_class(images[3], 3) is None
    assert templates.out_of_class(images[3], 5) == 3


def test_sanitation_redraws_a_sample_that_looks_like_another_class(vai):
    canvases = exemplar_canvases(vai)
    templates = Templates.from_images(
        [cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA) for canvas in canvases[0][:2]], [0, 1], 2
    )
    # Label 1's only exemplar is the drawing of class 0, so every draw is out of class.
    mislabelled = [[canvases[0][0], canvases[0][0]]]
    synthesizer = Synthesizer(mislabelled, build_recipe(PLAIN), templates=templates)
    rendered = synthesizer.render((0, 1, 1), (0, 0, 0), seed=1)
    assert len(rendered.pngs) == 3
    assert rendered.redrawn == [0, 2 * MAX_SANITATION_REDRAWS]
    assert rendered.kept_out_of_class == [0, 2]


def test_generate_takes_a_saved_recipe(tmp_path: Path, capsys):
    from generator.layout import RECIPE_FILE
    from tests.conftest import assert_one_line_error, run_cli

    recipe = tmp_path / "plain.json"
    save_recipe(build_recipe(PLAIN), recipe)
    out = tmp_path / "out"
    args = ["generate", "--configs", "vai", "--out", str(out), "--train-size", "20", "--test-size", "10"]
    code, err = run_cli(capsys, *args, "--workers", "1", "--recipe", str(recipe))
    assert code == 0, err
    stored = load_recipe(out / "vai" / RECIPE_FILE)
    assert [type(t).__name__ for t in stored.transforms] == ["ElasticTransform"]

    (tmp_path / "broken.json").write_text('{"transform": {"__class_fullname__": "NoSuchTransform", "p": 1.0}}')
    for bad, needle in (
        (tmp_path / "missing.json", "does not exist"),
        (tmp_path / "broken.json", "not an albumentations"),
    ):
        code, err = run_cli(capsys, *args, "--overwrite", "--recipe", str(bad))
        assert_one_line_error(code, err, bad.name, needle)
