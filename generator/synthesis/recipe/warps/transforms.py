"""Warps of the whole glyph: slant, rotation, aspect and scale (``LeanAffine``), uneven proportions
(``LeanGridDistortion``) and elastic deformation (``CoarseElastic``). Each is albumentations' own transform,
drawing the library's random numbers in its order, with its strength scaled to the glyph and its per-image
set-up cut; the arrays are built and warped by the kernels in ``functional.py``.

The library's warps spend most of their time on a 64 x 64 canvas outside OpenCV: building two affine matrices
where one is used, an ``allclose`` identity check, ten ``linspace`` calls for a distortion grid, and wrappers
that check channels. ``LeanAffine`` and ``LeanGridDistortion`` draw the same random numbers in the same order
and hand OpenCV the same matrix or map, so their output is the library's to the byte (tests compare them);
they only skip that set-up for single-channel images.

To draw the same numbers they call the library's private helpers (``_get_translate_params``,
``_get_shear_params``, ``_get_scale``) and read its ``py_random``. That is safe because pyproject.toml pins
albumentations to exactly 2.0.8, its last MIT release, which will not change; tests/test_transforms.py compares
both classes with the library's output byte for byte, so a change of pin that moved those helpers fails there
first.
"""

from __future__ import annotations

from typing import Any

import albumentations as A
import numpy as np
from albumentations.augmentations.geometric import functional as fgeometric

from generator.synthesis.glyph import INK
from generator.synthesis.normalize import ink_bounds
from generator.synthesis.recipe.core import GlyphScaled, strength
from generator.synthesis.recipe.warps import functional as fwarps


class CoarseElastic(GlyphScaled, A.ElasticTransform):
    """``ElasticTransform`` with its displacement field drawn on a coarse grid and interpolated.

    ElasticTransform draws a random vector for every pixel and smooths the field with a Gaussian
    of ``sigma`` pixels, so the field has no detail finer than ``sigma``; yet drawing and smoothing
    it at full size takes most of the transform's time on the recipe's canvas. Here the same field
    is drawn by the library's own generator on a grid with a node every ``sigma / 1.5`` pixels, with
    ``alpha`` and ``sigma`` in grid units, and resized bicubically to the image (as two small matrix
    products, equal to OpenCV's bicubic resize); the warp is the library's own.

    ``alpha`` and ``sigma`` mean what they mean to ElasticTransform. The library scales its noise
    by the noise's own maximum, which is smaller over the grid's fewer nodes, so the field is scaled
    back by the ratio of the two expected maxima: displacements are as large as the library's.

    ``clearance_scale=(reference, floor)`` multiplies ``alpha`` by the glyph's ``strength``, so a
    glyph with little room between its strokes is bent less (see ``clearance``).

    The library's ``approximate`` (a truncated smoothing kernel) has no meaning here, where the field
    is smoothed on the coarse grid; asking for it is refused rather than silently ignored.
    """

    def __init__(self, *args: Any, approximate: bool = False, **kwargs: Any):
        if approximate:
            raise ValueError("CoarseElastic draws its field on a coarse grid already; leave approximate=False")
        super().__init__(*args, **kwargs)

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        map_x, map_y = fwarps.coarse_elastic_maps(
            params["shape"][:2],
            self.alpha,
            self.sigma,
            self.same_dxdy,
            self.noise_distribution,
            self.random_generator,
            strength(data, self.clearance_scale),
        )
        return {"map_x": map_x, "map_y": map_y}

    def apply(self, img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, map_x, map_y, **params)
        map_xy = np.stack([map_x, map_y], axis=-1).astype(np.float32, copy=False)
        return fwarps.remap(img, map_xy, self.interpolation, self.border_mode, self.fill)


