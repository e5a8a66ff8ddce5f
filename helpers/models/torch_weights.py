"""Read a PyTorch *legacy* (pre-1.6, non-zip) state-dict file with numpy alone.

The legacy format is: three small pickles (magic number, protocol version, system
info), the pickled state dict (tensors point at storages through ``persistent_load``),
a pickled list of storage keys, then for each key an int64 element count followed by
the raw little-endian bytes.

Unpickling runs code named by the file, so we never use a plain ``pickle.load``:
:class:`RestrictedUnpickler` accepts only the handful of globals a state dict needs
and refuses everything else *before* it could run.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001

#: torch storage class name -> numpy dtype (little-endian).
STORAGE_DTYPES: dict[str, np.dtype] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class UnsafeWeightsError(pickle.UnpicklingError):
    """A weight file asked for a Python object that a plain state dict never needs."""


class WeightsFormatError(ValueError):
    """A weight file is not a PyTorch legacy state dict."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype
    numel: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored) -> _TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: records where the data lives."""
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that knows only the globals of a PyTorch legacy state dict.

    Allowed: ``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and the
    ``torch.*Storage`` types (replaced by inert stand-ins). Any other global raises
    :class:`UnsafeWeightsError` naming it; it is never imported or called.
    """

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeWeightsError(
            f"refused to load the weight file: it names the Python global "
            f"'{module}.{name}', which a PyTorch state dict never needs. Allowed globals: "
            "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch.<Type>Storage."
        )

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise WeightsFormatError(f"unexpected persistent id in weight file: {pid!r}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise WeightsFormatError(f"unexpected storage type {storage_type!r}")
        return _StorageRef(str(key), storage_type.dtype, int(numel))


def _restricted_load(f: BinaryIO) -> Any:
    return RestrictedUnpickler(f).load()


def _read_storages(
    f: BinaryIO, refs: dict[str, _StorageRef], keys: list[str]
) -> dict[str, np.ndarray]:
    storages = {}
    for key in keys:
        ref = refs[key]
        count = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        nbytes = count * ref.dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise WeightsFormatError(f"weight file is truncated inside storage {key}")
        storages[key] = np.frombuffer(raw, dtype=ref.dtype)
    return storages


def _collect_storage_refs(state: dict) -> dict[str, _StorageRef]:
    return {t.storage.key: t.storage for t in state.values() if isinstance(t, _TensorRef)}


def _materialize(tensor: _TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    base = storages[tensor.storage.key]
    itemsize = base.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        base[tensor.offset :],
        shape=tensor.shape,
        strides=tuple(s * itemsize for s in tensor.stride),
        writeable=False,
    )
    return np.array(view, dtype=base.dtype.newbyteorder("="))


def load_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Load a PyTorch legacy-format state dict as ``{name: numpy array}``.

    Raises:
        FileNotFoundError: the file does not exist.
        UnsafeWeightsError: the file names a global outside the allowed few.
        WeightsFormatError: the file is not a legacy PyTorch state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weight file not found: {path}")
    try:
        with path.open("rb") as f:
            return _read_legacy_file(f, path)
    except UnsafeWeightsError as exc:
        raise UnsafeWeightsError(f"{path}: {exc}") from None


def _read_legacy_file(f: BinaryIO, path: Path) -> dict[str, np.ndarray]:
    try:
        magic = _restricted_load(f)
    except UnsafeWeightsError:
        raise
    except Exception as exc:  # not a pickle at all
        raise WeightsFormatError(f"{path} is not a PyTorch legacy weight file ({exc})") from None
    if magic != LEGACY_MAGIC_NUMBER:
        raise WeightsFormatError(
            f"{path} is not a PyTorch legacy (pre-1.6) weight file: bad magic number. "
            "Zip-based .pt/.pth files (PyTorch >= 1.6) are not supported."
        )
    version = _restricted_load(f)
    if version != LEGACY_PROTOCOL_VERSION:
        raise WeightsFormatError(f"unsupported legacy protocol version {version!r}")
    sys_info = _restricted_load(f)
    if not sys_info.get("little_endian", True):
        raise WeightsFormatError("big-endian weight files are not supported")
    state = _restricted_load(f)
    if not isinstance(state, dict):
        raise WeightsFormatError(f"expected a state dict, found {type(state).__name__}")
    keys = _restricted_load(f)
    storages = _read_storages(f, _collect_storage_refs(state), keys)
    return {
        name: _materialize(t, storages) for name, t in state.items() if isinstance(t, _TensorRef)
    }
