"""load_image: every file mode becomes float32 RGB in [0, 255]."""

import numpy as np
import pytest
from PIL import Image

from helpers.data.images import SAMPLE_IMAGES, ImageLoadError, load_image, sample_image


def _check_rgb(img, shape):
    assert img.dtype == np.float32
    assert img.shape == shape
    assert img.min() >= 0.0 and img.max() <= 255.0


@pytest.mark.parametrize("name", sorted(SAMPLE_IMAGES))
def test_bundled_samples_load(name):
    img = load_image(sample_image(name))
    _check_rgb(img, (224, 224, 3))
    assert img.std() > 20  # a real photo, not a blank


def test_keeps_size_and_orientation_when_asked():
    img = load_image(sample_image("cat"), size=None)
    _check_rgb(img, (300, 451, 3))  # landscape: 300 rows, 451 columns
    _check_rgb(load_image(sample_image("cat"), size=(100, 150)), (100, 150, 3))


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = (np.arange(40 * 60).reshape(40, 60) % 256).astype(np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    img = load_image(tmp_path / "g.png", size=None)
    _check_rgb(img, (40, 60, 3))
    np.testing.assert_array_equal(img[..., 0], gray)
    np.testing.assert_array_equal(img[..., 0], img[..., 2])


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 200  # red...
    rgba[:5, :, 3] = 255  # ...opaque on top, fully transparent below
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    img = load_image(tmp_path / "a.png", size=None)
    np.testing.assert_array_equal(img[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(img[9, 9], [255, 255, 255])


def test_palette_image(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = (0, 128, 255)
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(
        tmp_path / "p.png"
    )
    img = load_image(tmp_path / "p.png", size=None)
    np.testing.assert_allclose(img[0, 7], [0, 128, 255], atol=2)
    np.testing.assert_allclose(img[0, 0], [0, 0, 0], atol=2)


def test_sixteen_bit_grayscale_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 16384, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    img = load_image(tmp_path / "g16.png", size=None)
    np.testing.assert_allclose(img[0, :, 0], [0, 63.75, 127.5, 255], atol=0.01)


def test_exif_rotation_is_applied(tmp_path):
    wide = np.zeros((20, 40, 3), np.uint8)
    wide[:, :20] = 255  # white on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.fromarray(wide).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    img = load_image(tmp_path / "phone.jpg", size=None)
    assert img.shape == (40, 20, 3)  # displayed upright: now tall
    assert img[:15].mean() > 200 and img[25:].mean() < 50  # the white half is now on top


def test_cmyk_jpeg(tmp_path):
    Image.new("CMYK", (6, 4), (0, 255, 255, 0)).save(tmp_path / "c.jpg")  # red in CMYK
    img = load_image(tmp_path / "c.jpg", size=None)
    _check_rgb(img, (4, 6, 3))
    assert img[..., 0].mean() > 200 and img[..., 1].mean() < 60


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((4, 4), 0.5, np.float32), 127.5),  # [0, 1] floats
        (np.full((4, 4, 3), 100.0), 100.0),  # [0, 255] floats
        (np.full((4, 4, 1), 7, np.uint8), 7.0),
        (np.full((4, 4, 3), 65535, np.uint16), 255.0),
        (np.ones((4, 4), bool), 255.0),
    ],
)
def test_arrays(array, expected):
    img = load_image(array, size=None)
    _check_rgb(img, (4, 4, 3))
    np.testing.assert_allclose(img, expected, rtol=1e-6)


def test_pil_image_input():
    img = load_image(Image.new("RGB", (30, 20), (1, 2, 3)), size=None)
    np.testing.assert_array_equal(img[0, 0], [1, 2, 3])


def test_missing_file_names_path_and_samples(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.jpg.*sample_image"):
        load_image(tmp_path / "nope.jpg")


def test_not_an_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("this is text")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(tmp_path / "notes.jpg")


def test_truncated_image(tmp_path):
    data = sample_image("grace_hopper").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    with pytest.raises(ImageLoadError, match="could not be read"):
        load_image(tmp_path / "cut.jpg")


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("shape", [(1, 8, 8, 3), (8, 8, 5), (8,)])
def test_bad_array_shapes(shape):
    with pytest.raises(ImageLoadError, match="expected an image of shape"):
        load_image(np.zeros(shape, np.uint8))


def test_nan_array():
    with pytest.raises(ImageLoadError, match="NaN"):
        load_image(np.full((4, 4, 3), np.nan, np.float32))


@pytest.mark.parametrize("size", [0, -3, (224,), "224", 2.5])
def test_bad_size(size):
    with pytest.raises(ValueError, match="size must be"):
        load_image(sample_image("cat"), size=size)


def test_unknown_sample():
    with pytest.raises(ValueError, match="choose one of"):
        sample_image("banana")


def test_wrong_source_type():
    with pytest.raises(TypeError, match="file path, a PIL image or a numpy array"):
        load_image(42)
