"""Models: loading (VGG16 or EfficientNet-Lite0 from its offline weights),
preprocessing, layers and the class scores (logits)."""
