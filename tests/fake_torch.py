"""Stand-ins named ``torch.<X>Storage`` and ``torch._utils._rebuild_tensor_v2``, so that the
standard pickler writes exactly the globals a real legacy weight file contains."""

from __future__ import annotations

import types

from helpers.models.torch_weights import STORAGE_DTYPES


def fake_torch_modules() -> tuple[types.ModuleType, types.ModuleType]:
    """(torch, torch._utils) stand-ins: every storage class the reader knows (plus
    QInt8Storage, which it refuses) and a ``_rebuild_tensor_v2`` that must never run."""
    module, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    for name in [*STORAGE_DTYPES, "QInt8Storage"]:
        cls = type(name, (), {"__module__": "torch", "__qualname__": name})
        setattr(module, name, cls)

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    module._utils = utils
    return module, utils
