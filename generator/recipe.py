"""The augmentation recipe: an albumentations pipeline, kept as data.

The recipe works on the ``WORKING_SIZE`` canvas (white ink on black) before MNIST normalisation. It
is saved beside every config it made with albumentations' own serialisation, so that anyone can
reload it with ``albumentations.load(path)`` and rerun it on an exemplar canvas.
"""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import cv2

from generator.normalize import WORKING_BOX

# Simard et al. (2003) deformed 28x28 digits with sigma 4 and alpha 34. The glyph box here is twice
# MNIST's 20 px, so sigma doubles; the field's amplitude falls as 1/sigma, so alpha grows fourfold.
_SCALE = WORKING_BOX / 20


def default_recipe(seed: int | None = None) -> A.Compose:
    """What makes a typeset numeral look handwritten, in the order a pen would add it."""
    return A.Compose(
        [
            # Pen width: fonts draw thinner strokes than MNIST's writers did.
            A.Morphological(scale=(2, 5), operation="dilation", p=0.7),
            # Slant, rotation, aspect and size of the hand.
            A.Affine(
                rotate=(-12, 12),
                shear={"x": (-18, 18), "y": (-5, 5)},
                scale={"x": (0.8, 1.15), "y": (0.9, 1.1)},
                interpolation=cv2.INTER_LINEAR,
                border_mode=cv2.BORDER_CONSTANT,
                fill=0,
                p=0.9,
            ),
            # The heart of it: a smooth random displacement field, as in Simard et al.
            A.ElasticTransform(
                alpha=34 * _SCALE**2,
                sigma=4 * _SCALE,
                interpolation=cv2.INTER_LINEAR,
                border_mode=cv2.BORDER_CONSTANT,
                fill=0,
                p=1.0,
            ),
        ],
        seed=seed,
    )


def save_recipe(recipe: A.Compose, path: Path) -> None:
    A.save(recipe, str(path), data_format="json")


def load_recipe(path: Path) -> A.Compose:
    return A.load(str(path), data_format="json")
