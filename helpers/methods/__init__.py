"""Saliency methods: the shared skeleton and compiled kernels,
the registry, one module per method family."""

from . import registry_black_box  # noqa: F401  (registers RISE, LIME, KernelSHAP, XRAI)
