"""Read a PyTorch *legacy* (pre-1.6, non-zip) state-dict file with numpy alone.

The legacy format is: three small pickles (magic number, protocol version, system
info), the pickled state dict (tensors point at storages through ``persistent_load``),
a pickled list of storage keys, then for each key an int64 element count followed by
the raw little-endian bytes.

The file is untrusted input, so nothing in it is believed before it is checked:

* Unpickling runs code named by the file, so we never use a plain ``pickle.load``:
  :class:`RestrictedUnpickler` accepts only the handful of globals a state dict needs and
  refuses everything else *before* it could run (:class:`UnsafeWeightsError`). It also
  accepts only the plain pickle instructions a state dict is made of (no text numbers, no
  protocol 3+ buffers), bounds each pickle's size and instruction count, and refuses
  duplicate dictionary keys.
* Every tensor's shape, stride and offset is checked against its storage's declared size
  (no out-of-bounds or negative strides, no more elements than the storage holds), the
  declared storages against the bytes actually left in the file, and the total against
  ``max_bytes`` (about 2x EfficientNet-Lite0's weights) *before* any array is allocated.
  Storages are then read in bounded chunks.

Every malformed file raises :class:`WeightsFormatError`, every refused global
:class:`UnsafeWeightsError`; both are :class:`WeightsFileError` (a ``ValueError``) and
name what was wrong.
"""

from __future__ import annotations

import collections
import math
import os
import pickle
import pickletools
import reprlib
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
    "BoolStorage": np.dtype("u1"),  # read as bytes, then checked and turned into bool
}

#: EfficientNet-Lite0's file holds 4,694,073 values in 18.8 MB of storages.
LITE0_WEIGHT_BYTES = 18_776_356
#: Default limit on storages plus copies made while loading: about 2x Lite0's weights.
MAX_WEIGHT_BYTES = 40_000_000
#: Limits on each pickle section (Lite0's state dict: 42 kB, 10,696 instructions).
MAX_PICKLE_BYTES = 4_000_000
MAX_PICKLE_OPS = 200_000
MAX_TENSOR_DIMS = 8
_MAX_LINE = 256
_CHUNK_BYTES = 1 << 20

#: The pickle instructions a protocol-2 state dict is made of. Left out on purpose: text
#: numbers (LONG/INT: slow to parse), LONG4 (huge ints), protocol 3+ bytes, frames and
#: buffers, INST/OBJ/NEWOBJ/EXT (other ways to call things), DICT (hides duplicate keys).
_ALLOWED_OPCODES = frozenset(
    {
        "PROTO", "STOP", "MARK", "POP", "POP_MARK", "NONE", "NEWTRUE", "NEWFALSE",
        "BININT", "BININT1", "BININT2", "LONG1", "BINFLOAT", "BINUNICODE", "BINSTRING",
        "SHORT_BINSTRING", "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
        "EMPTY_LIST", "APPEND", "APPENDS", "LIST", "EMPTY_DICT", "SETITEM", "SETITEMS",
        "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET", "GLOBAL", "REDUCE", "BUILD",
        "BINPERSID",
    }
)  # fmt: skip
_OPCODE_NAMES = {ord(op.code): op.name for op in pickletools.opcodes}

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlevel = 2


class WeightsFileError(ValueError):
    """A weight file that cannot be loaded (base of the two errors below)."""


class WeightsFormatError(WeightsFileError):
    """A weight file that is not a well-formed PyTorch legacy state dict."""


class UnsafeWeightsError(WeightsFileError, pickle.UnpicklingError):
    """A weight file asked for a Python object that a plain state dict never needs."""


def _name(value: Any) -> str:
    """A name read from the file, shortened for error messages."""
    return _short.repr(value)[1:-1] if isinstance(value, str) else _short.repr(value)


def _describe(value: Any) -> str:
    """A short, bounded description of a value read from the file (for error messages)."""
    return f"{type(value).__name__} {_short.repr(value)}"


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    type_name: str
    numel: int

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.type_name]

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize


