"""The restricted reader of PyTorch legacy weight files."""

import io
import pickle
import struct
import sys
import zipfile

import numpy as np
import pytest

from helpers.models.efficientnet_lite import lite0_weights_path
from helpers.models.torch_weights import (
    LEGACY_MAGIC_NUMBER,
    LEGACY_PROTOCOL_VERSION,
    UnsafeWeightsError,
    WeightsFormatError,
    load_legacy_state_dict,
)
from tests.fake_torch import fake_torch_modules


def _header() -> bytes:
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4}}
    return b"".join(
        pickle.dumps(x, protocol=2)
        for x in (LEGACY_MAGIC_NUMBER, LEGACY_PROTOCOL_VERSION, sys_info)
    )


@pytest.fixture
def fake_torch(monkeypatch):
    """The torch stand-ins (:mod:`tests.fake_torch`) in sys.modules for one test."""
    torch, utils = fake_torch_modules()
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def _write_legacy(path, tensors: dict[str, tuple[np.ndarray, tuple, tuple, int]], torch):
    """Write storages and tensors (storage, shape, stride, offset) in the legacy layout."""

    class Tensor:
        def __init__(self, key, numel, shape, stride, offset):
            self.key, self.numel = key, numel
            self.shape, self.stride, self.offset = shape, stride, offset

        def __reduce__(self):
            storage = ("storage", torch.FloatStorage, self.key, "cpu", self.numel, None)
            return (
                sys.modules["torch._utils"]._rebuild_tensor_v2,
                (storage, self.offset, self.shape, self.stride, False, {}),
            )

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None

    from collections import OrderedDict

    state = OrderedDict()
    for name, (storage, shape, stride, offset) in tensors.items():
        state[name] = Tensor(name, storage.size, shape, stride, offset)
    body = io.BytesIO()
    Pickler(body, protocol=2).dump(state)
    data = _header() + body.getvalue() + pickle.dumps(list(tensors), protocol=2)
    for storage, *_ in tensors.values():
        flat = np.ascontiguousarray(storage, dtype="<f4").ravel()
        data += struct.pack("<q", flat.size) + flat.tobytes()
    path.write_bytes(data)


def test_reads_the_real_lite0_file():
    state = load_legacy_state_dict(lite0_weights_path())
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_fc.weight"].dtype == np.float32
    assert np.all(state["_bn1.running_var"] > 0)  # variances: a decoding slip would break this
    assert 0.01 < float(np.abs(state["_fc.weight"]).mean()) < 1.0


def test_strided_and_offset_tensors_are_rebuilt_exactly(tmp_path, fake_torch):
    storage = np.arange(24, dtype=np.float32)
    path = tmp_path / "w.pth"
    _write_legacy(
        path,
        {
            "plain": (storage, (2, 3, 4), (12, 4, 1), 0),
            "transposed": (storage, (4, 6), (1, 4), 0),  # a .t() of a (6, 4) tensor
            "offset": (storage, (5,), (1,), 10),
        },
        fake_torch,
    )
    state = load_legacy_state_dict(path)
    np.testing.assert_array_equal(state["plain"], storage.reshape(2, 3, 4))
    np.testing.assert_array_equal(state["transposed"], storage.reshape(6, 4).T)
    np.testing.assert_array_equal(state["offset"], storage[10:15])


def test_forbidden_global_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pth"
    path.write_bytes(_header() + pickle.dumps(Evil(), protocol=2))
    with pytest.raises(UnsafeWeightsError, match=r"(posix|os|nt)\.system"):
        load_legacy_state_dict(path)
    assert not marker.exists()


def test_forbidden_global_in_the_first_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps(print, protocol=2))
    with pytest.raises(UnsafeWeightsError, match=r"evil\.pth: .*builtin__\.print"):
        load_legacy_state_dict(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="weight file not found"):
        load_legacy_state_dict(tmp_path / "nope.pth")


def test_not_a_pickle(tmp_path):
    path = tmp_path / "text.pth"
    path.write_text("hello, I am not a weight file")
    with pytest.raises(WeightsFormatError, match="not a PyTorch legacy weight file"):
        load_legacy_state_dict(path)


def test_zip_format_is_explained(tmp_path):
    path = tmp_path / "new.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"x")
    with pytest.raises(WeightsFormatError):
        load_legacy_state_dict(path)


def test_truncated_storage(tmp_path, fake_torch):
    path = tmp_path / "w.pth"
    _write_legacy(path, {"a": (np.ones(8, np.float32), (8,), (1,), 0)}, fake_torch)
    path.write_bytes(path.read_bytes()[:-4])
    with pytest.raises(WeightsFormatError, match="truncated"):
        load_legacy_state_dict(path)
