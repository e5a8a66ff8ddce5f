"""Data: images (loading, bundled sample photos) and ImageNet labels."""
