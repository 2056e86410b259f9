"""The dataset repository: what writes it (shards, root files, the card), checks it, publishes it and reads it back.

Nothing here imports ``generator.evaluation``.
"""