@dataclass(frozen=True)
class _TensorRef:
    storage: _StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def whole_storage_order(self) -> list[int] | None:
        """If the tensor is its whole storage with axes permuted (no gaps, no repeats):
        the axes from slowest to fastest varying, so that no copy is needed. Else None."""
        if self.offset != 0 or self.numel != self.storage.numel:
            return None
        order = sorted(range(len(self.shape)), key=lambda axis: -self.stride[axis])
        step = 1
        for axis in reversed(order):
            if self.shape[axis] > 1:
                if self.stride[axis] != step:
                    return None
                step *= self.shape[axis]
        return order


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WeightsFormatError(f"{what} must be an integer, found {_describe(value)}")
    return value


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) > MAX_TENSOR_DIMS:
        raise WeightsFormatError(
            f"{what} must be a tuple of at most {MAX_TENSOR_DIMS} integers, "
            f"found {_describe(value)}"
        )
    return tuple(_int(v, f"every entry of {what}") for v in value)


def _ordered_dict(*args: Any) -> collections.OrderedDict:
    """Stand-in for ``collections.OrderedDict``: a state dict calls it without arguments
    (items are added one by one, so that every key is checked)."""
    if args:
        raise WeightsFormatError(
            f"OrderedDict is called with {len(args)} arguments; a state dict calls it with none"
        )
    return collections.OrderedDict()


def _rebuild_tensor_v2(*args: Any) -> _TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: records where the data lives.

    Checks types only; bounds are checked once the tensor's name is known.
    """
    if len(args) < 4:
        raise WeightsFormatError(
            f"a tensor needs (storage, offset, size, stride), found {len(args)} arguments"
        )
    storage, offset, size, stride = args[:4]
    if not isinstance(storage, _StorageRef):
        raise WeightsFormatError(
            f"a tensor's storage must be a storage reference, found {_describe(storage)}"
        )
    return _TensorRef(
        storage,
        _int(offset, "a tensor's storage offset"),
        _int_tuple(size, "a tensor's size"),
        _int_tuple(stride, "a tensor's stride"),
    )


class _BoundedReader:
    """File reads for one pickle: at most ``limit`` bytes, and a short read is an error."""

    def __init__(self, f: BinaryIO, limit: int):
        self._f, self._left = f, limit

    def _take(self, data: bytes, wanted: int) -> bytes:
        self._left -= len(data)
        if len(data) < wanted:
            raise WeightsFormatError("the file is truncated: it ends inside a pickle")
        return data

    def read(self, n: int) -> bytes:
        if n > self._left:
            raise WeightsFormatError(
                f"a pickle section is larger than {MAX_PICKLE_BYTES} bytes (it asked for "
                f"{n} more bytes); a state dict needs far less"
            )
        return self._take(self._f.read(n), n)

    def readline(self) -> bytes:
        line = self._f.readline(min(self._left, _MAX_LINE))
        self._left -= len(line)
        if not line.endswith(b"\n"):
            raise WeightsFormatError(
                "a global's name in the pickle is unterminated or longer than "
                f"{_MAX_LINE} bytes (truncated file?)"
            )
        return line


class _Dispatch(dict):
    """The pickle instructions allowed, counted; any other one is refused by name."""

    def __init__(self, table: dict):
        super().__init__(table)
        self.count = 0

    def __getitem__(self, code: int):
        self.count += 1
        if self.count > MAX_PICKLE_OPS:
            raise WeightsFormatError(
                f"a pickle section has more than {MAX_PICKLE_OPS} instructions; "
                "a state dict needs far fewer"
            )
        return super().__getitem__(code)

    def __missing__(self, code: int):
        name = _OPCODE_NAMES.get(code, "unknown")
        raise WeightsFormatError(
            f"pickle instruction {name} (byte 0x{code:02x}) is not allowed in a legacy "
            "state dict (protocol 2, plain containers only)"
        )


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that knows only the globals and instructions of a legacy state dict.

    Allowed globals: ``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2`` and
    the ``torch.*Storage`` types of :data:`STORAGE_DTYPES` (replaced by inert stand-ins).
    Any other global raises :class:`UnsafeWeightsError` naming it; it is never imported or
    called. Storages met through ``persistent_load`` are collected in ``storages``.
    """

    def __init__(self, file: Any, storages: dict[str, _StorageRef] | None = None):
        super().__init__(file)
        self.storages = {} if storages is None else storages
        table = {
            code: fn
            for code, fn in pickle._Unpickler.dispatch.items()
            if _OPCODE_NAMES.get(code) in _ALLOWED_OPCODES
        }
        table.update(
            {
                ord(pickle.PROTO): RestrictedUnpickler._load_proto,
                ord(pickle.SETITEM): RestrictedUnpickler._load_setitem,
                ord(pickle.SETITEMS): RestrictedUnpickler._load_setitems,
                ord(pickle.BUILD): RestrictedUnpickler._load_build,
            }
        )
        self.dispatch = _Dispatch(table)

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return _ordered_dict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafeWeightsError(
            f"refused to load the weight file: it names the Python global "
            f"'{_name(module)}.{_name(name)}', which a PyTorch "
            "state dict never needs. Allowed globals: collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2, torch.<Type>Storage."
        )

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise WeightsFormatError(
                "a storage reference must be ('storage', type, key, location, size, view), "
                f"found {_describe(pid)}"
            )
        storage_type, key, location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise WeightsFormatError(
                f"a storage's type must be torch.<Type>Storage, found {_describe(storage_type)}"
            )
        if not isinstance(key, str) or not isinstance(location, str):
            raise WeightsFormatError(
                f"a storage's key and location must be strings, found {_describe(key)} "
                f"and {_describe(location)}"
            )
        numel = _int(numel, f"the size of storage '{_name(key)}'")
        if numel < 0:
            raise WeightsFormatError(f"storage '{_name(key)}' declares a negative size {numel}")
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsFormatError(
                f"storage '{_name(key)}' is a view of another storage (unsupported)"
            )
        ref = _StorageRef(key, storage_type.name, numel)
        if self.storages.setdefault(key, ref) != ref:
            raise WeightsFormatError(
                f"storage '{_name(key)}' is declared twice with different types or sizes"
            )
        return ref

    def _load_proto(self) -> None:
        proto = self.read(1)[0]
        if proto > 2:
            raise WeightsFormatError(
                f"pickle protocol {proto}: legacy PyTorch files use protocol 2 at most"
            )
        self.proto = proto

    def _set_item(self, target: Any, key: Any, value: Any) -> None:
        if not isinstance(target, dict):
            raise WeightsFormatError(f"SETITEM on a {type(target).__name__}, not a dictionary")
        if not isinstance(key, (str, int, float, type(None))):  # hashing a deeply nested
            raise WeightsFormatError(  # tuple would overflow the C stack
                f"a dictionary key must be a string or a number, found {_describe(key)}"
            )
        if key in target:
            raise WeightsFormatError(f"duplicate key {_short.repr(key)} in a dictionary")
        target[key] = value

    def _load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_item(self.stack[-1], key, value)

    def _load_setitems(self) -> None:
        items = self.pop_mark()
        if len(items) % 2:
            raise WeightsFormatError("SETITEMS with an odd number of keys and values")
        for i in range(0, len(items), 2):
            self._set_item(self.stack[-1], items[i], items[i + 1])

    def _load_build(self) -> None:
        """BUILD only ever sets a state dict's ``_metadata``: checked, then ignored."""
        state = self.stack.pop()
        if not isinstance(self.stack[-1], dict) or not isinstance(state, (dict, type(None))):
            raise WeightsFormatError(
                f"BUILD on {type(self.stack[-1]).__name__} with {type(state).__name__} state: "
                "a state dict only sets its metadata"
            )


