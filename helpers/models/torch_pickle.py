"""The pickle half of the legacy PyTorch weight reader (:mod:`helpers.models.torch_weights`).

Unpickling runs code named by the file, so a weight file is never given to a plain
``pickle.load``. :class:`RestrictedUnpickler` accepts only the globals a state dict needs
(replaced by inert stand-ins that record where each tensor's data lives, after checking
the types of what the file passes them) and refuses every other one *before* it could
run. It also accepts only the plain protocol-2 instructions a state dict is made of,
bounds each pickle's size and instruction count, refuses duplicate or non-scalar
dictionary keys (hashing a deeply nested tuple would crash the interpreter), and turns
every failure into a :class:`WeightsFileError` naming what was wrong.
"""

from __future__ import annotations

import collections
import math
import pickle
import pickletools
import reprlib
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

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

#: Limits on each pickle section (Lite0's state dict: 42 kB, 10,696 instructions).
MAX_PICKLE_BYTES = 4_000_000
MAX_PICKLE_OPS = 200_000
MAX_TENSOR_DIMS = 8
_MAX_LINE = 256

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

SHORT_REPR = reprlib.Repr()
SHORT_REPR.maxstring = SHORT_REPR.maxother = 60
SHORT_REPR.maxlevel = 2


class WeightsFileError(ValueError):
    """A weight file that cannot be loaded (base of the two errors below)."""


class WeightsFormatError(WeightsFileError):
    """A weight file that is not a well-formed PyTorch legacy state dict."""


class UnsafeWeightsError(WeightsFileError, pickle.UnpicklingError):
    """A weight file asked for a Python object that a plain state dict never needs."""


def short_name(value: Any) -> str:
    """A name read from the file, shortened for error messages."""
    return SHORT_REPR.repr(value)[1:-1] if isinstance(value, str) else SHORT_REPR.repr(value)


def describe(value: Any) -> str:
    """A short, bounded description of a value read from the file (for error messages)."""
    return f"{type(value).__name__} {SHORT_REPR.repr(value)}"


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> np.dtype:
        return STORAGE_DTYPES[self.name]


@dataclass(frozen=True)
class StorageRef:
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
class TensorRef:
    storage: StorageRef
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
        raise WeightsFormatError(f"{what} must be an integer, found {describe(value)}")
    return value


def _int_tuple(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or len(value) > MAX_TENSOR_DIMS:
        raise WeightsFormatError(
            f"{what} must be a tuple of at most {MAX_TENSOR_DIMS} integers, found {describe(value)}"
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


def _rebuild_tensor_v2(*args: Any) -> TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor_v2``: records where the data lives.

    Checks types only; bounds are checked once the tensor's name is known.
    """
    if len(args) < 4:
        raise WeightsFormatError(
            f"a tensor needs (storage, offset, size, stride), found {len(args)} arguments"
        )
    storage, offset, size, stride = args[:4]
    if not isinstance(storage, StorageRef):
        raise WeightsFormatError(
            f"a tensor's storage must be a storage reference, found {describe(storage)}"
        )
    return TensorRef(
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

    def __init__(self, file: Any, storages: dict[str, StorageRef] | None = None):
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
            f"'{short_name(module)}.{short_name(name)}', which a PyTorch "
            "state dict never needs. Allowed globals: collections.OrderedDict, "
            "torch._utils._rebuild_tensor_v2, torch.<Type>Storage."
        )

    def persistent_load(self, pid: Any) -> StorageRef:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise WeightsFormatError(
                "a storage reference must be ('storage', type, key, location, size, view), "
                f"found {describe(pid)}"
            )
        storage_type, key, location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise WeightsFormatError(
                f"a storage's type must be torch.<Type>Storage, found {describe(storage_type)}"
            )
        if not isinstance(key, str) or not isinstance(location, str):
            raise WeightsFormatError(
                f"a storage's key and location must be strings, found {describe(key)} "
                f"and {describe(location)}"
            )
        numel = _int(numel, f"the size of storage '{short_name(key)}'")
        if numel < 0:
            raise WeightsFormatError(
                f"storage '{short_name(key)}' declares a negative size {numel}"
            )
        if len(pid) == 6 and pid[5] is not None:
            raise WeightsFormatError(
                f"storage '{short_name(key)}' is a view of another storage (unsupported)"
            )
        ref = StorageRef(key, storage_type.name, numel)
        if self.storages.setdefault(key, ref) != ref:
            raise WeightsFormatError(
                f"storage '{short_name(key)}' is declared twice with different types or sizes"
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
                f"a dictionary key must be a string or a number, found {describe(key)}"
            )
        if key in target:
            raise WeightsFormatError(f"duplicate key {SHORT_REPR.repr(key)} in a dictionary")
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


def load_section(f: BinaryIO, section: str, storages: dict[str, StorageRef]) -> Any:
    """One pickle of the file; every failure becomes a WeightsFileError naming the section."""
    try:
        return RestrictedUnpickler(_BoundedReader(f, MAX_PICKLE_BYTES), storages).load()
    except WeightsFileError as exc:
        raise type(exc)(f"in the {section}: {exc}") from None
    except Exception as exc:  # malformed pickle: IndexError, TypeError, UnpicklingError...
        reason = SHORT_REPR.repr(str(exc))[1:-1]
        raise WeightsFormatError(
            f"the {section} is not a valid pickle ({type(exc).__name__}: {reason})"
        ) from None
