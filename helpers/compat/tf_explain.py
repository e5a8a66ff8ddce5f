"""Make tf-explain 0.3.1 (last release 2021) run on Keras 3, keeping its behaviour.

Switch it on with one line (``helpers.load_model`` also does it for you)::

    import helpers; helpers.enable_tf_explain_compat()

What it changes, and nothing else (upstream issues #191/#192, PR #189):

1. ``GradCAM`` without ``layer_name`` read ``layer.output_shape``, which Keras 3 removed
   ("'Dense' object has no attribute 'output_shape'"). The fix picks the same layer as
   before: the last layer whose output has rank 4 (note: that is e.g. ``block5_pool``
   in VGG16, not the last *convolutional* layer the paper asks for).
2. ``GradCAM`` built its gradient model as ``Model([model.inputs], ...)``, which makes
   Keras 3 warn about the input structure; it is built from the single input tensor.
3. ``ExtractActivations`` failed when given a list of images (Keras 3 reads a list as
   several model inputs); the images are stacked into one array. A single layer name
   may be given as a string (tf-explain tested ``name in layers_name``, a substring test
   on strings).
4. ``heatmap_display`` (GradCAM, OcclusionSensitivity) multiplied every float image by
   255, assuming [0, 1]; a float image in [0, 255], which is what Keras' ``img_to_array``
   and the workshop's own code produce, overflowed into coloured noise. Float images
   whose maximum exceeds 1 are now taken as [0, 255].
5. Every explainer checks its inputs first and says what is wrong, instead of failing
   deep inside TensorFlow: the ``(images, labels)`` tuple, the image shape, the class
   index range, the layer names.
6. ``OcclusionSensitivity`` and ``ExtractActivations`` call ``model.predict`` with Keras'
   default ``verbose="auto"``: one "1/1 ━━━━ 124ms/step" progress bar per call, twelve in
   the appendix notebook. They now predict with ``verbose=0``; the numbers are the same.

tf-explain's *methods* are left as they are (guided gradients in GradCAM, no ReLU,
SmoothGrad's tiny noise, Integrated Gradients without the x - x' factor...): the
notebooks compare them with the papers' definitions in :mod:`helpers`.
"""

from __future__ import annotations

import functools
import inspect
from types import ModuleType

import numpy as np

from ..data.labels import check_class_index
from ..models.layers import find_layer, symbolic_input
from ..models.scores import image_batch, num_classes

_ORIGINALS: dict[tuple[type | ModuleType, str], object] = {}


class TfExplainInputError(ValueError):
    """Arguments that tf-explain would choke on, explained."""


def _check_images(validation_data, model) -> np.ndarray:
    if not (isinstance(validation_data, tuple) and len(validation_data) == 2):
        raise TfExplainInputError(
            "tf-explain expects validation_data as a tuple (images, labels), e.g. "
            f"(np.array([img]), None); got {type(validation_data).__name__}"
        )
    images = np.asarray(validation_data[0], dtype=np.float32)
    if images.ndim != 4:
        raise TfExplainInputError(
            "tf-explain expects a batch of images of shape (N, H, W, 3): wrap one image as "
            f"np.array([img]). Got shape {images.shape}."
        )
    return image_batch(model, images)


