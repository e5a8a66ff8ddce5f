"""Evaluating maps: deletion/insertion curves and the model-randomization sanity check."""
