"""Saliency methods: the shared skeleton and compiled kernels,
the registry, one module per method family."""
