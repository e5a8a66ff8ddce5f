"""Load images as float32 RGB arrays in [0, 255], whatever the file's mode.

Handles grayscale, palette, RGBA (composited on white), CMYK, 16-bit and 32-bit
integer or float images, and phone photos whose orientation is stored in EXIF.

Bounded: the output size and the decoded pixel count are capped, and a file's pixel count
is checked from its header before it is decoded (large JPEGs are decoded at a reduced
scale instead), so a decompression bomb gets a clear :class:`ImageLoadError`. Only regular
files of at most :data:`MAX_FILE_BYTES` are opened (a FIFO or a device given as the path
is refused before it is opened: reading it would block or never end).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..paths import DATA_DIR
from .files import UnreadableFileError, open_regular

#: The photos bundled in ``data/`` (sources and licences in ``data/SOURCES.md``).
SAMPLE_IMAGES: dict[str, Path] = {
    "cat": DATA_DIR / "cat.png",
    "espresso": DATA_DIR / "espresso.png",
    "rocket": DATA_DIR / "rocket.jpg",
    "grace_hopper": DATA_DIR / "grace_hopper.jpg",
}

ImageSize = int | tuple[int, int] | None

#: Largest output side ``size`` may ask for (the models take 224).
MAX_SIZE = 4096
#: Largest image decoded at full resolution: 25 megapixels (a 6000 x 4000 photo, about
#: 300 MB as float32 RGB). Larger JPEGs are decoded at 1/2, 1/4 or 1/8 scale when a
#: ``size`` is given; other large files are refused before decoding.
MAX_PIXELS = 25_000_000
#: Largest image file opened: a 25-megapixel 16-bit RGBA TIFF without compression is 200 MB.
MAX_FILE_BYTES = 256_000_000


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
        return _capped_size((size, size), size)
    if (
        isinstance(size, tuple)
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        return _capped_size(size, size)
    raise ValueError(f"size must be a positive int, a (height, width) pair or None, got {size!r}")


def _capped_size(target: tuple[int, int], size: ImageSize) -> tuple[int, int]:
    if max(target) > MAX_SIZE:
        raise ValueError(
            f"size must be at most {MAX_SIZE} pixels per side, got {size!r} "
            "(the models take 224; size=None keeps the picture's own size)"
        )
    return target


def _check_pixel_count(
    width: int, height: int, what: str, hint: str = "PIL.Image.open(path).reduce(4)"
) -> None:
    """Refuse images too large to decode into float32 RGB safely."""
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{what} is {width} x {height} = {width * height / 1e6:.0f} megapixels, more than the "
            f"{MAX_PIXELS / 1e6:.0f} allowed (a decompression bomb, or just too large): "
            f"shrink it first, e.g. {hint}"
        )


def _open_checked(path: Path, target: tuple[int, int] | None) -> np.ndarray:
    """Decode a file after checking its header's size; large JPEGs are decoded reduced."""
    try:
        file = open_regular(path, MAX_FILE_BYTES, str(path))
    except UnreadableFileError as exc:
        raise ImageLoadError(str(exc)) from None
    with file, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check ourselves
        try:
            img = Image.open(file)
            return _decode(img, path, target)
        except Image.DecompressionBombError:
            raise ImageLoadError(
                f"{path} declares more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels "
                f"in its header (a decompression bomb?); the limit is {MAX_PIXELS / 1e6:.0f}"
            ) from None


def _decode(img: Image.Image, path: Path, target: tuple[int, int] | None) -> np.ndarray:
    with img:
        width, height = img.size
        if width * height > MAX_PIXELS and target is not None and img.format == "JPEG":
            side = max(target)
            img.draft(img.mode, (side, side))  # decode at 1/2, 1/4 or 1/8 scale, >= target
            width, height = img.size
        _check_pixel_count(width, height, str(path))
        img.load()
        return _pil_to_array(img)


def _scale_to_255(values: np.ndarray) -> np.ndarray:
    """Map an array of any numeric dtype onto floats in [0, 255] (rules: ``load_image``)."""
    if values.dtype == np.bool_:
        return values.astype(np.float32) * 255.0
    if values.dtype == np.uint8:
        return values.astype(np.float32)
    if np.issubdtype(values.dtype, np.integer):
        return _scale_integers(values)
    if np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float32)
        if not np.all(np.isfinite(values)):
            raise ImageLoadError("image contains NaN or infinite values")
        low, high = float(values.min(initial=0.0)), float(values.max(initial=0.0))
        if low < -1.0:
            raise ImageLoadError(
                f"image has negative values (down to {low:.4g}): it looks mean-subtracted or "
                "preprocessed (e.g. by preprocess_input). The models take the original RGB "
                "pixels in [0, 255] and preprocess them themselves: pass those."
            )
        if low < 0.0 and high <= 1.0:
            raise ImageLoadError(
                f"this looks like a [-1, 1] image (values from {low:.3g} to {high:.3g}); "
                "the models take [0, 255]: pass (image + 1) * 127.5"
            )
        if high > 256.0:
            raise ImageLoadError(
                f"float pixels go up to {high:.6g}, but images are [0, 255] or [0, 1]: "
                "rescale first, e.g. image * (255 / image.max())"
            )
        if high <= 1.0:
            values = values * 255.0  # a [0, 1] float image
        return np.clip(values, 0.0, 255.0)
    raise ImageLoadError(f"unsupported pixel type {values.dtype}; use uint8, uint16 or float")


