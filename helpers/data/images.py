"""Load images as float32 RGB arrays in [0, 255], whatever the file's mode.

Handles grayscale, palette, RGBA (composited on white), CMYK, 16-bit and 32-bit
integer or float images, and phone photos whose orientation is stored in EXIF.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..paths import DATA_DIR

#: The photos bundled in ``data/`` (sources and licences in ``data/SOURCES.md``).
SAMPLE_IMAGES: dict[str, Path] = {
    "cat": DATA_DIR / "cat.png",
    "espresso": DATA_DIR / "espresso.png",
    "rocket": DATA_DIR / "rocket.jpg",
    "grace_hopper": DATA_DIR / "grace_hopper.jpg",
}

ImageSize = int | tuple[int, int] | None


class ImageLoadError(ValueError):
    """A file or array that cannot be turned into an RGB image."""


def sample_image(name: str) -> Path:
    """Path of a bundled photo: 'cat', 'espresso', 'rocket' or 'grace_hopper'."""
    try:
        path = SAMPLE_IMAGES[name]
    except KeyError:
        raise ValueError(
            f"no bundled image called {name!r}; choose one of {sorted(SAMPLE_IMAGES)}"
        ) from None
    if not path.is_file():
        raise FileNotFoundError(f"bundled image {name!r} is missing: {path} (is data/ complete?)")
    return path


def _target_size(size: ImageSize) -> tuple[int, int] | None:
    if size is None:
        return None
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return (size, size)
    if (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        return size
    raise ValueError(f"size must be a positive int, a (height, width) pair or None, got {size!r}")


def _scale_to_255(values: np.ndarray) -> np.ndarray:
    """Map an array of any numeric dtype onto floats in [0, 255]."""
    if values.dtype == np.bool_:
        return values.astype(np.float32) * 255.0
    if values.dtype == np.uint8:
        return values.astype(np.float32)
    if np.issubdtype(values.dtype, np.integer):
        top = 65535.0 if values.max(initial=0) > 255 else 255.0
        return np.clip(values.astype(np.float32) * (255.0 / top), 0.0, 255.0)
    if np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageLoadError("image contains NaN or infinite values")
        if values.max(initial=0.0) <= 1.0 and values.min(initial=0.0) >= 0.0:
            values = values * 255.0  # a [0, 1] float image
        return np.clip(values, 0.0, 255.0)
    raise ImageLoadError(f"unsupported pixel type {values.dtype}; use uint8, uint16 or float")


def _to_rgb_array(values: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) in [0, 255] -> float32 (H, W, 3)."""
    if values.ndim == 2:
        values = values[:, :, None]
    if values.ndim != 3 or values.shape[2] not in (1, 2, 3, 4):
        hint = " (a batch? pass one image, e.g. images[0])" if values.ndim == 4 else ""
        raise ImageLoadError(
            f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got {values.shape}{hint}"
        )
    if values.shape[0] < 1 or values.shape[1] < 1:
        raise ImageLoadError(f"image is empty: shape {values.shape}")
    channels = values.shape[2]
    if channels in (2, 4):  # gray+alpha or RGBA: composite onto white
        alpha = values[:, :, -1:] / 255.0
        values = values[:, :, :-1] * alpha + 255.0 * (1.0 - alpha)
    if values.shape[2] == 1:
        values = np.repeat(values, 3, axis=2)
    return values.astype(np.float32)


def _pil_to_array(img: Image.Image) -> np.ndarray:
    img = ImageOps.exif_transpose(img)  # phone photos: apply the EXIF rotation
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        return _scale_to_255(np.asarray(img))
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("PA", "La"):
        img = img.convert("RGBA")
    elif img.mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGB")  # CMYK, YCbCr, LAB, HSV...
    return np.asarray(img).astype(np.float32)


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear (antialiased) resize of a float (H, W, 3) array to (height, width)."""
    height, width = size
    if rgb.shape[:2] == (height, width):
        return rgb
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(rgb[:, :, c])).resize(
                (width, height), Image.Resampling.BILINEAR
            )
        )
        for c in range(3)
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 255.0).astype(np.float32)


def load_image(source: str | Path | np.ndarray | Image.Image, size: ImageSize = 224) -> np.ndarray:
    """Load an image as float32 RGB of shape (height, width, 3) with values in [0, 255].

    Args:
        source: a file path, a PIL image, or an array (H, W), (H, W, 1|3|4) of uint8,
            uint16, bool, or float ([0, 1] or [0, 255]).
        size: 224 -> 224x224 (the whole picture, squeezed if not square, as Keras'
            ``load_img(target_size=...)`` does); (height, width); or None to keep the size.

    Grayscale is repeated to three channels; transparency is composited onto white;
    16-bit images are scaled from [0, 65535]; EXIF orientation is applied.
    """
    target = _target_size(size)
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(
                f"image file not found: {path} (working folder: {Path.cwd()}). "
                f"Bundled photos: helpers.sample_image(name) with name in {sorted(SAMPLE_IMAGES)}."
            )
        if path.is_dir():
            raise ImageLoadError(f"{path} is a folder, not an image file")
        try:
            with Image.open(path) as img:
                img.load()
                pixels = _pil_to_array(img)
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{path} is not an image that Pillow can read "
                "(use PNG, JPEG, GIF, BMP, TIFF or WebP)"
            ) from None
        except OSError as exc:  # truncated or corrupt file
            raise ImageLoadError(f"{path} could not be read as an image: {exc}") from None
    elif isinstance(source, Image.Image):
        pixels = _pil_to_array(source)
    elif isinstance(source, np.ndarray) or hasattr(source, "__array__"):
        pixels = _scale_to_255(np.asarray(source))
    else:
        raise TypeError(
            "load_image takes a file path, a PIL image or a numpy array, "
            f"got {type(source).__name__}"
        )
    rgb = _to_rgb_array(pixels)
    return _resize(rgb, target) if target else rgb
