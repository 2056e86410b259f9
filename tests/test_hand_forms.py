"""The learned model of hands' forms: the shipped file, its provenance, the transform, and the learning script."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import albumentations as A
import cv2
import numpy as np
import pytest

from generator.errors import InputError
from generator.generate import GenerateSettings, generate
from generator.registry import builtin_systems
from generator.synthesis.fonts import render_glyph
from generator.synthesis.glyph import clearance, structure
from generator.synthesis.normalize import mnist_normalize, to_canvas
from generator.synthesis.recipe import INGREDIENT_NAMES, build_recipe
from generator.synthesis.recipe.learned import HandForms
from generator.synthesis.recipe.learned import functional as flearned
from generator.synthesis.sanitation import distinctness, vector
from generator.synthesis.synthesizer import Synthesizer
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parents[1]


def digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def learner() -> ModuleType:
    """``scripts/learn_hand_forms.py``, imported as a module (it imports ``bundle_fonts`` beside it)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec = importlib.util.spec_from_file_location("learn_hand_forms", ROOT / "scripts" / "learn_hand_forms.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["learn_hand_forms"] = module  # its dataclasses look their module up while being made
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def numeral_canvas(config: str, label: int) -> np.ndarray:
    system = builtin_systems()[config]
    return to_canvas(render_glyph(system.fonts[0], chr(system.code_points[label])))


def ring(size: int = 64) -> np.ndarray:
    canvas = np.zeros((size, size), np.uint8)
    cv2.circle(canvas, (size // 2, size // 2), 14, 255, 4)
    return canvas


def test_the_shipped_model_loads_and_its_arrays_fit_together():
    model = flearned.load_model()
    size = 2 * model.grid * model.grid
    assert model.mean.shape == (size,)
    assert model.components.shape == (len(model.deviations), size)
    assert 0 < len(model.deviations) <= flearned.DRAWS
    assert (model.deviations > 0).all()
    # The components are orthonormal, as principal components are.
    np.testing.assert_allclose(model.components @ model.components.T, np.eye(len(model.deviations)), atol=1e-4)
    assert 0 < model.stroke_angle <= 90
    assert 0 < model.stroke_length[0] < 1 < model.stroke_length[1]
    assert 0 < model.stroke_loop[0] < model.stroke_loop[1]


def test_the_provenance_names_every_family_its_licence_and_letters_only():
    provenance = json.loads(flearned.MODEL_PATH.with_suffix(".json").read_text())
    assert set(provenance["licences"]) <= {"OFL-1.1", "Apache-2.0", "UFL-1.0"}
    assert provenance["components"] == len(flearned.load_model().deviations)
    families = provenance["families"]
    assert len(families) >= 20
    for family in families:
        assert family["package"].startswith("@fontsource/")
        assert family["version"]
        assert family["integrity"].startswith("sha512-")
        assert family["licence"] in provenance["licences"]
        assert set(family["roles"]) <= {"hand", "text"}
        assert all(file.endswith("-400-normal.woff") for file in family["files"])
    # Every script it read paired hands with text faces.
    for script, report in provenance["scripts"].items():
        assert report["hand_faces"] >= 1, script
        assert report["text_faces"] >= 1, script
        assert report["glyph_pairs"] > 0, script
    assert provenance["glyph_pairs"] == sum(report["glyph_pairs"] for report in provenance["scripts"].values())


def test_letters_take_no_digit_of_any_script(learner):
    # Latin, Devanagari, Tamil, Malayalam, Ethiopic and N'Ko blocks, digits included in each range.
    ranges = [(0x30, 0x7A), (0x900, 0x97F), (0xB80, 0xBFA), (0xD00, 0xD7F), (0x1369, 0x137C), (0x7C0, 0x7CA)]
    chosen = learner.letters(ranges)
    assert chosen, "no letters at all"
    assert not [ch for ch in chosen if unicodedata.category(ch).startswith("N")]
    assert "A" in chosen
    assert "\u0b85" in chosen
    for digit in ("0", "9", "\u0966", "\u0be6", "\u0d6a", "\u136c", "\u07c4"):
        assert digit not in chosen
    for script, setting in learner._SCRIPTS.items():
        assert learner.letters(setting["ranges"]), script


def test_the_transform_is_the_same_bytes_for_the_same_seed_and_differs_for_another():
    canvas = numeral_canvas("nko", 4)
    data = {"image": canvas, "clearance": clearance(canvas)}

    def run(seed: int) -> list[np.ndarray]:
        recipe = A.Compose([HandForms(amount=1.0, clearance_scale=(4.0, 0.3), p=1.0)], seed=seed)
        return [recipe(**data)["image"] for _ in range(6)]

    first, again, other = run(7), run(7), run(8)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again, strict=True))
    assert any(a.tobytes() != b.tobytes() for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize(("config", "label"), [("nko", 4), ("vai", 7), ("geez", 4)])
def test_samples_change_the_glyph_and_keep_its_structure(config, label):
    canvas = numeral_canvas(config, label)
    recipe = A.Compose([HandForms(amount=1.0, clearance_scale=(4.0, 0.3), p=1.0)], seed=0)
    samples = [recipe(image=canvas, clearance=clearance(canvas))["image"] for _ in range(20)]
    changed = [sample for sample in samples if not np.array_equal(sample, canvas)]
    assert len(changed) >= 10
    assert all(structure(sample) == structure(canvas) for sample in samples)
    # The ink moves: on average the samples overlap their exemplar's ink clearly less than fully.
    ink = canvas >= 128
    overlaps = [((s >= 128) & ink).sum() / ((s >= 128) | ink).sum() for s in changed]
    assert np.mean(overlaps) < 0.9


def test_a_warp_that_would_close_a_hole_is_not_made():
    canvas = ring()
    # Every pixel takes its ink from the ring's middle column: the hole fills.
    xs = np.arange(64, dtype=np.float32)
    field = np.zeros((64, 64, 2), np.float32)
    field[..., 0] = 32 - xs[None, :]
    assert structure(flearned.warp(canvas, field)) != structure(canvas)
    assert flearned.warp_keeping_structure(canvas, field) is canvas
    # A small shift keeps the ring a ring, and is made.
    field[..., 0] = 1.5
    moved = flearned.warp_keeping_structure(canvas, field)
    assert not np.array_equal(moved, canvas)
    assert structure(moved) == structure(canvas)


def test_amount_zero_leaves_the_glyph_alone():
    canvas = numeral_canvas("vai", 3)
    recipe = A.Compose([HandForms(amount=0.0, p=1.0)], seed=0)
    assert recipe(image=canvas)["image"] is canvas or np.array_equal(recipe(image=canvas)["image"], canvas)


def test_a_recipe_with_the_transform_saves_and_loads(tmp_path):
    recipe = A.Compose([HandForms(amount=0.7, clearance_scale=(4.0, 0.3), p=0.9)], seed=3)
    path = tmp_path / "recipe.json"
    A.save(recipe, str(path), data_format="json")
    assert "generator.transforms.HandForms" in path.read_text()
    loaded = A.load(str(path), data_format="json")
    loaded.set_random_seed(3)
    recipe.set_random_seed(3)
    canvas = numeral_canvas("nko", 2)
    assert np.array_equal(recipe(image=canvas)["image"], loaded(image=canvas)["image"])


@pytest.mark.parametrize("amount", [-0.1, 4.5])
def test_an_amount_out_of_range_is_refused(amount):
    with pytest.raises(ValueError, match="amount"):
        HandForms(amount=amount)


def test_a_broken_model_file_is_one_clear_error(tmp_path):
    missing = tmp_path / "none.npz"
    with pytest.raises(InputError, match="cannot be read"):
        flearned.load_model(missing)
    mismatched = tmp_path / "mismatched.npz"
    np.savez(
        mismatched,
        grid=np.int64(4),
        mean=np.zeros(10),
        components=np.zeros((2, 32)),
        deviations=np.ones(2),
        stroke_angle=np.float64(20),
        stroke_length=np.array([0.8, 1.2]),
        stroke_loop=np.array([0.8, 1.2]),
    )
    with pytest.raises(InputError, match="mismatched shapes"):
        flearned.load_model(mismatched)


def test_registration_recovers_a_known_shift(learner):
    source = ring()
    target = np.roll(source, 3, axis=1)  # the target's ink lies 3 px right of the source's
    field = learner.register(source, target)
    ink = target >= 128
    # Each target pixel takes its ink from 3 px to the left.
    assert abs(float(np.median(field[..., 0][ink])) + 3) < 0.75
    assert abs(float(np.median(field[..., 1][ink]))) < 0.75
    assert learner.overlap(learner.warp(source, field), target) > learner.overlap(source, target)


def test_the_gaussian_fit_finds_the_direction_the_fields_vary_along(learner):
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(2 * 4 * 4)
    direction /= np.linalg.norm(direction)
    fields = (0.2 + rng.standard_normal((200, 1)) * 0.5 * direction + 0.01 * rng.standard_normal((200, 32))).reshape(
        200, 4, 4, 2
    )
    mean, components, deviations, explained = learner.fit_gaussian(fields, kept=0.9)
    assert len(components) == 1
    assert explained >= 0.9
    assert abs(abs(float(components[0] @ direction)) - 1) < 1e-3
    assert abs(deviations[0] - 0.5) < 0.06
    np.testing.assert_allclose(mean, 0.2, atol=0.1)


def test_stroke_edits_measure_a_longer_tail_and_a_larger_loop(learner):
    # A "b"-like glyph: a ring with a stem hanging from it; the hand's stem is longer and its ring larger.
    def glyph(stem: int, radius: int) -> np.ndarray:
        canvas = np.zeros((64, 64), np.uint8)
        cv2.circle(canvas, (32, 40), radius, 255, 3)
        cv2.line(canvas, (32 - radius, 40), (32 - radius, 40 - stem), 255, 3)
        return canvas

    edits = learner.stroke_edits(glyph(22, 10), glyph(28, 12))
    assert len(edits["length"]) == 1
    assert 1.4 < edits["length"][0] < 1.7  # 17 px of stem above the ring against 11
    assert abs(edits["turn"][0]) < 10
    assert len(edits["loop"]) == 1
    assert 1.1 < edits["loop"][0] < 1.35


def test_the_script_refuses_bad_input_in_one_line(learner, tmp_path, capsys):
    assert learner.main(["--out", str(tmp_path / "model.txt")]) == 2
    assert learner.main(["--out", str(tmp_path / "model.npz"), "--grid", "1"]) == 2
    existing = tmp_path / "model.npz"
    existing.write_bytes(b"kept")
    assert learner.main(["--out", str(existing)]) == 2
    assert existing.read_bytes() == b"kept"
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("learn_hand_forms: ") for line in lines)
    assert "--overwrite" in lines[2]


def test_the_learned_ingredients_sit_at_their_place_and_leave_the_default_alone():
    default = [type(step).__name__ for step in build_recipe(INGREDIENT_NAMES).transforms]
    assert "HandForms" not in default
    learned = build_recipe((*INGREDIENT_NAMES, "learned_strokes", "hand_forms")).transforms
    names = [type(step).__name__ for step in learned]
    # The learned stroke edits replace the default's, and the field runs right after them.
    assert names.count("StrokeWarp") == 1
    assert names.index("HandForms") == names.index("StrokeWarp") + 1
    assert len(names) == len(default) + 1
    model = flearned.load_model()
    strokes = learned[names.index("StrokeWarp")]
    assert strokes.angle == round(model.stroke_angle, 1)
    assert strokes.length == tuple(round(value, 2) for value in model.stroke_length)
    assert strokes.loop == tuple(round(value, 2) for value in model.stroke_loop)


def test_a_run_with_the_learned_recipe_is_the_same_bytes_on_spawned_workers(tmp_path, vai):
    # A spawned worker rebuilds the recipe from its dict: HandForms must be registered there too.
    recipe = build_recipe((*INGREDIENT_NAMES, "learned_strokes", "hand_forms"))
    settings = {"seed": 3, "progress": False, "recipe": recipe, **TINY}
    one = generate([vai], tmp_path / "one", GenerateSettings(workers=1, **settings))[0]
    two = generate([vai], tmp_path / "two", GenerateSettings(workers=2, **settings))[0]
    assert digests(one) == digests(two)
    assert "generator.transforms.HandForms" in (one / "recipe.json").read_text()


def test_distinctness_is_how_far_a_glyph_stands_from_its_nearest_rival():
    own = vector(mnist_normalize(numeral_canvas("vai", 3)))
    rivals = np.stack([vector(mnist_normalize(numeral_canvas("vai", label))) for label in (1, 2)])
    assert 0 < distinctness(own, rivals) < 1
    assert distinctness(own, np.stack([own, rivals[0]])) == pytest.approx(0, abs=1e-5)  # a rival just like it
    assert distinctness(own, np.empty((0, own.size), np.float32)) == 1.0


def test_the_synthesizer_gives_each_glyph_its_designs_other_numerals(vai):
    canvases = [[to_canvas(render_glyph(font, chr(code))) for code in vai.code_points] for font in vai.fonts[:2]]
    synthesizer = Synthesizer(canvases, build_recipe(INGREDIENT_NAMES))
    rivals = synthesizer.rivals(3, 1)
    assert rivals.shape == (9, 784)
    expected = [vector(mnist_normalize(canvases[1][label])) for label in range(10) if label != 3]
    np.testing.assert_allclose(rivals, np.stack(expected), atol=1e-6)
    # Ge'ez's numerals differ in a small sign between two bars; Vai's in their whole form.
    geez = builtin_systems()["geez"]
    geez_canvases = [[to_canvas(render_glyph(geez.fonts[0], chr(code))) for code in geez.code_points]]
    tight = Synthesizer(geez_canvases, build_recipe(INGREDIENT_NAMES))
    assert np.median([tight.distinctness(label, 0) for label in range(10)]) < np.median(
        [synthesizer.distinctness(label, 0) for label in range(10)]
    )


def test_a_glyph_close_to_its_rivals_takes_a_smaller_field():
    canvas = numeral_canvas("vai", 7)
    steps = {"clearance": clearance(canvas)}

    def mean_move(distinct: float) -> float:
        recipe = A.Compose([HandForms(distinctness_scale=(0.25, 0.05), p=1.0)], seed=0)
        samples = [recipe(image=canvas, distinctness=distinct, **steps)["image"] for _ in range(10)]
        return float(np.mean([np.abs(s.astype(float) - canvas).mean() for s in samples]))

    far, near = mean_move(0.3), mean_move(0.05)
    assert 0 < near < far
    # At or beyond the reference the field is whole: the same as without the scale.
    whole = A.Compose([HandForms(p=1.0)], seed=0)
    scaled = A.Compose([HandForms(distinctness_scale=(0.25, 0.05), p=1.0)], seed=0)
    for _ in range(3):
        expected = whole(image=canvas, **steps)["image"]
        assert np.array_equal(expected, scaled(image=canvas, distinctness=0.3, **steps)["image"])


def test_a_field_that_carries_a_glyph_into_its_rival_is_not_made():
    canvas = numeral_canvas("nko", 4)
    recipe = A.Compose([HandForms(p=1.0)], seed=1)
    params = recipe.transforms[0].get_params()
    field = flearned.dense_field(flearned.load_model().field(params["draws"], 1.0), canvas.shape)
    warped = flearned.warp_keeping_structure(canvas, field)
    assert warped is not canvas
    # A rival just like the warped glyph: the full field leaves no margin, so it is not made as it is.
    rivals = np.stack([vector(mnist_normalize(warped))])
    kept = flearned.warp_keeping_margin(canvas, field, rivals, 0.5)
    assert not np.array_equal(kept, warped)
    assert kept is canvas or np.array_equal(kept, flearned.warp_keeping_structure(canvas, field * np.float32(0.5)))
    # A rival unlike it leaves the field as it is.
    far = np.stack([vector(mnist_normalize(ring()))])
    assert np.array_equal(flearned.warp_keeping_margin(canvas, field, far, 0.5), warped)


def test_without_its_affine_part_the_field_fits_no_affine_map():
    model = flearned.load_model()
    draws = np.random.default_rng(0).standard_normal(flearned.DRAWS)
    nodes = model.field(draws, 1.0, affine=False).reshape(-1, 2).astype(np.float64)
    grid = np.linspace(-1, 1, model.grid)
    ys, xs = np.meshgrid(grid, grid, indexing="ij")
    basis = np.stack([np.ones(xs.size), xs.ravel(), ys.ravel()], axis=1)
    np.testing.assert_allclose(basis.T @ nodes, 0, atol=1e-4)
    assert np.abs(nodes).max() > 1e-3  # what bends the glyph is left
    assert np.array_equal(model.field(draws, 1.0), model.field(draws, 1.0, affine=True))


@pytest.mark.parametrize("keep_margin", [-0.1, 1.5])
def test_a_margin_share_out_of_range_is_refused(keep_margin):
    with pytest.raises(ValueError, match="keep_margin"):
        HandForms(keep_margin=keep_margin)


def test_generate_with_adds_the_named_ingredients_to_the_default(tmp_path, capsys):
    from generator.layout import RECIPE_FILE
    from generator.synthesis.recipe import load_recipe
    from tests.conftest import assert_one_line_error, run_cli

    out = tmp_path / "out"
    args = ["generate", "--configs", "vai", "--out", str(out), "--train-size", "20", "--test-size", "10"]
    code, err = run_cli(capsys, *args, "--workers", "1", "--with", "hand_forms")
    assert code == 0, err
    stored = [type(t).__name__ for t in load_recipe(out / "vai" / RECIPE_FILE).transforms]
    assert stored == [type(t).__name__ for t in build_recipe((*INGREDIENT_NAMES, "hand_forms")).transforms]
    assert "HandForms" in stored

    recipe = tmp_path / "recipe.json"
    recipe.write_text("{}")
    code, err = run_cli(capsys, *args, "--overwrite", "--with", "hand_forms", "--recipe", str(recipe))
    assert_one_line_error(code, err, "--with hand_forms", "--recipe", "one of the two")
    code, err = run_cli(capsys, *args, "--overwrite", "--with", "hand_shapes")
    assert_one_line_error(code, err, "--with", "hand_shapes", "hand_forms")
    assert [type(t).__name__ for t in load_recipe(out / "vai" / RECIPE_FILE).transforms] == stored  # left alone


def test_the_with_help_names_every_ingredient_outside_the_default():
    from generator.cli import build_parser
    from generator.synthesis.recipe import LEARNED_INGREDIENTS, OPTIONAL_INGREDIENTS

    # The command line keeps albumentations out of its imports, so the names in --with's help are written out.
    generate = build_parser()._subparsers._group_actions[0].choices["generate"]
    (action,) = [action for action in generate._actions if action.dest == "extra_ingredients"]
    for ingredient in (*OPTIONAL_INGREDIENTS, *LEARNED_INGREDIENTS):
        assert ingredient.name in action.help, ingredient.name