def _scale_integers(values: np.ndarray) -> np.ndarray:
    """uint16 is 16-bit ([0, 65535]); other integers must already be in [0, 255]."""
    low, high = int(values.min(initial=0)), int(values.max(initial=0))
    if low < 0:
        raise ImageLoadError(
            f"image has negative pixel values (down to {low}): pass the original pixels in "
            "[0, 255] (uint8) or [0, 65535] (uint16)"
        )
    if values.dtype.kind == "u" and values.dtype.itemsize == 2:  # uint16, either byte order
        if high <= 255 and high > 0:
            warnings.warn(
                f"uint16 pixels all <= {high}: read as 16-bit [0, 65535] (a nearly black "
                "image); if they are 8-bit values, pass image.astype(np.uint8)",
                stacklevel=4,
            )
        return values.astype(np.float32) * (255.0 / 65535.0)
    if high > 255:
        raise ImageLoadError(
            f"{values.dtype} pixels go up to {high}, but 8-bit images stop at 255: for a "
            "16-bit image pass image.astype(np.uint16) (read as [0, 65535]); for [0, 255] "
            "values with overshoots, np.clip(image, 0, 255)"
        )
    return values.astype(np.float32)


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
    if img.mode == "I":  # 32-bit integers; 16-bit PNGs may open this way
        values = np.asarray(img)
        if values.size and values.min() >= 0 and 255 < values.max() <= 65535:
            values = values.astype(np.uint16)  # 16-bit; up to 255 it stays 8-bit as before
        return _scale_to_255(values)
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "F"):
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
            At most ``MAX_SIZE`` (4096) per side.

    Grayscale is repeated to three channels; transparency is composited onto white;
    16-bit images are scaled from [0, 65535]; EXIF orientation is applied. Images above
    ``MAX_PIXELS`` (25 megapixels) are refused before decoding, except JPEGs loaded with a
    ``size``, which are decoded at a reduced scale still at least ``size``.

    Values, by type (anything else raises :class:`ImageLoadError` saying what to do):

    * uint8: as is. bool: False -> 0, True -> 255.
    * uint16: 16-bit, scaled from [0, 65535] (a warning if all values are <= 255: the
      picture is then nearly black; pass ``astype(np.uint8)`` if they are 8-bit values).
    * other integers: must lie in [0, 255]; negative values or values above 255 (a 16-bit
      image in int32? an off-by-one 256?) are refused with the fix.
    * floats: NaN or infinity is refused. All in [0, 1]: a [0, 1] image, multiplied by 255.
      Otherwise [0, 255]: overshoots from resampling within [-1, 256] are clipped. Refused:
      values in [-1, 1] with negatives (a [-1, 1] image: use ``(x + 1) * 127.5``), values
      below -1 (mean-subtracted / preprocessed: pass the original pixels), and values
      above 256 (rescale first).

    Raises:
        FileNotFoundError: the path does not exist.
        ImageLoadError: anything that is not a usable image (folder, not an image,
            truncated or corrupt file, too large, unsupported values); a ``ValueError``.
        ValueError: ``size`` is not a positive int or pair up to ``MAX_SIZE``.
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
            pixels = _open_checked(path, target)
        except ImageLoadError:
            raise
        except UnidentifiedImageError:
            raise ImageLoadError(
                f"{path} is not an image that Pillow can read "
                "(use PNG, JPEG, GIF, BMP, TIFF or WebP)"
            ) from None
        except Exception as exc:  # truncated or corrupt file: OSError, SyntaxError, ...
            raise ImageLoadError(
                f"{path} could not be read as an image: {type(exc).__name__}: {exc}"
            ) from None
    elif isinstance(source, Image.Image):
        _check_pixel_count(source.width, source.height, "the PIL image", "image.reduce(4)")
        pixels = _pil_to_array(source)
    elif isinstance(source, np.ndarray) or hasattr(source, "__array__"):
        array = np.asarray(source)
        if array.ndim >= 2:
            _check_pixel_count(array.shape[1], array.shape[0], "the array", "image[::4, ::4]")
        pixels = _scale_to_255(array)
    else:
        raise TypeError(
            "load_image takes a file path, a PIL image or a numpy array, "
            f"got {type(source).__name__}"
        )
    rgb = _to_rgb_array(pixels)
    return _resize(rgb, target) if target else rgb
