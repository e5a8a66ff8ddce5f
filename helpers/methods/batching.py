"""The skeleton every method shares: input checks, class resolution, chunking, un-batching,
and progress.

A method is written as::

    batch, classes, single, size = prepare(model, image, class_index, batch_size)
    with progress_bar(total, progress, "My method") as advance:
        for part in chunks(total, size):
            ...                      # one chunk through the network
            advance(part.stop - part.start)
    return unbatch(result, single)
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator, Sequence

import keras
import numpy as np

from ..data.labels import check_class_index
from ..environment import BATCH_SIZE_ENV_VAR, env_whole_number
from ..models.scores import image_batch, num_classes

#: Memory the layer outputs of one chunk may take (values kept for the backward pass).
DEFAULT_MEMORY_BUDGET = 1 << 30  # 1 GiB
MAX_BATCH_SIZE = 32
#: ``$COURSE_BATCH_SIZE`` (a whole number) fixes the chunk size of every method that chooses
#: its own (``batch_size=None``). CI runs the notebooks a second time with another chunk size,
#: so an assert that holds for one float32 summation order only fails there, not in a classroom.
BATCH_SIZE_VARIABLE = BATCH_SIZE_ENV_VAR


_ACTIVATION_BYTES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def activation_bytes_per_image(model: keras.Model) -> int:
    """Bytes of all layer outputs for one image (float32): what a backward pass keeps."""
    if model not in _ACTIVATION_BYTES:
        _ACTIVATION_BYTES[model] = _sum_output_bytes(model)
    return _ACTIVATION_BYTES[model]


def _sum_output_bytes(model: keras.Model) -> int:
    total = 0
    for layer in model.layers:
        output = getattr(layer, "output", None)
        if output is None or isinstance(output, (list, tuple)):
            continue
        total += int(np.prod([d for d in output.shape[1:] if d is not None]))
    return 4 * total


def auto_batch_size(model: keras.Model, budget_bytes: int = DEFAULT_MEMORY_BUDGET) -> int:
    """How many images to push through forward+backward at once to stay within the budget.

    Counts every layer output once. That is conservative: TensorFlow frees and fuses
    intermediate results, and the measured extra memory per image in a chunk is about a
    third of this estimate (about 30 MB for EfficientNet-Lite0, 22 MB for VGG16 on 224 x 224
    images). With the default 1 GiB, EfficientNet-Lite0 gets 13 and VGG16 17.
    ``$COURSE_BATCH_SIZE`` (a whole number from 1 to 1024), when set, is returned instead.
    """
    fixed = env_whole_number(BATCH_SIZE_VARIABLE)  # checked: CourseSettingError otherwise
    if fixed is not None:
        return fixed
    per_image = activation_bytes_per_image(model)
    return int(np.clip(budget_bytes // max(per_image, 1), 1, MAX_BATCH_SIZE))


def resolve_batch_size(model: keras.Model, batch_size: int | None) -> int:
    """``batch_size`` if given (checked), else :func:`auto_batch_size`."""
    if batch_size is None:
        return auto_batch_size(model)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
    return batch_size


def checked_images(model: keras.Model, images: np.ndarray) -> tuple[np.ndarray, bool]:
    """A float32 batch that fits the model, and whether the caller passed a single image."""
    single = np.ndim(images) == len(model.inputs[0].shape) - 1
    batch = image_batch(model, images)
    if not np.all(np.isfinite(batch)):
        raise ValueError("images contain NaN or infinite values")
    return batch, single


def class_indices(
    model: keras.Model, class_index: int | Sequence[int], n_images: int
) -> np.ndarray:
    """One checked class index per image (a single index is used for all)."""
    n_classes = num_classes(model)
    if np.ndim(class_index) == 0:
        return np.full(n_images, check_class_index(class_index, n_classes), dtype=np.int32)
    indices = [check_class_index(i, n_classes) for i in class_index]
    if len(indices) != n_images:
        raise ValueError(f"got {len(indices)} class indices for {n_images} images")
    return np.asarray(indices, dtype=np.int32)


def chunks(total: int, size: int) -> Iterator[slice]:
    """Slices that cover range(total) in pieces of at most ``size``, as equal as possible
    (65 in pieces of 17: 17, 16, 16, 16; never a last piece of 1, which runs inefficiently)."""
    count = -(-total // size)  # ceiling division
    start = 0
    for i in range(count):
        stop = start + total // count + (1 if i < total % count else 0)
        yield slice(start, stop)
        start = stop


def unbatch(result: np.ndarray, single: bool) -> np.ndarray:
    """Drop the batch axis again when the caller gave one image."""
    return result[0] if single else result


#: ``progress=`` of every method: None shows a ``tqdm.auto`` bar when the work takes more
#: than one chunk, False shows nothing, a function receives the fraction done (0..1).
Progress = Callable[[float], None] | bool | None


def prepare(
    model: keras.Model, image: np.ndarray, class_index: int | Sequence[int], batch_size: int | None
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """``(batch, class per image, single image given?, chunk size)``, all checked."""
    batch, single = checked_images(model, image)
    classes = class_indices(model, class_index, len(batch))
    return batch, classes, single, resolve_batch_size(model, batch_size)


@contextlib.contextmanager
def progress_bar(total: int, progress: Progress, description: str, chunk: int = 1):
    """Yields ``advance(count)``; reports ``total`` units of work as ``progress`` asks.

    A bar (``tqdm.auto``: notebook, Colab or terminal, removed when done) only when
    ``progress`` is None and the work spans more than one chunk of ``chunk`` units.
    """
    done = 0
    if callable(progress):

        def advance(count: int) -> None:
            nonlocal done
            done += count
            progress(min(done / max(total, 1), 1.0))

        yield advance
        return
    if progress is False or (progress is None and total <= chunk):
        yield lambda count: None
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=description, leave=False) as bar:
        yield bar.update
