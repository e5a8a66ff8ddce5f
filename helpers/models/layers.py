"""Find layers in a Keras model: by name (with suggestions), and the convolutional ones."""

from __future__ import annotations

import difflib

import keras

CONV_LAYER_TYPES = (
    keras.layers.Conv2D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv2D,
)


#: Layers that act pixel by pixel and typically follow a convolution (its "block").
ELEMENTWISE_LAYER_TYPES = (
    keras.layers.BatchNormalization,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
)


class ModelInputError(ValueError):
    """A model without a symbolic input (a Sequential model built without keras.Input)."""


def symbolic_input(model: keras.Model):
    """The model's input tensor (a list for several inputs), for building sub-models.

    ``model.input`` fails on Keras 3 ``Sequential`` models, so this reads ``model.inputs``.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ModelInputError(
            f"model '{model.name}' has no defined input, so its layers cannot be inspected. "
            "Start it with keras.Input, e.g. keras.Sequential([keras.Input((224, 224, 3)), ...])"
        )
    return inputs[0] if len(inputs) == 1 else inputs


class LayerNotFoundError(ValueError):
    """No layer of that name; the message lists close matches."""


class NoConvLayerError(ValueError):
    """The model has no convolutional layer (Grad-CAM and activation maps need one)."""


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called ``name``, or an error that suggests the closest layer names."""
    if not isinstance(name, str):
        raise TypeError(f"layer name must be a string, got {type(name).__name__}: {name!r}")
    for layer in model.layers:
        if layer.name == name:
            return layer
    names = [layer.name for layer in model.layers]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    close += [n for n in names if name.lower() in n.lower() and n not in close][: 5 - len(close)]
    hint = f" Close matches: {', '.join(close)}." if close else ""
    convs = conv_layer_names(model)
    conv_hint = f" Convolutional layers: {convs[0]} ... {convs[-1]}." if convs else ""
    raise LayerNotFoundError(
        f"model '{model.name}' has no layer named {name!r}.{hint}{conv_hint} "
        "List them all with helpers.conv_layer_names(model) or model.summary()."
    )


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's 2-D convolutional layers, input to output."""
    return [layer.name for layer in model.layers if isinstance(layer, CONV_LAYER_TYPES)]


def last_conv_layer(model: keras.Model) -> str:
    """Name of the last convolutional layer: Grad-CAM's default target."""
    names = conv_layer_names(model)
    if not names:
        nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
        hint = (
            f" It wraps other models ({', '.join(nested)}): build a flat functional model, "
            "e.g. keras.Model(base.input, head(base.output)), so their layers are visible."
            if nested
            else ""
        )
        raise NoConvLayerError(
            f"model '{model.name}' has no convolutional layer (Conv2D, DepthwiseConv2D or "
            f"SeparableConv2D), so Grad-CAM cannot be applied.{hint}"
        )
    return names[-1]


def grad_cam_layer(model: keras.Model, conv_layer: str | None = None) -> str:
    """Grad-CAM's default layer: the last convolutional block's *rectified* feature maps.

    That is the last convolutional layer, followed through the BatchNorm and activation
    layers that directly consume it (VGG16: ``block5_conv3``, whose ReLU is built in;
    EfficientNet-Lite0: ``top_conv -> top_bn -> top_activation``). Before the activation a
    feature map has no natural zero (BatchNorm shifts every channel), so Grad-CAM's final
    ReLU would cut at an arbitrary level; the paper's maps are rectified conv features.
    ``conv_layer`` names another convolution to follow the same way (e.g. a middle one).
    """
    current = find_layer(model, conv_layer or last_conv_layer(model))
    layers = model.layers
    for following in layers[layers.index(current) + 1 :]:
        feeds_on_current = following.input is current.output
        if not (isinstance(following, ELEMENTWISE_LAYER_TYPES) and feeds_on_current):
            break
        current = following
    return current.name
