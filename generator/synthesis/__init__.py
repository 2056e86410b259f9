"""Synthesis: numeral systems' fonts and handwritten seeds in, finished 28x28 images out.

Exemplars are rendered and normalised, deformed by the recipe, checked by sanitation, and drawn in
chunks by worker processes. Nothing here knows about shards, the dataset repository or evaluation.
"""
