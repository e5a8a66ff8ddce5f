"""Read a PyTorch *legacy* (pre-1.6, non-zip) state-dict file with numpy alone.

The legacy format is: three small pickles (magic number, protocol version, system
info), the pickled state dict (tensors point at storages through ``persistent_load``),
a pickled list of storage keys, then for each key an int64 element count followed by
the raw little-endian bytes.

The file is untrusted input, so nothing in it is believed before it is checked:

* The pickles are read by :class:`~helpers.models.torch_pickle.RestrictedUnpickler`, which knows
  only the few globals and instructions of a state dict and refuses any other global
  *before* it could run (:class:`UnsafeWeightsError`).
* Every tensor's shape, stride and offset is checked against its storage's declared size
  (no out-of-bounds or negative strides, no more elements than the storage holds), the
  declared storages against the bytes actually left in the file, and the total against
  ``max_bytes`` (about 2x EfficientNet-Lite0's weights) *before* any array is allocated.
  All of this arithmetic is done on Python integers and bounded (:data:`MAX_INDEX`)
  before NumPy sees a number: an empty tensor of size (0, 2**62, 2**62), whose product
  NumPy cannot even represent, is refused like the rest. Storages are then read in
  bounded chunks.

Every malformed file raises :class:`WeightsFormatError`, every refused global
:class:`UnsafeWeightsError`; both are :class:`WeightsFileError` (a ``ValueError``) and
name what was wrong.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .torch_pickle import (
    MAX_PICKLE_BYTES,
    MAX_PICKLE_OPS,
    SHORT_REPR,
    STORAGE_DTYPES,
    RestrictedUnpickler,
    StorageRef,
    TensorRef,
    UnsafeWeightsError,
    WeightsFileError,
    WeightsFormatError,
    describe,
    load_section,
    short_name,
)

__all__ = [
    "LEGACY_MAGIC_NUMBER",
    "LEGACY_PROTOCOL_VERSION",
    "MAX_PICKLE_BYTES",
    "MAX_PICKLE_OPS",
    "MAX_WEIGHT_BYTES",
    "STORAGE_DTYPES",
    "RestrictedUnpickler",
    "UnsafeWeightsError",
    "WeightsFileError",
    "WeightsFormatError",
    "load_legacy_state_dict",
]

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

#: EfficientNet-Lite0's file holds 4,694,073 values in 18.8 MB of storages.
LITE0_WEIGHT_BYTES = 18_776_356
#: Default limit on storages plus copies made while loading: about 2x Lite0's weights.
MAX_WEIGHT_BYTES = 40_000_000
#: Largest element count, offset or reach any shape, stride or storage may declare, even
#: an empty tensor's (NumPy's sizes are 64-bit: (0, 2**62, 2**62) overflows them).
MAX_INDEX = 2**40
_CHUNK_BYTES = 1 << 20
_SECTIONS = ("magic number", "protocol version", "system info", "state dict", "storage keys")


def _check_tensor(name: str, tensor: TensorRef) -> None:
    """Refuse any view that reads outside its storage or repeats its elements."""
    where = f"tensor '{short_name(name)}'"
    shape, stride, offset, n = tensor.shape, tensor.stride, tensor.offset, tensor.storage.numel
    if len(shape) != len(stride):
        raise WeightsFormatError(f"{where} has size {shape} but stride {stride}")
    if any(s < 0 for s in shape):
        raise WeightsFormatError(f"{where} has a negative size {shape}")
    if any(s < 0 for s in stride):
        raise WeightsFormatError(f"{where} has a negative stride {stride}")
    if not 0 <= offset <= n:
        raise WeightsFormatError(
            f"{where} starts at offset {offset}, outside its storage of {n} elements"
        )
    extent = math.prod(size for size in shape if size)  # the elements if no side were 0
    if extent > MAX_INDEX or n > MAX_INDEX:
        raise WeightsFormatError(
            f"{where} has size {shape} on a storage of {n} elements: more than the "
            f"{MAX_INDEX} elements any weight file may declare"
        )
    if tensor.numel == 0:
        return
    last = offset + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
    if last >= n:
        raise WeightsFormatError(
            f"{where} (size {shape}, stride {stride}, offset {offset}) reads element {last} "
            f"of storage '{short_name(tensor.storage.key)}', which holds only {n}: out of bounds"
        )
    if tensor.numel > n:
        raise WeightsFormatError(
            f"{where} has {tensor.numel} elements but its storage holds only {n} "
            "(zero or overlapping strides)"
        )


def _checked_tensors(state: Any) -> dict[str, TensorRef]:
    if not isinstance(state, dict):
        raise WeightsFormatError(f"expected a state dict, found {describe(state)}")
    tensors = {}
    for name, value in dict.items(state):
        if not isinstance(name, str):
            raise WeightsFormatError(f"a state dict key must be a string, found {describe(name)}")
        if not isinstance(value, TensorRef):
            raise WeightsFormatError(
                f"entry '{short_name(name)}' is not a tensor: {describe(value)}"
            )
        _check_tensor(name, value)
        tensors[name] = value
    return tensors


def _checked_keys(keys: Any, storages: dict[str, StorageRef]) -> list[StorageRef]:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise WeightsFormatError(
            f"the storage keys must be a list of strings, found {describe(keys)}"
        )
    if len(set(keys)) != len(keys):
        raise WeightsFormatError("the storage key list repeats a key")
    if set(keys) != set(storages):
        missing, extra = sorted(set(storages) - set(keys)), sorted(set(keys) - set(storages))
        raise WeightsFormatError(
            f"the storage key list does not match the storages the tensors use "
            f"(missing {SHORT_REPR.repr(missing)}, unknown {SHORT_REPR.repr(extra)})"
        )
    return [storages[k] for k in keys]


def _check_budget(tensors: dict[str, TensorRef], refs: list[StorageRef], max_bytes: int) -> None:
    """Storages plus the copies made for strided or shared views must fit in ``max_bytes``."""
    total, owned = sum(ref.nbytes for ref in refs), set()
    for t in tensors.values():
        if t.whole_storage_order() is not None and t.storage.key not in owned:
            owned.add(t.storage.key)
        else:
            total += t.numel * t.storage.dtype.itemsize
    if total > max_bytes:
        raise WeightsFormatError(
            f"loading it would take {total / 1e6:.1f} MB, more than the {max_bytes / 1e6:.1f} MB "
            f"allowed (EfficientNet-Lite0 takes {LITE0_WEIGHT_BYTES / 1e6:.1f} MB); "
            "pass max_bytes= to allow more"
        )


def _check_tail(f: BinaryIO, refs: list[StorageRef]) -> None:
    """The bytes after the key list must be exactly the declared storages."""
    left = os.fstat(f.fileno()).st_size - f.tell()
    needed = sum(8 + ref.nbytes for ref in refs)
    if left < needed:
        raise WeightsFormatError(
            f"the file is truncated: its storages need {needed} bytes but only {left} are left"
        )
    if left > needed:
        raise WeightsFormatError(
            f"{left - needed} unexpected bytes after the last storage (storages need {needed})"
        )


def _read_storage(f: BinaryIO, ref: StorageRef) -> np.ndarray:
    """One storage: its int64 element count, then its bytes, read in bounded chunks."""
    count = int.from_bytes(f.read(8), "little", signed=True)
    if count != ref.numel:
        raise WeightsFormatError(
            f"storage '{short_name(ref.key)}' holds {count} elements in the file, "
            f"but the state dict declared {ref.numel}"
        )
    values = np.empty(count, dtype=ref.dtype)
    raw = memoryview(values).cast("B")
    for start in range(0, len(raw), _CHUNK_BYTES):
        chunk = raw[start : start + _CHUNK_BYTES]
        if f.readinto(chunk) != len(chunk):
            raise WeightsFormatError(
                f"the file is truncated inside storage '{short_name(ref.key)}'"
            )
    if ref.type_name == "BoolStorage":
        if values.size and values.max() > 1:
            raise WeightsFormatError(
                f"bool storage '{short_name(ref.key)}' holds values other than 0 and 1"
            )
        return values.view(np.bool_)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise WeightsFormatError(f"storage '{short_name(ref.key)}' holds NaN or infinite values")
    return values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))


def _materialize(tensor: TensorRef, storage: np.ndarray, take_whole: bool) -> np.ndarray:
    """The tensor's values (bounds already checked): the storage itself or a copy."""
    order = tensor.whole_storage_order()
    if take_whole and order is not None:  # e.g. channels-last conv kernels: a transpose
        return storage.reshape([tensor.shape[a] for a in order]).transpose(np.argsort(order))
    if tensor.numel == 0:
        return np.empty(tensor.shape, dtype=storage.dtype)
    itemsize = storage.dtype.itemsize
    strides = tuple(
        0 if size == 1 else step * itemsize
        for size, step in zip(tensor.shape, tensor.stride, strict=True)
    )
    view = np.lib.stride_tricks.as_strided(
        storage[tensor.offset :], shape=tensor.shape, strides=strides, writeable=False
    )
    return view.copy()


