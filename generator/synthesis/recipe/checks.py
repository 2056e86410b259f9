"""Checks a recipe must pass before a run: it turns an exemplar canvas into a canvas of the same shape and
type with ink on it.
"""

from __future__ import annotations

import albumentations as A
import cv2
import numpy as np

from generator.errors import InputError
from generator.synthesis.normalize import EmptyImageError, mnist_normalize
from generator.synthesis.recipe.serialization import MAX_DEPTH, depth

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
    if depth(recipe) > MAX_DEPTH:
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
