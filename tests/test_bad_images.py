"""Bad, odd and hostile images: load_image gives a correct picture or one clear
ImageLoadError; the models' input check refuses [0, 1] and non-finite images.

Hostile files (decompression bombs, truncated or corrupt PNGs) are built here.
"""

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.data.images import MAX_PIXELS, ImageLoadError, load_image, sample_image
from tests.peak_memory import peak_mib

ROOT = Path(__file__).resolve().parents[1]


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def png_bytes(width: int, height: int, with_data: bool = True) -> bytes:
    """A valid 8-bit grayscale PNG of zeros (compresses about 1000:1), or just its header."""
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    idat = b""
    if with_data:
        packer, rows = zlib.compressobj(9), b"\x00" * ((width + 1) * 1000)
        body = b"".join(packer.compress(rows) for _ in range(height // 1000))
        body += packer.compress(b"\x00" * ((width + 1) * (height % 1000))) + packer.flush()
        idat = _chunk(b"IDAT", body)
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + _chunk(b"IEND", b"")


def write(tmp_path, data: bytes, name="image.png") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- files
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"image file not found: .*nope\.png"):
        load_image(tmp_path / "nope.png")


def test_folder(tmp_path):
    with pytest.raises(ImageLoadError, match=r"is a folder, not an image file"):
        load_image(tmp_path)


@pytest.mark.parametrize(
    "data",
    [b"", b"just some text\n", b"\x89PNG\r\n\x1a\n", b"%PDF-1.4\n" + b"0" * 100],
    ids=["zero bytes", "text", "PNG signature only", "PDF"],
)
def test_not_an_image(tmp_path, data):
    with pytest.raises(ImageLoadError, match=r"is not an image that Pillow can read"):
        load_image(write(tmp_path, data))


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_png(tmp_path, fraction):
    data = sample_image("cat").read_bytes()
    path = write(tmp_path, data[: int(len(data) * fraction)])
    with pytest.raises(ImageLoadError, match=r"could not be read as an image: OSError"):
        load_image(path)


def test_corrupt_png_data(tmp_path):
    data = bytearray(png_bytes(64, 64))
    data[50:60] = b"\xff" * 10  # inside the compressed pixels
    with pytest.raises(ImageLoadError, match=r"could not be read as an image"):
        load_image(write(tmp_path, bytes(data)))


def test_zero_width_in_the_header(tmp_path):
    with pytest.raises(ImageLoadError, match=r"could not be read|not an image"):
        load_image(write(tmp_path, png_bytes(0, 10, with_data=False)))


# -------------------------------------------------------------------- size and bombs
def test_header_declaring_ten_gigapixels(tmp_path):
    path = write(tmp_path, png_bytes(100_000, 100_000, with_data=False))
    with pytest.raises(ImageLoadError, match=r"declares more than 179 megapixels .*bomb"):
        load_image(path)


@pytest.fixture(scope="module")
def png_bomb(tmp_path_factory):
    """A valid 12000 x 12000 PNG (144 megapixels of zeros) in a file of about 150 kB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(png_bytes(12_000, 12_000))
    return path


@pytest.mark.parametrize("size", [224, None])
def test_12000_square_png_is_refused_before_decoding(png_bomb, size):
    path = png_bomb
    assert path.stat().st_size < 300_000
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning must not escape
        with pytest.raises(ImageLoadError, match=r"12000 x 12000 = 144 megapixels, more than"):
            load_image(path, size=size)


def test_just_above_the_limit(tmp_path):
    path = write(tmp_path, png_bytes(5001, 5000))
    assert MAX_PIXELS < 5001 * 5000
    with pytest.raises(ImageLoadError, match=r"5001 x 5000 = 25 megapixels, more than the 25"):
        load_image(path)


@pytest.fixture(scope="module")
def big_jpeg(tmp_path_factory):
    """A 7000 x 4000 (28 megapixel) grayscale JPEG: a left-to-right ramp 0..255."""
    ramp = np.linspace(0, 255, 7000).astype(np.uint8)
    path = tmp_path_factory.mktemp("jpeg") / "big.jpg"
    Image.fromarray(np.broadcast_to(ramp, (4000, 7000)).copy()).save(path, quality=95)
    return path


def test_large_jpeg_is_decoded_at_reduced_scale(big_jpeg):
    img = load_image(big_jpeg, size=(224, 224))
    assert img.shape == (224, 224, 3)
    expected = (np.arange(224) + 0.5) / 224 * 255
    np.testing.assert_allclose(img[112, :, 0], expected, atol=4)
    np.testing.assert_array_equal(img[..., 0], img[..., 2])


def test_large_jpeg_at_full_size_is_refused(big_jpeg):
    with pytest.raises(ImageLoadError, match=r"7000 x 4000 = 28 megapixels"):
        load_image(big_jpeg, size=None)


@pytest.mark.parametrize("size", [100_000, (224, 5000), (4097, 1)])
def test_size_is_capped(size):
    with pytest.raises(ValueError, match=r"size must be at most 4096 pixels per side"):
        load_image(sample_image("cat"), size=size)


def test_huge_array_and_pil_image_are_refused():
    with pytest.raises(ImageLoadError, match=r"the array is 5001 x 5000 .*image\[::4, ::4\]"):
        load_image(np.zeros((5000, 5001), np.uint8))
    with pytest.raises(ImageLoadError, match=r"the PIL image is 5001 x 5000 .*reduce"):
        load_image(Image.new("L", (5001, 5000)))


def _peak_mib(target: str) -> tuple[str, float]:
    return peak_mib("helpers.data.images", "load_image", "ImageLoadError", target)  # size 224


def test_peak_memory_of_bombs_and_large_files(png_bomb, big_jpeg):
    assert _peak_mib("control")[1] > 190  # the measurement sees a 200 MiB allocation
    outcome, mib = _peak_mib(str(png_bomb))
    assert outcome == "ImageLoadError" and mib < 20  # decoded: 144 MB, 1.7 GB as floats
    outcome, mib = _peak_mib(str(big_jpeg))
    assert outcome == "loaded" and mib < 60  # decoded in full: 28 MB, 336 MB as floats


# ---------------------------------------------------------------------- odd modes
def _mode_image(mode: str) -> tuple[Image.Image, float]:
    """A 6 x 4 image of one value in ``mode`` and the gray level it should load as."""
    cases = {
        "1": (1, 255.0),
        "L": (100, 100.0),
        "LA": ((100, 255), 100.0),
        "P": (3, None),
        "I": (30000, 30000 * 255 / 65535),
        "I;16": (65535, 255.0),
        "F": (0.5, 127.5),
    }
    value, gray = cases[mode]
    img = Image.new(mode, (6, 4), value)
    if mode == "P":
        img.putpalette([0, 0, 0] * 3 + [80, 80, 80] + [0, 0, 0] * 252)
        gray = 80.0
    return img, gray


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "I", "I;16", "F"])
def test_odd_modes_from_files(tmp_path, mode):
    img, gray = _mode_image(mode)
    path = tmp_path / "odd.tiff"
    img.save(path)
    result = load_image(path, size=None)
    assert result.shape == (4, 6, 3) and result.dtype == np.float32
    np.testing.assert_allclose(result, gray, atol=0.01)


@pytest.mark.parametrize(
    ("mode", "value"), [("I;16B", 65535), ("I;16L", 13107), ("I", 70000), ("I", 200)]
)
def test_sixteen_bit_modes_in_either_byte_order(mode, value):
    img = Image.new(mode, (4, 3), value)
    if value > 65535:  # 32-bit integers beyond 16 bits: refused with the fix
        with pytest.raises(ImageLoadError, match=r"int32 pixels go up to 70000"):
            load_image(img, size=None)
    elif mode == "I" and value <= 255:  # 32-bit integers within [0, 255]: 8-bit values
        np.testing.assert_allclose(load_image(img, size=None), value)
    else:
        np.testing.assert_allclose(load_image(img, size=None), value * 255 / 65535, rtol=1e-6)


@pytest.mark.parametrize(
    ("mode", "color"),
    [("RGBA", (10, 20, 30, 255)), ("RGBa", (10, 20, 30, 255)), ("CMYK", (0, 0, 0, 0)),
     ("YCbCr", (128, 128, 128)), ("HSV", (0, 0, 128)), ("LAB", (50, 128, 128))],
)  # fmt: skip
def test_odd_modes_from_pil(mode, color):
    result = load_image(Image.new(mode, (5, 3), color), size=None)
    assert result.shape == (3, 5, 3) and result.dtype == np.float32
    assert result.min() >= 0 and result.max() <= 255
    if mode in ("RGBA", "RGBa"):
        np.testing.assert_allclose(result[0, 0], [10, 20, 30])
    if mode == "CMYK":
        np.testing.assert_allclose(result, 255)


# -------------------------------------------------------------------- value ranges
@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((4, 4), 0.5, np.float32), 127.5),  # [0, 1]: times 255
        (np.full((4, 4), 0.5, np.float16), 127.5),
        (np.full((4, 4), 200.0), 200.0),  # [0, 255] float64
        (np.array([[-0.5, 255.7]]), [0.0, 255.0]),  # resampling overshoot: clipped
        (np.full((4, 4), 200, np.int64), 200.0),  # integers in [0, 255]
        (np.full((4, 4), 65535, np.uint16), 255.0),  # 16 bit
        (np.ones((4, 4), bool), 255.0),
        (np.zeros((4, 4), np.float32), 0.0),  # black is black
    ],
)
def test_value_ranges_that_load(array, expected):
    result = load_image(array, size=None)
    np.testing.assert_allclose(result[..., 0], np.broadcast_to(expected, array.shape), rtol=1e-6)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.linspace(-1, 1, 48).reshape(4, 4, 3), r"a \[-1, 1\] image .*\(image \+ 1\) \* 127\.5"),
        (np.linspace(-123.7, 131.3, 48).reshape(4, 4, 3), r"down to -123.7\): it looks mean-sub"),
        (np.full((4, 4), 1000.0), r"float pixels go up to 1000, .*rescale first"),
        (np.array([[0, 128, 256]]), r"int64 pixels go up to 256, but 8-bit images stop at 255"),
        (np.array([[0, 70000]], np.uint32), r"uint32 pixels go up to 70000"),
        (np.array([[-5, 100]], np.int16), r"negative pixel values \(down to -5\)"),
        (np.array([[np.nan, 1.0]]), r"NaN or infinite"),
        (np.array([[np.inf, 1.0]], np.float32), r"NaN or infinite"),
        (np.array([[-np.inf, 100.0]]), r"NaN or infinite"),
        (np.ones((4, 4), complex), r"unsupported pixel type complex128"),
        (np.array([["a", "b"]]), r"unsupported pixel type <U1"),
        (np.zeros((0, 5, 3), np.uint8), r"image is empty"),
    ],
)  # fmt: skip
def test_value_ranges_that_are_refused(array, match):
    with pytest.raises(ImageLoadError, match=match):
        load_image(array, size=None)


def test_uint16_that_looks_8_bit_warns():
    with pytest.warns(UserWarning, match=r"uint16 pixels all <= 200: .*astype\(np.uint8\)"):
        result = load_image(np.full((4, 4), 200, np.uint16), size=None)
    np.testing.assert_allclose(result, 200 * 255 / 65535, rtol=1e-6)


# ------------------------------------------------- the models refuse [0, 1] and NaN
@pytest.fixture(scope="module")
def pixel_model():
    """A tiny model that, like the course's models, preprocesses [0, 255] pixels itself."""
    import keras

    from helpers.models.preprocessing import PixelPreprocessing

    keras.utils.set_random_seed(0)
    pixels = keras.Input((8, 8, 3), name="pixels")
    x = PixelPreprocessing("efficientnet_lite", name="preprocess")(pixels)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(3, name="logits")(x)
    return keras.Model(pixels, keras.layers.Softmax(name="predictions")(logits), name="tiny")


def _methods():
    import helpers

    return {
        "top_k": lambda m, x: helpers.top_k(m, x, k=2),
        "predict_logits": lambda m, x: helpers.predict_logits(m, x),
        "vanilla_gradients": lambda m, x: helpers.vanilla_gradients(m, x, 0),
        "gradient_x_input": lambda m, x: helpers.gradient_x_input(m, x, 0),
        "smoothgrad": lambda m, x: helpers.smoothgrad(m, x, 0, n=2),
        "integrated_gradients": lambda m, x: helpers.integrated_gradients(m, x, 0, steps=4),
        "grad_cam": lambda m, x: helpers.grad_cam(m, x, 0, layer="conv"),
        "occlusion": lambda m, x: helpers.occlusion(m, x, 0, patch=4, stride=4),
        "activations": lambda m, x: helpers.activations(m, x, "conv"),
        "deletion_curve": lambda m, x: helpers.deletion_curve(m, x, 0, np.ones((8, 8)), steps=2),
    }


METHODS = [
    "top_k", "predict_logits", "vanilla_gradients", "gradient_x_input", "smoothgrad",
    "integrated_gradients", "grad_cam", "occlusion", "activations", "deletion_curve",
]  # fmt: skip
RAMP = np.linspace(0, 1, 8 * 8 * 3, dtype=np.float32).reshape(8, 8, 3)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_refuses_a_zero_one_image(pixel_model, method):
    from helpers.models.scores import ImageValueError

    with pytest.raises(ImageValueError) as info:
        _methods()[method](pixel_model, RAMP)
    assert str(info.value) == (
        "this looks like a [0, 1] image (all values between 0 and 1); model 'tiny' takes RGB "
        "pixels in [0, 255]: multiply by 255 (helpers.load_image returns [0, 255])"
    )
    _methods()[method](pixel_model, RAMP * 255)  # the fix works


@pytest.mark.parametrize("method", ["top_k", "vanilla_gradients", "grad_cam", "occlusion"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_every_method_refuses_non_finite_images(pixel_model, method, bad):
    from helpers.models.scores import ImageValueError

    image = RAMP * 255
    image[3, 4, 1] = bad
    with pytest.raises(ImageValueError, match=r"^images contain NaN or infinite values$"):
        _methods()[method](pixel_model, image)


def test_minus_one_one_image_is_refused_with_its_fix(pixel_model):
    from helpers.models.scores import ImageValueError, top_k

    with pytest.raises(ImageValueError, match=r"\[-1, 1\] image .*\(image \+ 1\) \* 127\.5"):
        top_k(pixel_model, RAMP * 2 - 1, k=1)


def test_black_images_and_models_without_pixel_preprocessing_are_accepted(pixel_model):
    import keras

    from helpers.methods.gradients import vanilla_gradients
    from helpers.models.scores import predict_logits, top_k

    assert len(top_k(pixel_model, np.zeros((8, 8, 3), np.float32), k=1)) == 1
    # a dimmed path that includes the image itself (as Integrated Gradients builds)
    assert predict_logits(pixel_model, np.stack([0.001 * RAMP * 255, RAMP * 255])).shape == (2, 3)
    inputs = keras.Input((8, 8, 3))
    logits = keras.layers.Dense(2, name="logits")(keras.layers.Flatten()(inputs))
    plain = keras.Model(inputs, keras.layers.Softmax()(logits))
    assert vanilla_gradients(plain, RAMP, 0).shape == (8, 8, 3)  # its inputs may be [0, 1]


def test_the_real_model_refuses_a_zero_one_cat(lite0, cat):
    from helpers.models.scores import ImageValueError, top_k

    with pytest.raises(ImageValueError, match=r"model 'efficientnet_lite0' .*multiply by 255"):
        top_k(lite0, cat / 255.0)