class LeanAffine(GlyphScaled, A.Affine):
    """``Affine``, pixel for pixel, with its per-image set-up cut for single-channel images.

    The library builds a second matrix for boxes and keypoints on every call; it is built here only
    when the call carries any. An output shape fitted to the warp (``fit_output``) is left to the library.

    ``clearance_scale=(reference, floor)`` scales the drawn rotation, shear and change of scale by
    the glyph's ``strength`` (single images only; with boxes or keypoints the library's draw stands).

    ``squeeze`` (0-1) draws a glyph whose ink is wider than tall narrower than its drawn scale says:
    its width is multiplied by ``(height / width) ** squeeze``, measured on the ink (at least half
    ink) of the single-channel image it is given. A hand keeps a numeral within about a square; 0 leaves
    the library's scale alone, 1 makes every wide glyph square. A glyph as tall as wide or taller is not
    changed.
    """

    def __init__(self, *args: Any, squeeze: float = 0.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not 0.0 <= squeeze <= 1.0:
            raise ValueError(f"squeeze {squeeze!r}: need a number from 0 to 1")
        self.squeeze = float(squeeze)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return (*super().get_transform_init_args_names(), "squeeze")

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        if self.fit_output or "bboxes" in data or "keypoints" in data:
            return super().get_params_dependent_on_data(params, data)
        image_shape = params["shape"][:2]
        # The library's own draws, in its order.
        translate = self._get_translate_params(image_shape)
        shear = self._get_shear_params()
        scale = self._get_scale(self.scale, self.keep_ratio, self.balanced_scale, self.py_random)
        rotate = self.py_random.uniform(*self.rotate)
        factor = strength(data, self.clearance_scale)
        if factor != 1.0:
            shear = {axis: value * factor for axis, value in shear.items()}
            scale = {axis: 1.0 + (value - 1.0) * factor for axis, value in scale.items()}
            rotate *= factor
        if self.squeeze and data["image"].ndim == 2:
            _, _, width, height = ink_bounds(data["image"], INK - 1)
            if width > height > 0:
                scale = {**scale, "x": scale["x"] * (height / width) ** self.squeeze}
        matrix = fgeometric.create_affine_transformation_matrix(
            translate, shear, scale, rotate, fgeometric.center(image_shape)
        )
        return {"rotate": rotate, "scale": scale, "matrix": matrix, "output_shape": image_shape}

    def apply(self, img: np.ndarray, matrix: np.ndarray, output_shape: tuple[int, int], **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, matrix, output_shape, **params)
        return fwarps.affine(img, matrix, output_shape, self.interpolation, self.border_mode, self.fill)


class LeanGridDistortion(GlyphScaled, A.GridDistortion):
    """``GridDistortion``, pixel for pixel, with its grid built in a few array operations.

    The library fills each axis of the grid cell by cell with ``linspace``; here each axis is one
    broadcast of the same arithmetic, and the two axes go to OpenCV as one map.

    ``clearance_scale=(reference, floor)`` scales each step's distortion by the glyph's ``strength``.
    """

    def get_params_dependent_on_data(self, params: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        height, width = params["shape"][:2]
        # The library's own draws, in its order.
        steps_x = [1 + self.py_random.uniform(*self.distort_limit) for _ in range(self.num_steps + 1)]
        steps_y = [1 + self.py_random.uniform(*self.distort_limit) for _ in range(self.num_steps + 1)]
        factor = strength(data, self.clearance_scale)
        if factor != 1.0:
            steps_x = [1 + (step - 1) * factor for step in steps_x]
            steps_y = [1 + (step - 1) * factor for step in steps_y]
        if self.normalized:
            normalized = fgeometric.normalize_grid_distortion_steps((height, width), self.num_steps, steps_x, steps_y)
            steps_x, steps_y = normalized["steps_x"], normalized["steps_y"]
        map_xy = fwarps.grid_distortion_map((height, width), steps_x, steps_y, self.num_steps)
        return {"map_x": map_xy[..., 0], "map_y": map_xy[..., 1], "map_xy": map_xy}

    def apply(self, img: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, **params: Any) -> np.ndarray:
        if img.ndim != 2:
            return super().apply(img, map_x, map_y, **params)
        return fwarps.remap(img, params["map_xy"], self.interpolation, self.border_mode, self.fill)