def _with_checks(explain):
    signature = inspect.signature(explain)

    @functools.wraps(explain)
    def checked(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        model = bound.arguments["model"]
        images = _check_images(bound.arguments["validation_data"], model)
        bound.arguments["validation_data"] = (images, bound.arguments["validation_data"][1])
        if "class_index" in bound.arguments:
            bound.arguments["class_index"] = check_class_index(
                bound.arguments["class_index"], num_classes(model)
            )
        if bound.arguments.get("layer_name") is not None:
            find_layer(model, bound.arguments["layer_name"])
        if "layers_name" in bound.arguments:
            names = bound.arguments["layers_name"]
            names = [names] if isinstance(names, str) else list(names)
            for name in names:
                find_layer(model, name)
            bound.arguments["layers_name"] = names
        return explain(*bound.args, **bound.kwargs)

    checked.__tf_explain_compat__ = True
    return checked


def _infer_grad_cam_target_layer(model):
    """Last layer with a 4-D output (tf-explain's rule, read the Keras 3 way)."""
    for layer in reversed(model.layers):
        output = getattr(layer, "output", None)
        if output is not None and not isinstance(output, (list, tuple)) and len(output.shape) == 4:
            return layer.name
    raise TfExplainInputError(
        f"model '{model.name}' has no layer with a 4-D output (batch, H, W, channels), "
        "so Grad CAM cannot be applied."
    )


def _get_gradients_and_filters(model, images, layer_name, class_index, use_guided_grads):
    """tf-explain's GradCAM gradients, with the gradient model built the Keras 3 way."""
    import tensorflow as tf

    grad_model = tf.keras.models.Model(
        symbolic_input(model), [find_layer(model, layer_name).output, model.outputs[0]]
    )
    with tf.GradientTape() as tape:
        inputs = tf.cast(images, tf.float32)
        tape.watch(inputs)
        conv_outputs, predictions = grad_model(inputs)
        loss = predictions[:, class_index]
    grads = tape.gradient(loss, conv_outputs)
    if use_guided_grads:
        grads = tf.cast(conv_outputs > 0, "float32") * tf.cast(grads > 0, "float32") * grads
    return conv_outputs, grads


class _QuietPredict:
    """``model`` whose ``predict`` shows no Keras progress bar (``verbose=0`` unless given);
    every other attribute is the model's own. tf-explain only calls ``predict`` on it."""

    def __init__(self, model):
        self.model = model

    def predict(self, x, *args, **kwargs):
        kwargs.setdefault("verbose", 0)
        return self.model.predict(x, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.model, name)


def _generate_activations_graph(model, layers_name):
    """tf-explain's activations sub-model, with exact name matching (its ``predict`` quiet;
    the Keras model itself is ``.model``)."""
    import tensorflow as tf

    outputs = [find_layer(model, name).output for name in layers_name]
    return _QuietPredict(tf.keras.models.Model(symbolic_input(model), outputs=outputs))


def _quiet_sensitivity_map(get_sensitivity_map):
    """tf-explain's ``get_sensitivity_map``, predicting without a progress bar."""

    @functools.wraps(get_sensitivity_map)
    def quiet(self, model, *args, **kwargs):
        return get_sensitivity_map(self, _QuietPredict(model), *args, **kwargs)

    return quiet


def _image_to_uint_255(image):
    """tf-explain's display conversion, accepting float images in [0, 255] as well."""
    if image.dtype == np.uint8:
        return image
    image = np.asarray(image, dtype=np.float32)
    if image.min() < 0:
        image = (image + 1.0) / 2.0
    if image.max() > 1.0:
        return np.clip(image, 0, 255).astype("uint8")
    return (image * 255).astype("uint8")


def _patch(owner: type | ModuleType, name: str, new) -> None:
    _ORIGINALS.setdefault((owner, name), owner.__dict__[name])
    setattr(owner, name, new)


def enable_tf_explain_compat() -> bool:
    """Apply the Keras 3 fixes to tf-explain (idempotent). False if tf-explain is missing."""
    try:
        from tf_explain import core
    except ImportError:
        return False
    if is_tf_explain_compat_enabled():
        return True
    from tf_explain.utils import display

    _patch(display, "image_to_uint_255", _image_to_uint_255)
    _patch(core.GradCAM, "infer_grad_cam_target_layer", staticmethod(_infer_grad_cam_target_layer))
    _patch(core.GradCAM, "get_gradients_and_filters", staticmethod(_get_gradients_and_filters))
    _patch(
        core.ExtractActivations,
        "generate_activations_graph",
        staticmethod(_generate_activations_graph),
    )
    _patch(
        core.OcclusionSensitivity,
        "get_sensitivity_map",
        _quiet_sensitivity_map(core.OcclusionSensitivity.__dict__["get_sensitivity_map"]),
    )
    for explainer in (
        core.GradCAM,
        core.ExtractActivations,
        core.VanillaGradients,
        core.GradientsInputs,
        core.SmoothGrad,
        core.IntegratedGradients,
        core.OcclusionSensitivity,
    ):
        if "explain" in explainer.__dict__:
            _patch(explainer, "explain", _with_checks(explainer.__dict__["explain"]))
    return True


def is_tf_explain_compat_enabled() -> bool:
    """Whether :func:`enable_tf_explain_compat` is in effect."""
    try:
        from tf_explain import core
    except ImportError:
        return False
    return getattr(core.GradCAM.__dict__["explain"], "__tf_explain_compat__", False)


def disable_tf_explain_compat() -> None:
    """Restore tf-explain's original code (to see what breaks without the fix)."""
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)
    _ORIGINALS.clear()
