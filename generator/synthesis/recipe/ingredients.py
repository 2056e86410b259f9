"""The recipe's ingredients, each one thing that handwriting has and typesetting lacks, and the recipe built
from them.

``INGREDIENTS`` lists them in pipeline order, the one place that order lives; the default uses all of them,
and ``benchmarks/real_transfer.py`` measures what each one adds by leaving the later ones out. The same recipe
serves every script: nothing in it is tuned to one script's digits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import albumentations as A
import cv2

from generator.synthesis.normalize import WORKING_BOX
from generator.synthesis.recipe.learned import HandForms
from generator.synthesis.recipe.learned.functional import load_model
from generator.synthesis.recipe.pen import PenStroke, SolidInk, StrokeGaps
from generator.synthesis.recipe.strokes import OpenCorner, PieceAffine, StrokeWarp
from generator.synthesis.recipe.warps import CoarseElastic, LeanAffine, LeanGridDistortion

# Simard et al. (2003) deformed 28x28 digits with sigma 4 and alpha 34. The glyph box here is twice
# MNIST's 20 px, so sigma doubles; the field's amplitude falls as 1/sigma, so alpha grows fourfold.
_SCALE = WORKING_BOX / 20
# Every geometric step samples bilinearly and fills what it uncovers with background (black).
_CANVAS_EDGES = {"interpolation": cv2.INTER_LINEAR, "border_mode": cv2.BORDER_CONSTANT, "fill": 0}
# Every shape-changing step acts in proportion to the glyph's clearance (``generator.synthesis.glyph``):
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
    # An optional ingredient (``OPTIONAL_INGREDIENTS``) runs right after the default one named ``after``, or in
    # the place of the one named ``replaces``.
    after: str | None = None
    replaces: str | None = None


def _corners() -> OpenCorner:
    # Half of the loops that have a corner under 60 degrees (the apex of a closed 4's triangle; a round loop has
    # none) are left open there, if the loop is wider than 1.5 line widths: a small counter, such as those of
    # Ge'ez's signs, is drawn in one movement. Real digits hold a loop less often than generated ones (MNIST 36 %
    # of images against 41 %, Tamil 68 % against 78 %, Malayalam 42 % against 60 %). Over seven training seeds
    # (20,000 images, 5 epochs), with loops drawn smaller, it read MNIST 0.4 points better (its 4s 9 points better,
    # its 6s and 9s 5 worse), Malayalam 0.6, both within the seeds' spread, Tamil and Ge'ez's generated test the
    # same. Without the width limit, Ge'ez's generated test read 0.8 worse (docs/results.md).
    return OpenCorner(angle=60.0, size=(1.0, 2.0), least_room=1.5, p=0.5)


def _strokes() -> StrokeWarp:
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
    return StrokeWarp(
        angle=30.0, length=(0.7, 1.3), bend=0.25, loop=(0.55, 1.0), clearance_scale=_CLEARANCE_SCALE, p=0.8
    )


def _pen() -> PenStroke:
    # Nib 3-7 px on the canvas is 1.5-3.5 px in the 28x28 frame: MNIST's strokes are ~2-3 px.
    # Stroke ends do not run on (up to 0.9.0 half of them did, by 1-6 px). With solid ink (20,000 images,
    # 5 epochs), seven training seeds without them against three with: Ge'ez's and Latin's generated tests
    # 1.9 points better, real Tamil 1.6 worse, Malayalam 0.6 and MNIST 0.2 better, within the seeds' spread
    # (docs/results.md).
    return PenStroke(
        width=(3.0, 7.0),
        nib_ratio=(0.5, 1.0),
        overshoot_p=0.0,
        width_per_clearance=_WIDTH_PER_CLEARANCE,
        clearance_scale=_CLEARANCE_SCALE,
        p=0.9,
    )


def _affine() -> LeanAffine:
    # Hands make a numeral wider or narrower than its fonts do: width 0.7-1.4 against height 0.85-1.15.
    # On 0.6.0's recipe, its 0.8-1.15 against 0.9-1.1 read MNIST 2.6 points worse, Tamil and Malayalam the same
    # (three training seeds, 20,000 images, 5 epochs; docs/results.md).
    # A glyph wider than tall is drawn narrower, its width times (height / width) ** 0.5: a hand keeps a numeral
    # within about a square. Real digits as wide as their fonts' widest differ most: Tamil 6 and 9, 1.12 and 1.22
    # times as wide as tall, against 1.55 and 1.66 generated; Malayalam 3 and 6, 0.98 and 1.00 against 1.39 and
    # 1.38; while MNIST's narrow digits are as wide as generated ones (afro-mnist stats). With solid ink, seven
    # training seeds (20,000 images, 5 epochs): Tamil 1.0 points better, Malayalam 0.9, the seeds' ranges
    # overlapping, MNIST and the generated tests the same; 0.8 instead of 0.5 read no better (docs/results.md).
    return LeanAffine(
        rotate=(-12, 12),
        shear={"x": (-18, 18), "y": (-5, 5)},
        scale={"x": (0.7, 1.4), "y": (0.85, 1.15)},
        squeeze=0.5,
        clearance_scale=_CLEARANCE_SCALE,
        **_CANVAS_EDGES,
        p=0.9,
    )


def _proportions() -> LeanGridDistortion:
    # A 4x4 grid whose lines move by up to 30 % of a cell: a loop grows while a tail shrinks.
    return LeanGridDistortion(
        num_steps=4, distort_limit=(-0.3, 0.3), clearance_scale=_CLEARANCE_SCALE, **_CANVAS_EDGES, p=0.7
    )


def _gaps() -> StrokeGaps:
    # One gap, just wider than the line, in 5 % of images. Real Tamil and Malayalam digits are broken
    # about a fifth of the time (afro-mnist stats), MNIST's 2.5 %, and real Ge'ez is written clean;
    # 0.3.1's one to three wide cuts in 60 % broke 37 % of one-stroke digits. 0.6.0's 40 % cost every
    # generated test and gained no real transfer; 0.8.0's 20 % still broke 8.4 % of Latin digits, 3.4
    # times MNIST's share, 7 points of it from the gaps. At 5 % it is 3.0 %; over seven training seeds
    # (20,000 images, 5 epochs) real Tamil read 1.6 points better, MNIST 0.7 and Malayalam 0.6 worse,
    # all within the seeds' spread, and Ge'ez's generated test 0.8 better (docs/results.md).
    return StrokeGaps(gaps=(1, 1), size=(1.2, 2.0), relative_size=True, p=0.05)


def _ink() -> SolidInk:
    # Each warp before this softens the stroke's edge: 0.9.0's images held 0.8-2.1 % of their pixels at full ink
    # (250 or more), against 5.4-6.5 % in MNIST, Tamil and Malayalam alike, in a halo of faint grey (48-56
    # pixels from 1 to 31 per image, against 16-17). With the edge at grey 96-160 and 64-128 levels of softness,
    # three training seeds (20,000 images, 5 epochs): real Tamil 2.8 points better, Malayalam 1.5, MNIST 0.7,
    # Ge'ez's generated test 0.5 worse; a harder edge (16-48 levels) read the same, a lower one (64-96, a thicker
    # line) Tamil 2.5 worse. An image the ramp would break is left as it is: 3.5 % of Latin digits are broken,
    # 5.0 % without that check (docs/results.md).
    return SolidInk(edge=(96.0, 160.0), softness=(64.0, 128.0), p=1.0)


# The recipe, in pipeline order: the one list that says which steps exist, the order they run in,
# and the order in which ``benchmarks/real_transfer.py`` adds them to the paper's plain recipe.
# Uneven ink (``InkPressure``) left the recipe in 0.7.0: it added less than the seeds' spread
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


def _wide_affine() -> LeanAffine:
    # The anchor's range (Jin & Rinard 2021: shear up to 40 degrees) on top of ours: slant up to 40 degrees,
    # rotation 15, width 0.6-1.5 and height 0.8-1.2, still scaled to the glyph's clearance.
    return LeanAffine(
        rotate=(-15, 15),
        shear={"x": (-40, 40), "y": (-10, 10)},
        scale={"x": (0.6, 1.5), "y": (0.8, 1.2)},
        squeeze=0.5,
        clearance_scale=_CLEARANCE_SCALE,
        **_CANVAS_EDGES,
        p=0.9,
    )


def _perspective() -> A.Perspective:
    # The page seen at an angle: each corner of the canvas moved by up to 10 % of its side, in half the images.
    return A.Perspective(scale=(0.03, 0.1), keep_size=True, **_CANVAS_EDGES, p=0.5)


def _pieces() -> PieceAffine:
    # A glyph of several pieces (a sign between bars, a dot): each piece turned by up to 15 degrees, scaled by
    # 0.85-1.15 and shifted by up to 8 % of the glyph's side on its own, scaled to the glyph's clearance.
    return PieceAffine(shift=0.08, angle=15.0, scale=(0.85, 1.15), clearance_scale=_CLEARANCE_SCALE, p=0.5)


# Ingredients outside the default recipe, measured by ``benchmarks/real_transfer.py``'s hard-variety rows
# (issue 28): wider variety of the kind the anchor uses, aimed at what a reader finds hard. A recipe built with
# one of them has it at its place in the pipeline (``Ingredient.after`` or ``replaces``).
OPTIONAL_INGREDIENTS = (
    Ingredient(
        "pieces",
        "each piece of a glyph in several pieces turned, scaled and shifted on its own",
        _pieces,
        after="strokes",
    ),
    Ingredient(
        "wide_affine",
        "the anchor's slant: shear up to 40 degrees, rotation 15, width 0.6-1.5",
        _wide_affine,
        replaces="affine",
    ),
    Ingredient("perspective", "perspective: the page seen at an angle", _perspective, after="affine"),
)
OPTIONAL_NAMES = tuple(ingredient.name for ingredient in OPTIONAL_INGREDIENTS)


def _learned_strokes() -> StrokeWarp:
    # StrokeWarp with the turns, stroke lengths and loop sizes by which handwriting-style letters differ from text
    # faces' (scripts/learn_hand_forms.py: the 90th percentile of the turns' size, the 5th to 95th of the size
    # factors, over the letters of six scripts, never digits); the bow is the default's, which the fonts do not
    # measure.
    model = load_model()
    return StrokeWarp(
        angle=round(model.stroke_angle, 1),
        length=tuple(round(value, 2) for value in model.stroke_length),
        bend=0.25,
        loop=tuple(round(value, 2) for value in model.stroke_loop),
        clearance_scale=_CLEARANCE_SCALE,
        p=0.8,
    )


def _hand_forms() -> HandForms:
    # A field drawn from how handwriting-style letters depart from text faces' (generator/synthesis/recipe/learned),
    # as much as the fonts show, scaled to the glyph's clearance.
    return HandForms(amount=1.0, clearance_scale=_CLEARANCE_SCALE, p=1.0)


# The learned model's ingredients (issue 28, direction 1), outside the default: ``benchmarks/real_transfer.py``'s
# learned rows measure them.
LEARNED_INGREDIENTS = (
    Ingredient(
        "learned_strokes",
        "stroke edits learned from letters: turns, stroke lengths and loop sizes as hands' letters vary type's",
        _learned_strokes,
        replaces="strokes",
    ),
    Ingredient(
        "hand_forms",
        "hands' forms learned from letters: a field drawn from how handwriting faces depart from text faces",
        _hand_forms,
        after="strokes",
    ),
)
LEARNED_NAMES = tuple(ingredient.name for ingredient in LEARNED_INGREDIENTS)
# Every ingredient outside the default, each at its place in the pipeline.
_EXTRAS = OPTIONAL_INGREDIENTS + LEARNED_INGREDIENTS


def _pipeline() -> tuple[Ingredient, ...]:
    """Every ingredient, default and optional, in the order a recipe runs them."""
    order = []
    for ingredient in INGREDIENTS:
        order += [extra for extra in _EXTRAS if extra.replaces == ingredient.name]
        order.append(ingredient)
        order += [extra for extra in _EXTRAS if extra.after == ingredient.name]
    return tuple(order)


PIPELINE = _pipeline()


def check_ingredients(ingredients: Iterable[str]) -> tuple[str, ...]:
    """The ingredients in pipeline order, an optional one in place of the one it replaces; raises ValueError for
    an unknown one."""
    chosen = set(ingredients)
    known = [ingredient.name for ingredient in PIPELINE]
    unknown = sorted(chosen - set(known))
    if unknown:
        raise ValueError(f"unknown recipe ingredient(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    replaced = {item.replaces for item in _EXTRAS if item.name in chosen}
    return tuple(name for name in known if name in chosen and name not in replaced)


def build_recipe(ingredients: Iterable[str] = INGREDIENT_NAMES, seed: int | None = None) -> A.Compose:
    """A Compose of the chosen ingredients, in pipeline order (``PIPELINE``)."""
    chosen = check_ingredients(ingredients)
    return A.Compose([item.make() for item in PIPELINE if item.name in chosen], seed=seed)


def _elastic(alpha: float, sigma: float, p: float) -> CoarseElastic:
    """An elastic field given at MNIST's 28x28 scale, scaled to the working canvas (see ``_SCALE``).

    CoarseElastic is ElasticTransform with its smooth field drawn on a coarse grid: the same
    deformation in distribution, at a fraction of the cost.
    """
    return CoarseElastic(
        alpha=alpha * _SCALE**2, sigma=sigma * _SCALE, clearance_scale=_CLEARANCE_SCALE, **_CANVAS_EDGES, p=p
    )


def default_recipe(seed: int | None = None) -> A.Compose:
    """Every ingredient: what makes a typeset numeral look handwritten."""
    return build_recipe(INGREDIENT_NAMES, seed)
