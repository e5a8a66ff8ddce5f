"""Compatibility fixes for other libraries (tf-explain 0.3.1 on Keras 3)."""
