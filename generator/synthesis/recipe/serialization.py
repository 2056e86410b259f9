"""A recipe saved beside the shards it made, and loaded back: albumentations' own JSON serialisation.

Each transform of the recipe is named in ``recipe.json`` as ``generator.transforms.<class>``
(``generator.synthesis.recipe.core.RECIPE_NAMESPACE``), the name it had when every transform lived in one
module: every ``recipe.json`` saved since 0.3 still loads, and the same recipe saves to the same bytes.
Albumentations finds a class by that name once its module is imported; this package imports them all.
"""

from __future__ import annotations

from pathlib import Path

import albumentations as A

from generator.errors import InputError, one_line


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
    if depth(recipe) > MAX_DEPTH:
        raise InputError(f"--recipe {path} nests transforms more than {MAX_DEPTH} deep; flatten it")
    return recipe


# Deeper pipelines than this are no recipe anyone writes, and would exhaust Python's stack when saved.
MAX_DEPTH = 32


def depth(transform: object, limit: int = MAX_DEPTH + 1) -> int:
    """How deep Composes nest in ``transform`` (a bare transform is 0), counted no further than ``limit``."""
    children = getattr(transform, "transforms", None)
    if not children or limit == 0:
        return 0
    return 1 + max(depth(child, limit - 1) for child in children)
