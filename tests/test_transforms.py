"""The handwriting transforms and the recipe built from them, on shapes the tests draw."""

from __future__ import annotations

import io
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
from PIL import Image

from generator.errors import InputError
from generator.synthesis.glyph import structure
from generator.synthesis.normalize import ink_bounds
from generator.synthesis.recipe import (
    CLEARANCE_KEY,
    INGREDIENT_NAMES,
    INGREDIENTS,
    PLAIN,
    CoarseElastic,
    InkPressure,
    LeanAffine,
    LeanGridDistortion,
    OpenCorner,
    PenStroke,
    PieceAffine,
    SolidInk,
    StrokeGaps,
    StrokeWarp,
    build_recipe,
    check_recipe,
    default_recipe,
    load_recipe,
    save_recipe,
)
from generator.synthesis.recipe.pen.functional import nib
from generator.synthesis.recipe.strokes.functional import stroke_field
from generator.synthesis.sanitation import Templates
from generator.synthesis.synthesizer import MAX_SANITATION_REDRAWS, Synthesizer, exemplar_canvases, templates_for


def canvas_with(draw, size: tuple[int, int] = (64, 64)) -> np.ndarray:
    canvas = np.zeros(size, np.uint8)
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


@pytest.mark.parametrize("width", [3.0, 4.5, 7.0])
def test_nib_is_centred_at_every_angle(width):
    for angle in range(0, 180, 15):
        for ratio in (0.5, 1.0):
            kernel = nib(width, ratio, angle)
            assert np.array_equal(kernel, kernel[::-1, ::-1]), "symmetric about its centre: strokes stay put"
            assert kernel[kernel.shape[0] // 2, kernel.shape[1] // 2] == 1
        assert np.array_equal(nib(width, 1.0, angle), nib(width, 1.0, 0.0)), "a round nib has no angle"
    assert nib(width, 0.5, 0.0).sum() < nib(width, 1.0, 0.0).sum()


def test_pen_stroke_overshoots_run_on_past_the_ends():
    line = canvas_with(lambda c: cv2.line(c, (20, 32), (44, 32), 255, 3))
    pen = {"width": (3.0, 3.0), "nib_ratio": (1.0, 1.0)}
    plain = run(PenStroke(**pen, overshoot_p=0.0), line)
    longer = run(PenStroke(**pen, overshoot=(6.0, 6.0), overshoot_p=1.0), line)
    extent = [np.ptp(np.nonzero(image >= 128)[1]) for image in (plain, longer)]
    assert extent[1] >= extent[0] + 10, "both ends run on by about 6 px"


@pytest.mark.parametrize(
    ("make", "named"),
    [
        (lambda: PenStroke(width=(7.0, 3.0)), "width"),
        (lambda: PenStroke(nib_ratio=(0.0, 1.0)), "nib_ratio"),
        (lambda: PenStroke(overshoot_p=1.5), "overshoot_p"),
        (lambda: PenStroke(clearance_scale=(0.0, 0.5)), "clearance_scale"),
        (lambda: InkPressure(low=(0.5, 1.5)), "low"),
        (lambda: InkPressure(cells=(0, 3)), "cells"),
        (lambda: StrokeGaps(size=(-1.0, 2.0)), "size"),
        (lambda: StrokeGaps(gaps=(3, 1)), "gaps"),
        (lambda: CoarseElastic(approximate=True), "approximate"),
        (lambda: LeanAffine(clearance_scale=(4.0, 0.0)), "clearance_scale"),
        (lambda: LeanAffine(squeeze=1.5), "squeeze"),
        (lambda: SolidInk(edge=(160.0, 96.0)), "edge"),
        (lambda: SolidInk(softness=(0.0, 64.0)), "softness"),
        (lambda: StrokeWarp(angle=120.0), "angle"),
        (lambda: StrokeWarp(length=(1.3, 0.7)), "length"),
        (lambda: StrokeWarp(bend=-0.1), "bend"),
        (lambda: OpenCorner(angle=200.0), "angle"),
        (lambda: OpenCorner(size=(2.0, 1.0)), "size"),
        (lambda: OpenCorner(least_room=-1.0), "least_room"),
    ],
)
def test_transforms_refuse_bad_arguments(make, named):
    """As albumentations' own transforms do: a ValueError that names the argument."""
    with pytest.raises(ValueError, match=named):
        make()


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


def test_solid_ink_takes_back_the_halo_and_keeps_the_line_where_its_edge_was():
    soft = cv2.GaussianBlur(canvas_with(lambda c: cv2.line(c, (8, 32), (56, 32), 255, 6)), (0, 0), 2.0)
    assert np.count_nonzero((soft > 0) & (soft < 64)) > 100, "a blurred line sits in a halo of faint grey"
    solid = run(SolidInk(edge=(128.0, 128.0), softness=(64.0, 64.0), p=1.0), soft)
    assert np.count_nonzero((solid > 0) & (solid < 64)) < np.count_nonzero((soft > 0) & (soft < 64)) / 4
    assert np.count_nonzero(solid == 255) > 2 * np.count_nonzero(soft == 255), "its middle is full ink"
    assert np.array_equal(solid >= 128, soft >= 128), "grey 128 stays the edge: the line keeps its width"
    assert solid[:20].max() == 0, "the paper stays black"


def test_solid_ink_leaves_an_image_it_would_break_as_it_is():
    def faint_middle(c):
        cv2.line(c, (8, 32), (56, 32), 255, 4)
        c[:, 28:36][c[:, 28:36] > 0] = 100  # a stretch of the stroke thinned to faint grey

    line = canvas_with(faint_middle)
    ramp = {"edge": (160.0, 160.0), "softness": (64.0, 64.0), "p": 1.0}
    assert np.array_equal(run(SolidInk(**ramp), line), line), "a cut at grey 128 would split the line in two"
    whole = canvas_with(lambda c: cv2.line(c, (8, 32), (56, 32), 200, 4))
    assert not np.array_equal(run(SolidInk(**ramp), whole), whole)


def displacements(transform: A.ElasticTransform, draws: int) -> np.ndarray:
    """``draws`` fields of the transform on a 64x64 canvas, as (draws, 2, 64, 64) pixel offsets."""
    transform.set_random_seed(0)
    ys, xs = np.indices((64, 64), np.float32)
    fields = []
    for _ in range(draws):
        maps = transform.get_params_dependent_on_data({"shape": (64, 64)}, {})
        fields.append([maps["map_x"] - xs, maps["map_y"] - ys])
    return np.array(fields)


@pytest.mark.parametrize(("alpha", "sigma"), [(136.0, 8.0), (24.0, 3.0), (40.0, 5.0)])
def test_coarse_elastic_draws_the_field_elastic_transform_draws(alpha, sigma):
    library = displacements(A.ElasticTransform(alpha=alpha, sigma=sigma), 300)
    coarse = displacements(CoarseElastic(alpha=alpha, sigma=sigma), 300)
    inner = np.s_[..., 16:48, 16:48]  # where the digit lies, away from the blur's replicated border

    def correlation(fields: np.ndarray, lag: int) -> float:
        return float(np.mean(fields[inner][..., :-lag] * fields[inner][..., lag:]) / np.mean(fields[inner] ** 2))

    assert coarse[inner].std() == pytest.approx(library[inner].std(), rel=0.08), "displacements as large"
    for lag in (1, round(sigma / 2), round(sigma), round(2 * sigma)):
        assert correlation(coarse, lag) == pytest.approx(correlation(library, lag), abs=0.05), f"as smooth at {lag} px"
    assert not np.allclose(coarse[0], coarse[1]), "each draw is a new field"


def recipe_arguments(kind: type) -> dict:
    """The default recipe's arguments for its step of class ``kind``."""
    step = next(t for t in default_recipe().transforms if isinstance(t, kind))
    arguments = step.to_dict()["transform"]
    del arguments["__class_fullname__"]
    return arguments


def library_only(arguments: dict) -> dict:
    """A lean warp's arguments without those the library's own transform lacks."""
    return {key: value for key, value in arguments.items() if key not in ("clearance_scale", "squeeze")}


def ink_box(image: np.ndarray) -> tuple[int, int]:
    """``(width, height)`` of the pixels at least half ink."""
    _, _, width, height = ink_bounds(image, 127)
    return width, height


@pytest.mark.parametrize(("squeeze", "width"), [(0.0, 40), (0.5, 28), (1.0, 20)])
def test_lean_affine_draws_a_wide_glyph_narrower_and_leaves_a_tall_one(squeeze, width):
    """A 40x20 bar comes out (20 / 40) ** squeeze as wide; a 20x40 bar and a 30x30 square as they were."""
    still = {"rotate": (0, 0), "shear": (0, 0), "scale": (1.0, 1.0), "p": 1.0}
    wide = canvas_with(lambda c: cv2.rectangle(c, (12, 22), (51, 41), 255, -1))
    assert ink_box(wide) == (40, 20)
    got_width, height = ink_box(run(LeanAffine(**still, squeeze=squeeze), wide))
    assert abs(got_width - width) <= 1
    assert height == 20
    for shape in ((22, 12, 41, 51), (17, 17, 46, 46)):
        upright = canvas_with(lambda c, corners=shape: cv2.rectangle(c, corners[:2], corners[2:], 255, -1))
        assert np.array_equal(run(LeanAffine(**still, squeeze=squeeze), upright), upright)
    colour = np.dstack([wide] * 3)  # measured only on one channel's ink: a colour image keeps the library's scale
    assert np.array_equal(run(LeanAffine(**still, squeeze=squeeze), colour), run(A.Affine(**still), colour))


def digit_shapes(size: tuple[int, int] = (64, 64)) -> list[np.ndarray]:
    height, width = size
    return [
        canvas_with(lambda c: cv2.circle(c, (width // 2, height // 2), min(size) // 3, 255, 5), size),
        canvas_with(lambda c: cv2.line(c, (10, 8), (width - 12, height - 6), 200, 4), size),
        canvas_with(
            lambda c: cv2.putText(c, "7", (width // 4, 3 * height // 4), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 255, 4), size
        ),
    ]


@pytest.mark.parametrize(
    ("lean", "library", "changes", "size"),
    [
        (LeanAffine, A.Affine, {}, (64, 64)),
        (LeanAffine, A.Affine, {"translate_px": None, "translate_percent": (-0.1, 0.1), "fill": 30}, (53, 70)),
        (LeanGridDistortion, A.GridDistortion, {}, (64, 64)),
        (LeanGridDistortion, A.GridDistortion, {"num_steps": 5, "normalized": False}, (53, 70)),
        (LeanGridDistortion, A.GridDistortion, {"num_steps": 7, "distort_limit": (-0.6, 0.2)}, (61, 45)),
    ],
)
def test_lean_warps_give_the_library_output_to_the_byte(lean, library, changes, size):
    """At full strength (no clearance given, or as much as the scale's reference) the warp is the library's."""
    arguments = {**recipe_arguments(lean), "p": 1.0, **changes}
    if lean is LeanAffine:
        arguments["squeeze"] = 0.0
    reference = arguments["clearance_scale"][0]
    library_arguments = library_only(arguments)
    ours, theirs = A.Compose([lean(**arguments)], seed=3), A.Compose([library(**library_arguments)], seed=3)
    for index, image in enumerate(digit_shapes(size) * 40):
        room = {} if index % 2 else {CLEARANCE_KEY: reference + index % 3}
        assert np.array_equal(ours(image=image, **room)["image"], theirs(image=image)["image"])


def test_lean_warps_leave_colour_and_keypoints_to_the_library():
    colour = np.dstack([digit_shapes()[0]] * 3)
    points = [(20.0, 30.0), (40.5, 12.0)]
    for lean, library in ((LeanAffine, A.Affine), (LeanGridDistortion, A.GridDistortion)):
        arguments = {**recipe_arguments(lean), "p": 1.0}
        library_arguments = library_only(arguments)
        outputs = [
            A.Compose([kind(**kind_arguments)], keypoint_params=A.KeypointParams(format="xy"), seed=5)(
                image=colour, keypoints=points
            )
            for kind, kind_arguments in ((lean, arguments), (library, library_arguments))
        ]
        assert np.array_equal(outputs[0]["image"], outputs[1]["image"])
        assert np.array_equal(outputs[0]["keypoints"], outputs[1]["keypoints"])


def test_coarse_elastic_warps_as_elastic_transform_does():
    elastic = CoarseElastic(**recipe_arguments(CoarseElastic))
    elastic.set_random_seed(0)
    for image in digit_shapes():
        maps = elastic.get_params_dependent_on_data({"shape": image.shape}, {})
        assert np.array_equal(elastic.apply(image, **maps), A.ElasticTransform.apply(elastic, image, **maps))


@pytest.mark.parametrize("ingredients", [PLAIN, INGREDIENT_NAMES])
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
    assert [type(t).__name__ for t in build_recipe(PLAIN).transforms] == ["CoarseElastic"]
    assert len(default_recipe().transforms) > 4


def test_templates_name_the_class_an_image_resembles(vai):
    canvases = exemplar_canvases(vai)
    images = [cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA) for canvas in canvases[0]]
    templates = Templates.from_images(images, list(range(vai.num_classes)), vai.num_classes)
    assert templates.out_of_class(images[3], 3) is None
    assert templates.out_of_class(images[3], 5) == 3


def test_templates_are_the_exemplars_as_the_recipe_pen_draws_them(vai):
    canvases = exemplar_canvases(vai)
    pen = PenStroke(width=(4.0, 4.0), nib_ratio=(1.0, 1.0), overshoot_p=0.0, p=1.0)
    synthesizer = Synthesizer(canvases, A.Compose([pen]))  # the pen alone: no deformation
    synthesizer.recipe.set_random_seed(0)
    drawn = [synthesizer.image(label, 1) for label in range(vai.num_classes)]
    traced, as_fonts = templates_for(canvases, recipe=synthesizer.recipe), templates_for(canvases)
    assert len(traced.labels) == len(as_fonts.labels), "one nib width, one template per exemplar"
    for label, image in enumerate(drawn):
        assert traced.class_scores(image)[label] == pytest.approx(1.0, abs=1e-5)
    assert min(as_fonts.class_scores(image)[label] for label, image in enumerate(drawn)) < 0.99
    two_nibs = templates_for(canvases, recipe=default_recipe())
    assert len(two_nibs.labels) == 2 * len(as_fonts.labels), "the pen's thinnest and thickest nib"


def test_sanitation_keeps_a_sample_that_looks_like_another_class_and_redraws_a_blot(vai):
    canvases = exemplar_canvases(vai)
    templates = Templates.from_images(
        [cv2.resize(canvas, (28, 28), interpolation=cv2.INTER_AREA) for canvas in canvases[0][:2]], [0, 1], 2
    )
    # Label 1's only exemplar is the drawing of class 0: every draw looks like class 0, and is kept.
    mislabelled = [[canvases[0][0], canvases[0][0]]]
    rendered = Synthesizer(mislabelled, build_recipe(PLAIN), templates=templates).render((0, 1, 1), (0, 0, 0), seed=1)
    assert len(rendered.pngs) == 3
    assert set(rendered.rejected) == {"lost_structure", "blot"}, "no draw is redrawn for its likeness"
    kept = [np.array(Image.open(io.BytesIO(png))) for png in rendered.pngs[1:]]
    assert all(templates.out_of_class(image, 1) == 0 for image in kept), "kept, though they look like class 0"
    # Label 1's exemplar is a solid block: far more ink than class 1 has, a blot however it is bent.
    block = canvas_with(lambda c: cv2.rectangle(c, (12, 12), (51, 51), 255, -1))
    blotted = Synthesizer([[canvases[0][0], block]], build_recipe(PLAIN), templates=templates)
    rendered = blotted.render((0, 1, 1), (0, 0, 0), seed=1)
    assert len(rendered.pngs) == 3
    assert rendered.redrawn == [0, 2 * MAX_SANITATION_REDRAWS]
    assert rendered.kept_after_redraws == [0, 2]
    assert rendered.rejected["blot"] == [0, 2 * MAX_SANITATION_REDRAWS]


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
    assert [type(t).__name__ for t in stored.transforms] == ["CoarseElastic"]

    (tmp_path / "broken.json").write_text('{"transform": {"__class_fullname__": "NoSuchTransform", "p": 1.0}}')
    for bad, needle in (
        (tmp_path / "missing.json", "does not exist"),
        (tmp_path / "broken.json", "not an albumentations"),
    ):
        code, err = run_cli(capsys, *args, "--overwrite", "--recipe", str(bad))
        assert_one_line_error(code, err, bad.name, needle)


def test_recipe_files_name_every_transform_as_they_did_before_the_recipe_package(tmp_path: Path):
    """recipe.json names a transform ``generator.transforms.<class>`` wherever its module now is, so files saved
    by 0.10.0 and earlier load, and the old module path still registers and gives the same classes."""
    import generator.synthesis.recipe as recipe
    import generator.synthesis.transforms as old

    saved = A.to_dict(default_recipe())["transform"]["transforms"]
    assert [step["__class_fullname__"] for step in saved] == [
        f"generator.transforms.{type(t).__name__}" for t in default_recipe().transforms
    ]
    for name in ("PenStroke", "StrokeWarp", "OpenCorner", "LeanAffine", "CoarseElastic", "SolidInk", "StrokeGaps"):
        assert getattr(old, name) is getattr(recipe, name)
    # A step as 0.10.0 wrote it, by hand: the loader finds the class by its recipe name.
    path = tmp_path / "old.json"
    path.write_text(
        '{"__version__": "2.0.8", "transform": {"__class_fullname__": "Compose", "p": 1.0, "transforms": ['
        '{"__class_fullname__": "generator.transforms.SolidInk", "p": 1.0, "edge": [96.0, 160.0], '
        '"softness": [64.0, 128.0]}]}}'
    )
    (step,) = load_recipe(path).transforms
    assert isinstance(step, SolidInk)
    assert step.edge == (96.0, 160.0)


def test_a_step_that_changes_the_shape_is_caught_however_seldom_it_runs(capsys, tmp_path: Path):
    """Issue 26: a Resize with p=0.05 slipped past the shape check, which ran the recipe as it is until it left ink."""
    from tests.conftest import assert_one_line_error, run_cli

    canvas = canvas_with(lambda c: cv2.circle(c, (32, 32), 14, 255, 4))
    for seldom in (A.Resize(10, 10, p=0.05), A.OneOf([A.NoOp(), A.Resize(10, 10)], p=0.1)):
        with pytest.raises(InputError, match="when each of its steps is applied"):
            check_recipe(A.Compose([A.GaussianBlur(blur_limit=(3, 3), p=1.0), seldom]), canvas)
    check_recipe(default_recipe(), canvas)  # the default passes, and a step with p=0 never runs
    check_recipe(A.Compose([A.Resize(10, 10, p=0.0)]), canvas)

    recipe = tmp_path / "seldom.json"
    save_recipe(A.Compose([A.Resize(10, 10, p=0.05)]), recipe)
    out = tmp_path / "out"
    args = ["generate", "--configs", "vai", "--out", str(out), "--train-size", "20", "--test-size", "10"]
    code, err = run_cli(capsys, *args, "--workers", "1", "--recipe", str(recipe))
    assert_one_line_error(code, err, "(10, 10)", "shape and type")
    assert not out.exists()


@pytest.mark.parametrize(
    ("step", "needles"),
    [
        (A.GaussianBlur(blur_limit=(100001, 100001), p=1.0), ["GaussianBlur", "blur_limit", "100001", "1000"]),
        (A.ElasticTransform(alpha=1.0, sigma=5000.0, p=0.5), ["ElasticTransform", "sigma", "5000"]),
        (A.Affine(translate_px={"x": (0, 2000), "y": (0, 0)}, p=1.0), ["Affine", "translate_px", "2000"]),
        # Within bounds, and about 185 ms an image.
        (A.Defocus(radius=(999, 999), p=0.5), ["ms of CPU an image", "more than 50"]),
    ],
    ids=["blur 100001", "elastic sigma", "nested", "slow within bounds"],
)
def test_a_recipe_with_arguments_out_of_bounds_is_refused_before_any_work(capsys, tmp_path: Path, step, needles):
    """Issue 26: a GaussianBlur with blur_limit 100001 turned a 250-image run into 101 s; it is refused up front."""
    from tests.conftest import assert_one_line_error, run_cli

    recipe = tmp_path / "heavy.json"
    save_recipe(A.Compose([step]), recipe)
    out = tmp_path / "out"
    args = ["generate", "--configs", "vai", "--out", str(out), "--train-size", "20", "--test-size", "10"]
    code, err = run_cli(capsys, *args, "--workers", "1", "--recipe", str(recipe))
    assert_one_line_error(code, err, *needles)
    assert not out.exists()


def test_optional_ingredients_take_their_place_and_leave_the_default_alone():
    names = [
        type(t).__name__ for t in build_recipe([*INGREDIENT_NAMES, "wide_affine", "perspective", "pieces"]).transforms
    ]
    assert names.count("LeanAffine") == 1, "the wide slant replaces the default's"
    assert names.index("PieceAffine") == names.index("StrokeWarp") + 1
    assert names.index("Perspective") == names.index("LeanAffine") + 1
    assert [type(t).__name__ for t in default_recipe().transforms] == [
        type(item.make()).__name__ for item in INGREDIENTS
    ]
    wide = next(t for t in build_recipe(["wide_affine"]).transforms if isinstance(t, LeanAffine))
    assert wide.shear["x"] == (-40, 40)
    with pytest.raises(ValueError, match="unknown recipe ingredient"):
        build_recipe(["sideways"])


def test_piece_affine_moves_each_piece_on_its_own_and_leaves_one_piece_alone():
    bar_and_dot = canvas_with(lambda c: (cv2.line(c, (12, 20), (52, 20), 255, 4), cv2.circle(c, (32, 44), 5, 255, -1)))
    one_piece = canvas_with(lambda c: cv2.circle(c, (32, 32), 14, 255, 4))
    step = PieceAffine(shift=0.2, angle=0.0, scale=(1.0, 1.0), p=1.0)
    assert np.array_equal(run(step, one_piece), one_piece)
    moved = [run(step, bar_and_dot, seed) for seed in range(6)]
    assert np.array_equal(moved[0], run(step, bar_and_dot, 0)), "seeded"
    for image in moved:
        assert ink_pieces(image) == 2
    # The two pieces move apart from one another: the dot's offset from the bar differs between draws.
    offsets = set()
    for image in moved:
        _, _, _, centres = cv2.connectedComponentsWithStats((image >= 128).astype(np.uint8))
        bar, dot = sorted(centres[1:].tolist(), key=lambda centre: centre[1])
        offsets.add((round(dot[0] - bar[0]), round(dot[1] - bar[1])))
    assert len(offsets) > 3
    held = PieceAffine(shift=0.2, angle=0.0, scale=(1.0, 1.0), clearance_scale=(4.0, 0.3), p=1.0)
    tight = A.Compose([held], seed=0)(image=bar_and_dot, **{CLEARANCE_KEY: 1})["image"]
    free = moved[0]
    assert np.abs(tight.astype(int) - bar_and_dot).sum() < np.abs(free.astype(int) - bar_and_dot).sum()


def tee() -> np.ndarray:
    """A bar with a stem hanging from its middle: three strokes held at one junction."""
    return canvas_with(lambda c: (cv2.line(c, (12, 16), (52, 16), 255, 3), cv2.line(c, (32, 16), (32, 54), 255, 3)))


def ink_pieces(image: np.ndarray) -> int:
    return cv2.connectedComponents((image >= 128).astype(np.uint8))[0] - 1


def test_stroke_warp_turns_strokes_about_the_junction_that_holds_them():
    glyph = tee()
    recipe = A.Compose([StrokeWarp(angle=30.0, length=(0.7, 1.3), bend=0.0, p=1.0)], seed=3)
    moved = 0
    for _ in range(20):
        out = recipe(image=glyph)["image"]
        assert out[14:19, 30:35].min() >= 128, "the junction stays where it was"
        assert ink_pieces(out) == 1, "every stroke stays attached"
        moved += int(np.count_nonzero((out >= 128) != (glyph >= 128)) > 40)
    assert moved >= 15, "the strokes turn, grow and shrink"


def test_stroke_warp_varies_a_loop_and_keeps_its_hole():
    six = canvas_with(lambda c: (cv2.circle(c, (32, 40), 12, 255, 3), cv2.line(c, (22, 32), (30, 8), 255, 3)))
    assert structure(six) == (1, 1)
    recipe = A.Compose([StrokeWarp(angle=30.0, length=(0.7, 1.3), bend=0.3, p=1.0)], seed=5)
    outs = [recipe(image=six)["image"] for _ in range(20)]
    assert all(structure(out) == (1, 1) for out in outs), "one piece around one hole, every time"
    holes = [hole_area(out) for out in outs]
    assert max(holes) > 1.3 * min(holes), "the loop grows and shrinks about its junction"


def hole_area(image: np.ndarray) -> int:
    """Pixels of background enclosed by the ink (everything but the background around the glyph)."""
    _, labels = cv2.connectedComponents((image < 128).astype(np.uint8), connectivity=4)
    return int(np.count_nonzero(labels != labels[0, 0]) - np.count_nonzero(image >= 128))


def test_stroke_warp_leaves_a_lone_piece_to_the_whole_glyph():
    bar = canvas_with(lambda c: cv2.line(c, (12, 32), (52, 32), 255, 3))
    ring = canvas_with(lambda c: cv2.circle(c, (32, 32), 14, 255, 3))
    draws = np.random.default_rng(0).random((3, 24))
    for piece in (bar, ring, np.zeros((64, 64), np.uint8)):
        assert stroke_field(piece >= 128, draws, 30.0, (0.7, 1.3), 0.25) is None, "no junction: nothing to turn about"
        assert np.array_equal(run(StrokeWarp(p=1.0), piece), piece)


def test_stroke_warp_moves_a_tight_glyph_less():
    glyph, draws = tee() >= 128, np.random.default_rng(1).random((3, 24))
    full = np.abs(stroke_field(glyph, draws, 30.0, (0.7, 1.3), 0.25, amount=1.0)[0]).max()
    third = np.abs(stroke_field(glyph, draws, 30.0, (0.7, 1.3), 0.25, amount=1 / 3)[0]).max()
    assert full > 3
    assert third == pytest.approx(full / 3, rel=0.2), "a third of the strength, about a third of the movement"


def four() -> np.ndarray:
    """A closed 4: a triangle whose apex is a sharp corner, and a stem through it."""

    def draw(c: np.ndarray) -> None:
        cv2.line(c, (40, 6), (14, 42), 255, 3)
        cv2.line(c, (14, 42), (52, 42), 255, 3)
        cv2.line(c, (40, 6), (40, 58), 255, 3)

    return canvas_with(draw)


def test_open_corner_opens_a_loop_at_its_sharp_corner():
    glyph = four()
    assert structure(glyph) == (1, 1)
    for seed in range(5):
        out = run(OpenCorner(angle=60.0, size=(1.0, 2.0), p=1.0), glyph, seed)
        assert structure(out) == (1, 0), "the loop opens and the numeral stays in one piece"
        assert not np.any(out > glyph), "ink is only taken away"
        ys, _ = np.nonzero((glyph >= 128) & (out < 128))
        assert ys.mean() < 16, "the opening is at the apex (y 6), the triangle's sharpest corner, not its base (y 42)"


def test_open_corner_leaves_round_loops_and_cuts_that_open_two_loops():
    six = canvas_with(lambda c: (cv2.circle(c, (32, 40), 12, 255, 3), cv2.line(c, (22, 32), (30, 8), 255, 3)))
    assert np.array_equal(run(OpenCorner(p=1.0), six), six), "a round loop has no corner to open"

    def bow_tie(c: np.ndarray) -> None:  # two triangles that meet at their sharpest corners
        cv2.polylines(
            c, [np.array([[32, 32], [8, 20], [8, 44]]), np.array([[32, 32], [56, 20], [56, 44]])], True, 255, 3
        )

    tie = canvas_with(bow_tie)
    assert structure(tie) == (1, 2)
    assert np.array_equal(run(OpenCorner(angle=80.0, p=1.0), tie), tie), "a cut there would open both loops"


def test_open_corner_spares_loops_narrower_than_least_room():
    glyph = four()
    assert structure(run(OpenCorner(least_room=0.0, p=1.0), glyph)) == (1, 0)
    assert np.array_equal(run(OpenCorner(least_room=20.0, p=1.0), glyph), glyph), "a counter under 20 line widths"


def test_stroke_warp_draws_a_loop_from_its_own_range():
    six = canvas_with(lambda c: (cv2.circle(c, (32, 40), 12, 255, 3), cv2.line(c, (22, 32), (30, 8), 255, 3)))
    still = {"angle": 0.0, "length": (1.0, 1.0), "bend": 0.0, "p": 1.0}
    assert hole_area(run(StrokeWarp(**still, loop=(1.0, 1.0)), six)) == pytest.approx(hole_area(six), rel=0.05)
    smaller = [hole_area(run(StrokeWarp(**still, loop=(0.6, 0.6)), six, seed)) for seed in range(3)]
    assert max(smaller) < 0.6 * hole_area(six), "a loop drawn at 0.6 of its size keeps about a third of its area"
