"""The augmentation recipe: an albumentations pipeline, kept as data.

The recipe works on the ``WORKING_SIZE`` canvas (white ink on black) before MNIST normalisation. It
is saved beside every config it made with albumentations' own serialisation, so that anyone can
reload it with ``load_recipe(path)`` (``albumentations.load`` after ``import generator.transforms``)
and rerun it on an exemplar canvas.

The recipe is built from named ingredients, each one thing that handwriting has and typesetting
lacks. ``INGREDIENTS`` lists them in the order a pen would add them; the default recipe uses all of
them, and ``benchmarks/real_transfer.py`` measures what each one adds by leaving the later ones out.
The same recipe serves every script: nothing in it is tuned to one script's digits.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import albumentations as A
import cv2

from generator.normalize import WORKING_BOX
from generator.transforms import CoarseElastic, InkPressure, LeanAffine, LeanGridDistortion, PenStroke, StrokeGaps

# Simard et al. (2003) deformed 28x28 digits with sigma 4 and alpha 34. The glyph box here is twice
# MNIST's 20 px, so sigma doubles; the field's amplitude falls as 1/sigma, so alpha grows fourfold.
_SCALE = WORKING_BOX / 20
# Every geometric step samples bilinearly and fills what it uncovers with background (black).
_CANVAS_EDGES = {"interpolation": cv2.INTER_LINEAR, "border_mode": cv2.BORDER_CONSTANT, "fill": 0}
# Every shape-changing step acts in proportion to the glyph's clearance (``generator.transforms``):
# full strength from 6 px of room between strokes on the canvas (3 px in the 28x28 frame), down to
# 30 % for the tightest glyphs, whose parts a full-strength warp would run together.
_CLEARANCE_SCALE = (6.0, 0.3)
# A nib is never wider than this many times the glyph's clearance, so the pen cannot fill its gaps.
_WIDTH_PER_CLEARANCE = 1.75

# name -> what it adds, in pipeline order.
INGREDIENTS = {
    "elastic": "elastic deformation at the scale of the whole digit (Simard et al. 2003)",
    "affine": "slant, rotation, aspect and scale of the hand",
    "proportions": "uneven proportions: parts of the digit stretched or squeezed against the rest",
    "pen": "one pen's line: the glyph's centreline redrawn with a nib of random width and angle",
    "fine_elastic": "a second, finer elastic field: the wobble of a hand-drawn line",
    "ink": "uneven ink along the stroke",
    "gaps_overshoots": "small gaps where the pen skipped, and stroke ends that run on",
}
# The paper's recipe: elastic deformation of the exemplar and nothing else.
PLAIN = ("elastic",)


def check_ingredients(ingredients: Iterable[str]) -> tuple[str, ...]:
    """The ingredients in pipeline order; raises ValueError for an unknown one."""
    chosen = set(ingredients)
    unknown = sorted(chosen - set(INGREDIENTS))
    if unknown:
        raise ValueError(f"unknown recipe ingredient(s) {', '.join(unknown)}; choose from {', '.join(INGREDIENTS)}")
    return tuple(name for name in INGREDIENTS if name in chosen)


def build_recipe(ingredients: Iterable[str] = tuple(INGREDIENTS), seed: int | None = None) -> A.Compose:
    """A Compose of the chosen ingredients, in the order a pen would add them."""
    chosen = check_ingredients(ingredients)
    transforms: list[A.BasicTransform] = []
    if "pen" in chosen:
        # Nib 3-7 px on the canvas is 1.5-3.5 px in the 28x28 frame: MNIST's strokes are ~2-3 px.
        overshoot_p = 0.5 if "gaps_overshoots" in chosen else 0.0
        transforms.append(
            PenStroke(
                width=(3.0, 7.0),
                nib_ratio=(0.5, 1.0),
                overshoot=(1.0, 6.0),
                overshoot_p=overshoot_p,
                width_per_clearance=_WIDTH_PER_CLEARANCE,
                clearance_scale=_CLEARANCE_SCALE,
                p=0.9,
            )
        )
    if "affine" in chosen:
        transforms.append(
            LeanAffine(
                rotate=(-12, 12),
                shear={"x": (-18, 18), "y": (-5, 5)},
                scale={"x": (0.8, 1.15), "y": (0.9, 1.1)},
                clearance_scale=_CLEARANCE_SCALE,
                **_CANVAS_EDGES,
                p=0.9,
            )
        )
    if "proportions" in chosen:
        # A 4x4 grid whose lines move by up to 30 % of a cell: a loop grows while a tail shrinks.
        transforms.append(
            LeanGridDistortion(
                num_steps=4,
                distort_limit=(-0.3, 0.3),
                clearance_scale=_CLEARANCE_SCALE,
                **_CANVAS_EDGES,
                p=0.7,
            )
        )
    if "elastic" in chosen:
        transforms.append(_elastic(alpha=34, sigma=4, p=1.0))
    if "fine_elastic" in chosen:
        transforms.append(_elastic(alpha=6, sigma=1.5, p=0.7))
    if "ink" in chosen:
        transforms.append(InkPressure(low=(0.5, 0.9), cells=(2, 5), p=0.5))
    if "gaps_overshoots" in chosen:
        # Rare, single, and just wider than the line: real digits are mostly in one piece.
        transforms.append(StrokeGaps(gaps=(1, 1), size=(1.2, 2.0), relative_size=True, p=0.15))
    return A.Compose(transforms, seed=seed)


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
    return build_recipe(INGREDIENTS, seed)


def save_recipe(recipe: A.Compose, path: Path) -> None:
    A.save(recipe, str(path), data_format="json")


def load_recipe(path: Path) -> A.Compose:
    """A recipe saved by ``save_recipe``, or any albumentations pipeline saved as JSON."""
    import generator.transforms  # noqa: F401  (registers the custom transforms with albumentations' loader)

    return A.load(str(path), data_format="json")
