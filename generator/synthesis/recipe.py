"""The augmentation recipe: an albumentations pipeline, kept as data.

The recipe works on the ``WORKING_SIZE`` canvas (white ink on black) before MNIST normalisation. It
is saved beside every config it made with albumentations' own serialisation, so that anyone can
reload it with ``load_recipe(path)`` (``albumentations.load`` after ``import generator.synthesis.transforms``)
and rerun it on an exemplar canvas.

The recipe is built from named ingredients, each one thing that handwriting has and typesetting
lacks. ``INGREDIENTS`` lists them in pipeline order, the one place that order lives; the default uses all of
them, and ``benchmarks/real_transfer.py`` measures what each one adds by leaving the later ones out.
The same recipe serves every script: nothing in it is tuned to one script's digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import albumentations as A
import cv2
import numpy as np

from generator.errors import InputError, one_line
from generator.synthesis import transforms
from generator.synthesis.normalize import WORKING_BOX, EmptyImageError, mnist_normalize

# Simard et al. (2003) deformed 28x28 digits with sigma 4 and alpha 34. The glyph box here is twice
# MNIST's 20 px, so sigma doubles; the field's amplitude falls as 1/sigma, so alpha grows fourfold.
_SCALE = WORKING_BOX / 20
# Every geometric step samples bilinearly and fills what it uncovers with background (black).
_CANVAS_EDGES = {"interpolation": cv2.INTER_LINEAR, "border_mode": cv2.BORDER_CONSTANT, "fill": 0}
# Every shape-changing step acts in proportion to the glyph's clearance (``generator.synthesis.transforms``):
# full strength from 4 px of room between strokes on the canvas (2 px in the 28x28 frame), down to
# 30 % for the tightest glyphs, whose parts a full-strength warp would run together. At 20,000 images,
# 5 epochs and one seed, a reference of 6 px read real Tamil 4 points worse than 4 px (more variety
# transfers), and 4 px kept Ge'ez's generated test above 94 % (the unscaled recipe: 77 %).
_CLEARANCE_SCALE = (4.0, 0.3)
# A nib is never wider than this many times the glyph's clearance, so the pen cannot fill its gaps.
_WIDTH_PER_CLEARANCE = 1.75


@dataclass(frozen=True)
class Ingredient:
    """One thing handwriting has and typesetting lacks: a name, what it adds, and the step that adds it."""

    name: str
    what: str
    make: Callable[[], A.BasicTransform]


def _corners() -> transforms.OpenCorner:
    # Half of the loops that have a corner under 60 degrees (the apex of a closed 4's triangle; a round loop has
    # none) are left open there, if the loop is wider than 1.5 line widths: a small counter, such as those of
    # Ge'ez's signs, is drawn in one movement. Real digits hold a loop less often than generated ones (MNIST 36 %
    # of images against 41 %, Tamil 68 % against 78 %, Malayalam 42 % against 60 %). Over seven training seeds
    # (20,000 images, 5 epochs), with loops drawn smaller, it read MNIST 0.4 points better (its 4s 9 points better,
    # its 6s and 9s 5 worse), Malayalam 0.6, both within the seeds' spread, Tamil and Ge'ez's generated test the
    # same. Without the width limit, Ge'ez's generated test read 0.8 worse (docs/results.md).
    return transforms.OpenCorner(angle=60.0, size=(1.0, 2.0), least_room=1.5, p=0.5)


def _strokes() -> transforms.StrokeWarp:
    # Up to 30 degrees of turn and 30 % of length for a stroke hanging from a junction, a bow of up to a quarter
    # of its length for one between two. Added to 0.5.0's recipe (benchmarks/real_transfer.py, three training
    # seeds, 20,000 images, 5 epochs), it read real Malayalam 2.8 points better (84.5 % to 87.3 %) and MNIST 3.5
    # (71.5 % to 75.0 %, the seeds' ranges apart), Tamil 1.0 (within the seeds' spread), and Ge'ez's generated
    # test 1.3 worse (1.4 at full size). Turning lone pieces as well moved MNIST by less than the seeds do and
    # tilted the bars that frame every Ge'ez numeral, so a piece without a junction is left to the whole glyph's
    # slant (docs/results.md).
    # A loop is drawn at 0.55-1.0 of its size, never larger: fonts open their counters wide, hands do not (the
    # hole's median share of the ink's box: MNIST 0.11 against 0.20 generated from Latin text faces). Over seven
    # training seeds on 0.7.0's recipe it read real Malayalam 3.0 points better (90.1 %, the seeds' ranges
    # overlapping) and MNIST 2.2 (80.8 %), Tamil 1.7 worse (75.7 %; its real loops are no smaller than its
    # fonts') and Ge'ez's generated test 0.4 better (docs/results.md).
    return transforms.StrokeWarp(
        angle=30.0, length=(0.7, 1.3), bend=0.25, loop=(0.55, 1.0), clearance_scale=_CLEARANCE_SCALE, p=0.8
    )


def _pen() -> transforms.PenStroke:
    # Nib 3-7 px on the canvas is 1.5-3.5 px in the 28x28 frame: MNIST's strokes are ~2-3 px.
    # Stroke ends do not run on (up to 0.9.0 half of them did, by 1-6 px). With solid ink (20,000 images,
    # 5 epochs), seven training seeds without them against three with: Ge'ez's and Latin's generated tests
    # 1.9 points better, real Tamil 1.6 worse, Malayalam 0.6 and MNIST 0.2 better, within the seeds' spread
    # (docs/results.md).
    return transforms.PenStroke(
        width=(3.0, 7.0),
        nib_ratio=(0.5, 1.0),
        overshoot_p=0.0,
        width_per_clearance=_WIDTH_PER_CLEARANCE,
        clearance_scale=_CLEARANCE_SCALE,
        p=0.9,
    )


def _affine() -> transforms.LeanAffine:
    # Hands make a numeral wider or narrower than its fonts do: width 0.7-1.4 against height 0.85-1.15.
    # On 0.6.0's recipe, its 0.8-1.15 against 0.9-1.1 read MNIST 2.6 points worse, Tamil and Malayalam the same
    # (three training seeds, 20,000 images, 5 epochs; docs/results.md).
    # A glyph wider than tall is drawn narrower, its width times (height / width) ** 0.5: a hand keeps a numeral
    # within about a square. Real digits as wide as their fonts' widest differ most: Tamil 6 and 9, 1.12 and 1.22
    # times as wide as tall, against 1.55 and 1.66 generated; Malayalam 3 and 6, 0.98 and 1.00 against 1.39 and
    # 1.38; while MNIST's narrow digits are as wide as generated ones (afro-mnist stats). With solid ink, seven
    # training seeds (20,000 images, 5 epochs): Tamil 1.0 points better, Malayalam 0.9, the seeds' ranges
    # overlapping, MNIST and the generated tests the same; 0.8 instead of 0.5 read no better (docs/results.md).
    return transforms.LeanAffine(
        rotate=(-12, 12),
        shear={"x": (-18, 18), "y": (-5, 5)},
        scale={"x": (0.7, 1.4), "y": (0.85, 1.15)},
        squeeze=0.5,
        clearance_scale=_CLEARANCE_SCALE,
        **_CANVAS_EDGES,
        p=0.9,
    )


def _proportions() -> transforms.LeanGridDistortion:
    # A 4x4 grid whose lines move by up to 30 % of a cell: a loop grows while a tail shrinks.
    return transforms.LeanGridDistortion(
        num_steps=4, distort_limit=(-0.3, 0.3), clearance_scale=_CLEARANCE_SCALE, **_CANVAS_EDGES, p=0.7
    )


def _gaps() -> transforms.StrokeGaps:
    # One gap, just wider than the line, in 5 % of images. Real Tamil and Malayalam digits are broken
    # about a fifth of the time (afro-mnist stats), MNIST's 2.5 %, and real Ge'ez is written clean;
    # 0.3.1's one to three wide cuts in 60 % broke 37 % of one-stroke digits. 0.6.0's 40 % cost every
    # generated test and gained no real transfer; 0.8.0's 20 % still broke 8.4 % of Latin digits, 3.4
    # times MNIST's share, 7 points of it from the gaps. At 5 % it is 3.0 %; over seven training seeds
    # (20,000 images, 5 epochs) real Tamil read 1.6 points better, MNIST 0.7 and Malayalam 0.6 worse,
    # all within the seeds' spread, and Ge'ez's generated test 0.8 better (docs/results.md).
    return transforms.StrokeGaps(gaps=(1, 1), size=(1.2, 2.0), relative_size=True, p=0.05)


def _ink() -> transforms.SolidInk:
    # Each warp before this softens the stroke's edge: 0.9.0's images held 0.8-2.1 % of their pixels at full ink
    # (250 or more), against 5.4-6.5 % in MNIST, Tamil and Malayalam alike, in a halo of faint grey (48-56
    # pixels from 1 to 31 per image, against 16-17). With the edge at grey 96-160 and 64-128 levels of softness,
    # three training seeds (20,000 images, 5 epochs): real Tamil 2.8 points better, Malayalam 1.5, MNIST 0.7,
    # Ge'ez's generated test 0.5 worse; a harder edge (16-48 levels) read the same, a lower one (64-96, a thicker
    # line) Tamil 2.5 worse. An image the ramp would break is left as it is: 3.5 % of Latin digits are broken,
    # 5.0 % without that check (docs/results.md).
    return transforms.SolidInk(edge=(96.0, 160.0), softness=(64.0, 128.0), p=1.0)


# The recipe, in pipeline order: the one list that says which steps exist, the order they run in,
# and the order in which ``benchmarks/real_transfer.py`` adds them to the paper's plain recipe.
# Uneven ink (``transforms.InkPressure``) left the recipe in 0.7.0: it added less than the seeds' spread
# to real transfer, and without it MNIST read 2 points better (docs/results.md).
INGREDIENTS = (
    Ingredient("corners", "loops left open at a sharp corner, where a hand lifts the pen", _corners),
    Ingredient(
        "strokes",
        "strokes varied one by one: each turned, lengthened or bowed about the junctions that hold it, and loops"
        " drawn smaller",
        _strokes,
    ),
    Ingredient("pen", "one pen's line: the glyph's centreline redrawn with a nib of random width and angle", _pen),
    Ingredient("affine", "slant, rotation, aspect and scale of the hand", _affine),
    Ingredient(
        "proportions", "uneven proportions: parts of the digit stretched or squeezed against the rest", _proportions
    ),
    Ingredient(
        "elastic",
        "elastic deformation at the scale of the whole digit (Simard et al. 2003)",
        lambda: _elastic(alpha=34, sigma=4, p=1.0),
    ),
    Ingredient(
        "fine_elastic",
        "a second, finer elastic field: the wobble of a hand-drawn line",
        lambda: _elastic(alpha=6, sigma=1.5, p=0.7),
    ),
    Ingredient("gaps", "small gaps where the pen skipped", _gaps),
    Ingredient("ink", "solid ink with a sharp edge, as a pen leaves it", _ink),
)
INGREDIENT_NAMES = tuple(ingredient.name for ingredient in INGREDIENTS)
# The paper's recipe: elastic deformation of the exemplar and nothing else.
PLAIN = ("elastic",)


def check_ingredients(ingredients: Iterable[str]) -> tuple[str, ...]:
    """The ingredients in pipeline order; raises ValueError for an unknown one."""
    chosen = set(ingredients)
    unknown = sorted(chosen - set(INGREDIENT_NAMES))
    if unknown:
        raise ValueError(
            f"unknown recipe ingredient(s) {', '.join(unknown)}; choose from {', '.join(INGREDIENT_NAMES)}"
        )
    return tuple(name for name in INGREDIENT_NAMES if name in chosen)


def build_recipe(ingredients: Iterable[str] = INGREDIENT_NAMES, seed: int | None = None) -> A.Compose:
    """A Compose of the chosen ingredients, in pipeline order (``INGREDIENTS``)."""
    chosen = check_ingredients(ingredients)
    return A.Compose([item.make() for item in INGREDIENTS if item.name in chosen], seed=seed)


def _elastic(alpha: float, sigma: float, p: float) -> transforms.CoarseElastic:
    """An elastic field given at MNIST's 28x28 scale, scaled to the working canvas (see ``_SCALE``).

    CoarseElastic is ElasticTransform with its smooth field drawn on a coarse grid: the same
    deformation in distribution, at a fraction of the cost.
    """
    return transforms.CoarseElastic(
        alpha=alpha * _SCALE**2, sigma=sigma * _SCALE, clearance_scale=_CLEARANCE_SCALE, **_CANVAS_EDGES, p=p
    )


def default_recipe(seed: int | None = None) -> A.Compose:
    """Every ingredient: what makes a typeset numeral look handwritten."""
    return build_recipe(INGREDIENT_NAMES, seed)


def save_recipe(recipe: A.Compose, path: Path) -> None:
    A.save(recipe, str(path), data_format="json")


def load_recipe(path: Path) -> A.Compose:
    """A recipe saved by ``save_recipe``, or any albumentations pipeline saved as JSON.

    Raises:
        InputError: the file cannot be read, is not a saved albumentations pipeline, or is not a Compose.
    """
    try:
        recipe = A.load(str(path), data_format="json")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # pydantic's ValidationError is a ValueError; its several lines become one.
        raise InputError(
            one_line(f"--recipe {path} is not an albumentations recipe ({type(exc).__name__}: {exc})", 400)
            + "; save one with albumentations.save"
        ) from None
    if not isinstance(recipe, A.Compose):
        raise InputError(
            f"--recipe {path} holds a single {type(recipe).__name__}; save an albumentations.Compose([...]) instead"
        )
    if _depth(recipe) > MAX_DEPTH:
        raise InputError(f"--recipe {path} nests transforms more than {MAX_DEPTH} deep; flatten it")
    return recipe


# Deeper pipelines than this are no recipe anyone writes, and would exhaust Python's stack when saved.
MAX_DEPTH = 32


def _depth(transform: object, limit: int = MAX_DEPTH + 1) -> int:
    """How deep Composes nest in ``transform`` (a bare transform is 0), counted no further than ``limit``."""
    children = getattr(transform, "transforms", None)
    if not children or limit == 0:
        return 0
    return 1 + max(_depth(child, limit - 1) for child in children)


# A recipe that leaves no ink this many times running, on one exemplar, erases the digits.
_TRIALS = 20
# What a transform raises on an image it cannot take (OpenCV's own error among them).
_TRANSFORM_ERRORS = (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, cv2.error)


def check_recipe(recipe: object, canvas: np.ndarray) -> None:
    """Refuses, before a run, a recipe that does not turn a canvas into a canvas with ink on it.

    The recipe is run on ``canvas`` (an exemplar) by a copy of itself, so that the run's own random state is
    untouched, until a draw leaves ink: its output must have the canvas's shape and type.

    Raises:
        InputError: the recipe is not a Compose, fails on the canvas, returns another shape or type, or erases
            the digit ``_TRIALS`` times running.
    """
    if not isinstance(recipe, A.Compose):
        raise InputError(f"the recipe is a single {type(recipe).__name__}; wrap it in albumentations.Compose([...])")
    if _depth(recipe) > MAX_DEPTH:
        raise InputError(f"the recipe nests transforms more than {MAX_DEPTH} deep; flatten it")
    trial = A.from_dict(A.to_dict(recipe))
    trial.set_random_seed(0)
    for _ in range(_TRIALS):
        try:
            image = trial(image=canvas.copy())["image"]
        except _TRANSFORM_ERRORS as exc:
            raise InputError(f"the recipe fails on an exemplar ({type(exc).__name__}: {exc}); fix the recipe") from None
        if not isinstance(image, np.ndarray) or image.shape != canvas.shape or image.dtype != canvas.dtype:
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise InputError(
                f"the recipe turns a {canvas.dtype} {canvas.shape} canvas into {got}; its output must keep the "
                "canvas's shape and type (leave out Resize, ToRGB, Normalize and the like)"
            )
        try:
            mnist_normalize(image)
        except EmptyImageError:
            continue
        return
    raise InputError(f"the recipe erased the digit {_TRIALS} times running on an exemplar; make it keep some ink")