def load_legacy_state_dict(
    path: str | Path, *, max_bytes: int = MAX_WEIGHT_BYTES
) -> dict[str, np.ndarray]:
    """Load a PyTorch legacy-format state dict as ``{name: numpy array}``.

    ``max_bytes`` bounds the memory the arrays may take (storages plus copies of strided
    views), checked before anything is allocated; the default is about twice
    EfficientNet-Lite0's weights.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeWeightsError: the file names a global outside the allowed few.
        WeightsFormatError: the file is not a well-formed legacy PyTorch state dict, or
            needs more than ``max_bytes``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"weight file not found: {path}")
    if not path.is_file():
        raise WeightsFormatError(f"{path} is not a file (a folder?)")
    try:
        with path.open("rb") as f:
            return _read_legacy_file(f, max_bytes)
    except WeightsFileError as exc:
        raise type(exc)(f"{path}: {exc}") from None
    except OSError as exc:
        raise WeightsFormatError(f"{path}: could not be read ({exc})") from None


def _read_header(f: BinaryIO, storages: dict[str, StorageRef]) -> None:
    if f.read(4) == b"PK\x03\x04":
        raise WeightsFormatError(
            "a zip-based PyTorch file (PyTorch >= 1.6), not the legacy format this reader "
            "supports; re-save it with torch.save(state_dict, path, "
            "_use_new_zipfile_serialization=False)"
        )
    f.seek(0)
    try:
        magic = load_section(f, _SECTIONS[0], storages)
    except WeightsFormatError as exc:
        raise WeightsFormatError(f"not a PyTorch legacy weight file ({exc})") from None
    if type(magic) is not int or magic != LEGACY_MAGIC_NUMBER:
        raise WeightsFormatError(
            f"not a PyTorch legacy (pre-1.6) weight file: bad magic number {describe(magic)}"
        )
    version = load_section(f, _SECTIONS[1], storages)
    if type(version) is not int or version != LEGACY_PROTOCOL_VERSION:
        raise WeightsFormatError(f"unsupported legacy protocol version {describe(version)}")
    sys_info = load_section(f, _SECTIONS[2], storages)
    if not isinstance(sys_info, dict):
        raise WeightsFormatError(f"the system info must be a dict, found {describe(sys_info)}")
    if sys_info.get("little_endian", True) is not True:
        raise WeightsFormatError(
            f"only little-endian files are supported (little_endian = "
            f"{describe(sys_info.get('little_endian'))})"
        )


def _read_legacy_file(f: BinaryIO, max_bytes: int) -> dict[str, np.ndarray]:
    storages: dict[str, StorageRef] = {}
    _read_header(f, storages)
    tensors = _checked_tensors(load_section(f, _SECTIONS[3], storages))
    refs = _checked_keys(load_section(f, _SECTIONS[4], storages), storages)
    _check_budget(tensors, refs, max_bytes)
    _check_tail(f, refs)
    arrays = {ref.key: _read_storage(f, ref) for ref in refs}
    result, owned = {}, set()
    for name, t in tensors.items():
        take_whole = t.whole_storage_order() is not None and t.storage.key not in owned
        if take_whole:
            owned.add(t.storage.key)
        result[name] = _materialize(t, arrays[t.storage.key], take_whole)
    return result
