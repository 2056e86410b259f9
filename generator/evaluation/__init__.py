"""Evaluation: baselines, real handwriting, shape statistics and figures, read from generated configs."""