_SECTIONS = ("magic number", "protocol version", "system info", "state dict", "storage keys")


def _load_section(f: BinaryIO, section: str, storages: dict[str, _StorageRef]) -> Any:
    """One pickle of the file; every failure becomes a WeightsFileError naming the section."""
    try:
        return RestrictedUnpickler(_BoundedReader(f, MAX_PICKLE_BYTES), storages).load()
    except WeightsFileError as exc:
        raise type(exc)(f"in the {section}: {exc}") from None
    except Exception as exc:  # malformed pickle: IndexError, TypeError, UnpicklingError...
        reason = _short.repr(str(exc))[1:-1]
        raise WeightsFormatError(
            f"the {section} is not a valid pickle ({type(exc).__name__}: {reason})"
        ) from None


def _check_tensor(name: str, tensor: _TensorRef) -> None:
    """Refuse any view that reads outside its storage or repeats its elements."""
    where = f"tensor '{_name(name)}'"
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
    if tensor.numel == 0:
        return
    last = offset + sum((size - 1) * step for size, step in zip(shape, stride, strict=True))
    if last >= n:
        raise WeightsFormatError(
            f"{where} (size {shape}, stride {stride}, offset {offset}) reads element {last} "
            f"of storage '{_name(tensor.storage.key)}', which holds only {n}: out of bounds"
        )
    if tensor.numel > n:
        raise WeightsFormatError(
            f"{where} has {tensor.numel} elements but its storage holds only {n} "
            "(zero or overlapping strides)"
        )


