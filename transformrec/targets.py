"""Target conventions shared by transforms, data-set adapters and losses.

Kept in a module of its own, importing nothing, so that data sets which build targets before
decoding (temporal clips, view pairs) and the transforms that hand those data sets to the Trainer
can both use it without importing each other.
"""

IGNORE_INDEX = -100
"""Target value meaning "no target for this head on this sample" (``cross_entropy``'s ignore index)."""
