"""Checks a recipe must pass before a run: its arguments are within bounds, every step keeps the canvas's shape
and type, it leaves ink, and it draws an image in bounded time.
"""

from __future__ import annotations

import math
import time
from typing import Any

import albumentations as A
import cv2
import numpy as np

from generator.errors import InputError
from generator.synthesis.normalize import WORKING_SIZE, EmptyImageError, mnist_normalize
from generator.synthesis.recipe.serialization import MAX_DEPTH, depth

# A recipe that leaves no ink this many times running, on one exemplar, erases the digits.
_TRIALS = 20
# What a transform raises on an image it cannot take (OpenCV's own error among them).
_TRANSFORM_ERRORS = (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, cv2.error)
# No number among a step's arguments (a size, an angle, a scale, a kernel, a count) may lie further from zero: on
# the 64-pixel working canvas nothing larger has a use (a full turn is 360 degrees; the default recipe's largest
# number is 136, an elastic field's alpha), and a larger kernel or grid only costs time. A GaussianBlur with a
# blur_limit of 100,001 made 250 images take 101 s.
MAX_ARGUMENT = 1000
# A recipe may take this long, in CPU milliseconds, for an image on an exemplar with every step applied; the
# default takes about 1. A 70,000-image config at the limit takes an hour on one core. Defocus with a
# radius of 999, within MAX_ARGUMENT, takes about 185.
MAX_MILLISECONDS_PER_IMAGE = 50.0
# Draws of the recipe, every step applied, on which its shape and type are checked and its time measured.
_FORCED_DRAWS = 8


def check_arguments(recipe: A.BasicTransform) -> None:
    """Refuses a step with an argument that is not a finite number within ``MAX_ARGUMENT`` of zero, or ``p``
    outside 0-1.

    Raises:
        InputError: names the step, the argument and its value.
    """
    steps = [A.to_dict(recipe)["transform"]]
    while steps:
        step = steps.pop()
        name = step.get("__class_fullname__", "?")
        steps += step.get("transforms", [])
        probability = step.get("p", 1.0)
        if isinstance(probability, (int, float)) and not 0 <= probability <= 1:
            raise InputError(f"the recipe's {name} has p={probability!r}; give a chance from 0 to 1")
        for key, value in step.items():
            if key in ("__class_fullname__", "transforms", "p"):
                continue
            bad = _out_of_bounds(value)
            if bad is not None:
                raise InputError(
                    f"the recipe's {name} has {key}={_short(value)}: {bad!r} is not a finite number within "
                    f"{MAX_ARGUMENT} of zero, which bounds every argument of a recipe on the "
                    f"{WORKING_SIZE}-pixel canvas; give a smaller one"
                )


def _out_of_bounds(value: Any) -> float | None:
    """The first number in ``value`` (nested lists, tuples and dicts) that is not finite or lies beyond
    ``MAX_ARGUMENT``; None when there is none."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, (int, float)):
        return value if not (math.isfinite(value) and abs(value) <= MAX_ARGUMENT) else None
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
    for item in items:
        bad = _out_of_bounds(item)
        if bad is not None:
            return bad
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _every_step_applied(recipe: A.Compose) -> A.Compose:
    """A copy of ``recipe`` in which every step that may run (p > 0), and every Compose, runs every time."""
    forced = A.from_dict(A.to_dict(recipe))
    pending = [forced]
    while pending:
        transform = pending.pop()
        if transform.p > 0:
            transform.p = 1.0
        pending += list(getattr(transform, "transforms", []))
    return forced


def _check_output(image: object, canvas: np.ndarray, every_step: bool) -> None:
    if not isinstance(image, np.ndarray) or image.shape != canvas.shape or image.dtype != canvas.dtype:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        when = " when each of its steps is applied" if every_step else ""
        raise InputError(
            f"the recipe turns a {canvas.dtype} {canvas.shape} canvas into {got}{when}; its output must keep the "
            "canvas's shape and type (leave out Resize, ToRGB, Normalize and the like)"
        )


def _run(trial: A.Compose, canvas: np.ndarray) -> object:
    try:
        return trial(image=canvas.copy())["image"]
    except _TRANSFORM_ERRORS as exc:
        raise InputError(f"the recipe fails on an exemplar ({type(exc).__name__}: {exc}); fix the recipe") from None


def check_recipe(recipe: object, canvas: np.ndarray) -> None:
    """Refuses, before a run, a recipe that does not turn a canvas into a canvas with ink on it.

    Its arguments are checked first (``check_arguments``). Then copies of it run on ``canvas`` (an exemplar), so
    that the run's own random state is untouched: one with every step applied, whatever its ``p``, for
    ``_FORCED_DRAWS`` draws, so that a step that changes the image's shape is caught however seldom it runs, and
    timed; then the recipe itself, until a draw leaves ink. Every output must have the canvas's shape and type.

    Raises:
        InputError: the recipe is not a Compose, has an argument out of bounds, fails on the canvas, returns
            another shape or type, takes more than ``MAX_MILLISECONDS_PER_IMAGE`` an image, or erases the digit
            ``_TRIALS`` times running.
    """
    if not isinstance(recipe, A.Compose):
        raise InputError(f"the recipe is a single {type(recipe).__name__}; wrap it in albumentations.Compose([...])")
    if depth(recipe) > MAX_DEPTH:
        raise InputError(f"the recipe nests transforms more than {MAX_DEPTH} deep; flatten it")
    check_arguments(recipe)
    forced = _every_step_applied(recipe)
    forced.set_random_seed(0)
    started, budget = time.process_time(), MAX_MILLISECONDS_PER_IMAGE * _FORCED_DRAWS / 1000
    for draw in range(1, _FORCED_DRAWS + 1):
        _check_output(_run(forced, canvas), canvas, every_step=True)
        spent = time.process_time() - started
        if spent > budget:  # over the whole check's budget already: an average above the limit, known early
            raise InputError(
                f"the recipe takes {spent * 1000 / draw:.0f} ms of CPU an image on an exemplar with every step "
                f"applied, more than {MAX_MILLISECONDS_PER_IMAGE:.0f}; make its heaviest step lighter (a smaller "
                "kernel, field, grid or number of iterations)"
            )
    trial = A.from_dict(A.to_dict(recipe))
    trial.set_random_seed(0)
    for _ in range(_TRIALS):
        image = _run(trial, canvas)
        _check_output(image, canvas, every_step=False)
        try:
            mnist_normalize(image)
        except EmptyImageError:
            continue
        return
    raise InputError(f"the recipe erased the digit {_TRIALS} times running on an exemplar; make it keep some ink")