def _checked_tensors(state: Any) -> dict[str, _TensorRef]:
    if not isinstance(state, dict):
        raise WeightsFormatError(f"expected a state dict, found {_describe(state)}")
    tensors = {}
    for name, value in dict.items(state):
        if not isinstance(name, str):
            raise WeightsFormatError(f"a state dict key must be a string, found {_describe(name)}")
        if not isinstance(value, _TensorRef):
            raise WeightsFormatError(f"entry '{_name(name)}' is not a tensor: {_describe(value)}")
        _check_tensor(name, value)
        tensors[name] = value
    return tensors


def _checked_keys(keys: Any, storages: dict[str, _StorageRef]) -> list[_StorageRef]:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise WeightsFormatError(
            f"the storage keys must be a list of strings, found {_describe(keys)}"
        )
    if len(set(keys)) != len(keys):
        raise WeightsFormatError("the storage key list repeats a key")
    if set(keys) != set(storages):
        missing, extra = sorted(set(storages) - set(keys)), sorted(set(keys) - set(storages))
        raise WeightsFormatError(
            f"the storage key list does not match the storages the tensors use "
            f"(missing {_short.repr(missing)}, unknown {_short.repr(extra)})"
        )
    return [storages[k] for k in keys]


def _check_budget(tensors: dict[str, _TensorRef], refs: list[_StorageRef], max_bytes: int) -> None:
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


def _check_tail(f: BinaryIO, refs: list[_StorageRef]) -> None:
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


def _read_storage(f: BinaryIO, ref: _StorageRef) -> np.ndarray:
    """One storage: its int64 element count, then its bytes, read in bounded chunks."""
    count = int.from_bytes(f.read(8), "little", signed=True)
    if count != ref.numel:
        raise WeightsFormatError(
            f"storage '{_name(ref.key)}' holds {count} elements in the file, "
            f"but the state dict declared {ref.numel}"
        )
    values = np.empty(count, dtype=ref.dtype)
    raw = memoryview(values).cast("B")
    for start in range(0, len(raw), _CHUNK_BYTES):
        chunk = raw[start : start + _CHUNK_BYTES]
        if f.readinto(chunk) != len(chunk):
            raise WeightsFormatError(f"the file is truncated inside storage '{_name(ref.key)}'")
    if ref.type_name == "BoolStorage":
        if values.size and values.max() > 1:
            raise WeightsFormatError(
                f"bool storage '{_name(ref.key)}' holds values other than 0 and 1"
            )
        return values.view(np.bool_)
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise WeightsFormatError(f"storage '{_name(ref.key)}' holds NaN or infinite values")
    return values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))


def _materialize(tensor: _TensorRef, storage: np.ndarray, take_whole: bool) -> np.ndarray:
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


def _read_header(f: BinaryIO, storages: dict[str, _StorageRef]) -> None:
    if f.read(4) == b"PK\x03\x04":
        raise WeightsFormatError(
            "a zip-based PyTorch file (PyTorch >= 1.6), not the legacy format this reader "
            "supports; re-save it with torch.save(state_dict, path, "
            "_use_new_zipfile_serialization=False)"
        )
    f.seek(0)
    try:
        magic = _load_section(f, _SECTIONS[0], storages)
    except WeightsFormatError as exc:
        raise WeightsFormatError(f"not a PyTorch legacy weight file ({exc})") from None
    if type(magic) is not int or magic != LEGACY_MAGIC_NUMBER:
        raise WeightsFormatError(
            f"not a PyTorch legacy (pre-1.6) weight file: bad magic number {_describe(magic)}"
        )
    version = _load_section(f, _SECTIONS[1], storages)
    if type(version) is not int or version != LEGACY_PROTOCOL_VERSION:
        raise WeightsFormatError(f"unsupported legacy protocol version {_describe(version)}")
    sys_info = _load_section(f, _SECTIONS[2], storages)
    if not isinstance(sys_info, dict):
        raise WeightsFormatError(f"the system info must be a dict, found {_describe(sys_info)}")
    if sys_info.get("little_endian", True) is not True:
        raise WeightsFormatError(
            f"only little-endian files are supported (little_endian = "
            f"{_describe(sys_info.get('little_endian'))})"
        )


def _read_legacy_file(f: BinaryIO, max_bytes: int) -> dict[str, np.ndarray]:
    storages: dict[str, _StorageRef] = {}
    _read_header(f, storages)
    tensors = _checked_tensors(_load_section(f, _SECTIONS[3], storages))
    refs = _checked_keys(_load_section(f, _SECTIONS[4], storages), storages)
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
