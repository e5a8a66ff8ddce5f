"""An interactive saliency explorer built from ipywidgets (works with ipywidgets 7.7 and 8).

``ex = explorer(model)`` then show ``ex`` (or ``ex.widget``) in a notebook: pick an image
(a bundled photo or your own upload), a class (the model's top 5, or any ImageNet class
by name), a method and its parameters; see the map over the image and the raw map with
its colour bar. Slow methods report their progress. Every map is cached under
(image, class, method, the method's own parameters), so moving a slider that only
changes the picture (the overlay's opacity) or going back to an earlier setting does not
recompute anything. Each method starts at its explorer setting (``Method.explorer``:
lighter than its defaults where those take over 2 s); the status line times each update.

Only widgets that exist in both ipywidgets 7.7 (Colab) and 8 (JupyterLab 4) are used:
Dropdown, Combobox, FileUpload, IntSlider, FloatSlider, IntProgress, HTML, Image,
HBox, VBox. ``FileUpload.value`` differs between the two (a dict of files in 7, a tuple
of file records in 8); :func:`uploaded_files` reads both.

Headless use (tests): ``ex.controls[name].value = ...`` triggers the same update as the
mouse; ``ex.render()`` forces one; ``ex.last_map``, ``ex.compute_count`` and
``ex.view.value`` (the PNG shown) tell what happened.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np

from ..data.images import SAMPLE_IMAGES, load_image
from ..data.labels import ClassIndexError, class_names, find_class, resolve_class
from ..methods.registry import METHODS, Method
from ..models.layers import conv_layer_names, grad_cam_layer
from ..models.scores import top_k
from .explorer_picture import explorer_png


def uploaded_files(value: Any) -> list[tuple[str, bytes]]:
    """``[(file name, content bytes)]`` from a ``FileUpload.value`` of ipywidgets 7 or 8.

    ipywidgets 8: a tuple of ``{"name", "type", "size", "content": memoryview, ...}``;
    ipywidgets 7: ``{file name: {"metadata": {...}, "content": bytes}}``.
    """
    if not value:
        return []
    if isinstance(value, Mapping):  # ipywidgets 7
        return [
            (str(name), bytes(record["content"]))
            for name, record in value.items()
            if isinstance(record, Mapping) and "content" in record
        ]
    files = []
    for record in value:  # ipywidgets 8
        name = record.get("name") or record.get("metadata", {}).get("name", "upload")
        files.append((str(name), bytes(record["content"])))
    return files


def method_by_title(title: str) -> Method:
    """The registered method shown as ``title`` in the menu (its name works too)."""
    found = METHODS.get(title) or {m.title: m for m in METHODS.values()}.get(title)
    if found is None:
        raise ValueError(f"unknown method {title!r}; choose one of {list(METHODS)}")
    return found


class SaliencyExplorer:
    """The explorer's state, widgets and cache. Build it with :func:`explorer`."""

    def __init__(self, model: keras.Model, images: Mapping[str, np.ndarray] | None = None):
        import ipywidgets as w

        self.model = model
        if images is None:
            images = dict(SAMPLE_IMAGES)  # paths: _add_image loads them
        if not images:
            raise ValueError("images is empty: give {name: image array} or None for the samples")
        self.images: dict[str, np.ndarray] = {}
        self._image_keys: dict[str, str] = {}
        for name, image in images.items():
            self._add_image(str(name), image)
        self.cache: dict[tuple, tuple[np.ndarray, str]] = {}
        self.compute_count = 0
        self.last_map: np.ndarray | None = None
        self.last_key: tuple | None = None
        # the last update (computing unless cached, and drawing): seconds, and the CPU
        # seconds of all of this process's threads (the browser test's load-free measure)
        self.last_seconds = self.last_cpu_seconds = 0.0
        self._top5: dict[str, list[tuple[int, str, float]]] = {}
        self._busy = False

        wide = {"description_width": "initial"}
        # each convolution's rectified output (after its BatchNorm/activation), as Grad-CAM uses
        layers = list(
            dict.fromkeys(grad_cam_layer(model, name) for name in conv_layer_names(model))
        )
        self.controls: dict[str, Any] = {
            "image": w.Dropdown(options=list(self.images), description="Image", style=wide),
            "upload": w.FileUpload(accept="image/*", multiple=False, description="Upload"),
            "class": w.Dropdown(options=[], description="Class", style=wide),
            "class_search": w.Combobox(
                placeholder="or type any ImageNet class, then Enter",
                options=list(class_names()) if model.outputs[0].shape[-1] == 1000 else [],
                ensure_option=False,
                continuous_update=False,
                description="Other class",
                style=wide,
            ),
            "method": w.Dropdown(
                options=[m.title for m in METHODS.values()], description="Method"
            ),
            **self._setting_controls(layers),
            "alpha": w.FloatSlider(
                value=0.5,
                min=0.0,
                max=1.0,
                step=0.05,
                description="Overlay opacity",
                style=wide,
                continuous_update=False,
            ),
        }
        self.progress = w.IntProgress(value=0, min=0, max=100, description="Progress")
        self.status = w.HTML(value="")
        self.view = w.Image(format="png")
        self._settings = [n for n in self.controls if n in self._setting_names]
        for name, control in self.controls.items():
            if name == "upload":
                control.observe(self._on_upload, names="value")
            elif name == "class_search":
                control.observe(self._on_class_search, names="value")
            elif name == "image":
                control.observe(self._on_image, names="value")
            else:
                control.observe(self._on_change, names="value")
        c = self.controls
        self.widget = w.VBox(
            [
                w.HBox([c["image"], c["upload"]]),
                w.HBox([c["class"], c["class_search"]]),
                w.HBox([c["method"], *(c[n] for n in self._settings)]),
                w.HBox([c["alpha"], self.progress]),
                self.status,
                self.view,
            ]
        )
        self._set_classes()
        self._show_parameters()
        self.render()
        self._compile_path_kernel()

    def _compile_path_kernel(self) -> None:
        """Compile Integrated Gradients' path kernel (shared by every path method, once per
        model) now, with one path point: about 1 s that its first update would otherwise
        add to the student's wait (issue 20's 2 s per update). An optimisation only: a model
        it does not suit fails later, in the method, with the method's own message."""
        from ..methods.kernels import weighted_path_gradients

        image = self.images[self.image_name]
        one = np.ones(1, np.float32)
        with contextlib.suppress(Exception):
            weighted_path_gradients(
                self.model, np.zeros_like(image), image, one, one, int(self.controls["class"].value)
            )

    # -- images and classes -------------------------------------------------------------
    def _add_image(self, name: str, image) -> str:
        """Load ``image`` (array, path or PIL image) at the model's input size, once."""
        pixels = load_image(image, size=tuple(self.model.inputs[0].shape[1:3]))
        self.images[name] = pixels
        self._image_keys[name] = f"{name}:{hashlib.sha1(pixels.tobytes()).hexdigest()[:12]}"
        return name

    def add_image(self, name: str, image) -> None:
        """Add an image (array, path or PIL image) to the list and select it."""
        self._add_image(name, image)
        dropdown = self.controls["image"]
        self._busy = True
        try:
            dropdown.options = list(self.images)
        finally:
            self._busy = False
        if dropdown.value == name:
            self._on_image()
        else:
            dropdown.value = name

    def top5(self, image_name: str) -> list[tuple[int, str, float]]:
        """The model's five most probable classes for an image (cached)."""
        key = self._image_keys[image_name]
        if key not in self._top5:
            self._top5[key] = top_k(self.model, self.images[image_name], k=5)
        return self._top5[key]

    def _set_classes(self) -> None:
        options = [(f"{i} {name} ({p:.2f})", i) for i, name, p in self.top5(self.image_name)]
        self._busy = True
        try:
            self.controls["class"].options = options
            self.controls["class"].value = options[0][1]
        finally:
            self._busy = False

    @property
    def image_name(self) -> str:
        return self.controls["image"].value

    # -- events -------------------------------------------------------------------------
    def _safely(self, action: Callable[[], None]) -> None:
        try:
            action()
        except Exception as exc:  # shown to the student instead of vanishing in a log
            self.progress.bar_style = "danger"
            self.status.value = f"<b>Error:</b> {type(exc).__name__}: {exc}"

    def _on_change(self, change=None) -> None:
        if self._busy:
            return
        self._show_parameters()
        self._safely(self.render)

    def _on_image(self, change=None) -> None:
        if self._busy:
            return
        self._set_classes()
        self._safely(self.render)

    def _on_upload(self, change) -> None:
        def add():
            from PIL import Image

            for name, content in uploaded_files(change["new"]):
                with Image.open(io.BytesIO(content)) as picture:
                    picture.load()
                    self.add_image(f"upload: {name}", picture)

        self._safely(add)

    def _on_class_search(self, change) -> None:
        text = (change["new"] or "").strip()
        if not text:
            return

        def choose():
            try:
                index = resolve_class(text)
            except ClassIndexError:
                matches = ", ".join(f"{i} {n}" for i, n in find_class(text, 5)) or "none"
                self.status.value = f"No single class matches '{text}'. Close: {matches}"
                return
            dropdown = self.controls["class"]
            if index not in [value for _, value in dropdown.options]:
                label = f"{index} {class_names()[index]}"
                self._busy = True
                try:
                    dropdown.options = [*dropdown.options, (label, index)]
                finally:
                    self._busy = False
            dropdown.value = index

        self._safely(choose)

    def _setting_controls(self, layers: list[str]) -> dict[str, Any]:
        """One widget per setting that some registered method lets the student change,
        starting at the first such method's explorer value (``Method.explorer``, else its
        default)."""
        import ipywidgets as w

        controls: dict[str, Any] = {}
        for method in METHODS.values():
            for c in method.controls:
                if c.setting in controls:
                    continue
                default = {**method.defaults, **method.explorer}.get(c.setting)
                common = {"description": c.label, "continuous_update": False}
                if c.kind == "layer":
                    value = default or (grad_cam_layer(self.model) if layers else None)
                    controls[c.setting] = w.Dropdown(
                        options=layers, value=value, description=c.label
                    )
                elif c.kind == "float":
                    controls[c.setting] = w.FloatSlider(
                        value=default, min=c.low, max=c.high, step=c.step, **common
                    )
                else:
                    controls[c.setting] = w.IntSlider(
                        value=default, min=c.low, max=c.high, step=c.step, **common
                    )
        self._setting_names = set(controls)
        return controls

    def used_settings(self, method: str) -> tuple[str, ...]:
        """The settings of ``method`` that have controls."""
        return tuple(c.setting for c in method_by_title(method).controls)

    def _show_parameters(self) -> None:
        used = self.used_settings(self.controls["method"].value)
        for name in self._settings:
            self.controls[name].layout.display = "" if name in used else "none"

    # -- computing and drawing ----------------------------------------------------------
    def key(self) -> tuple:
        """The cache key of the current settings: (image, class, method, parameters)."""
        method = self.controls["method"].value
        params = tuple((p, self.controls[p].value) for p in self.used_settings(method))
        return (
            self._image_keys[self.image_name],
            int(self.controls["class"].value),
            method,
            params,
        )

    def _set_progress(self, fraction: float) -> None:
        self.progress.value = int(round(100 * fraction))

    def settings(self, method: str) -> dict[str, Any]:
        """The method's registry defaults, its explorer values, then its controls' values."""
        values = {p: self.controls[p].value for p in self.used_settings(method)}
        chosen = method_by_title(method)
        return chosen.settings(**{**chosen.explorer, **values})

    def _cost(self, method: str) -> str:
        """How many passes through the network the method needs (shown while it runs)."""
        size = tuple(self.model.inputs[0].shape[1:3])
        passes = method_by_title(method).count_passes(self.settings(method), size, self.model)
        parts = [f"{int(passes.backward)} forward+backward"] if passes.backward > 1 else []
        parts += [f"{int(passes.forward)} forward"] if passes.forward > 1 else []
        return f" ({' and '.join(parts)} passes)" if parts else ""

    def _compute(self, method: str, image: np.ndarray, cls: int) -> tuple[np.ndarray, str]:
        """The library's method with the progress hook: the same map as calling it directly."""
        with warnings.catch_warnings():  # IG at the explorer's cap: said in the status line
            warnings.filterwarnings("ignore", "Integrated Gradients did not reach")
            values, _, completeness = method_by_title(method).run(
                self.model, image, cls, progress=self._set_progress, **self.settings(method)
            )
        note = "" if completeness is None else f"completeness gap {completeness.relative_gap:.1%}"
        if getattr(completeness, "steps", None):
            note += f" with {completeness.steps} steps"
        if getattr(completeness, "converged", True) is False:
            note += " (the explorer's cap: not yet within the tolerance)"
        return values, note

    def render(self) -> np.ndarray:
        """Compute the current map (or take it from the cache) and redraw. Returns the map."""
        start, cpu = time.perf_counter(), time.process_time()
        key = self.key()
        _, cls, method, params = key
        image = self.images[self.image_name]
        cached = key in self.cache
        if not cached:
            self.progress.bar_style = "info"
            self._set_progress(0.0)
            self.status.value = f"Computing {method}{self._cost(method)}..."
            self.cache[key] = self._compute(method, image, cls)
            self.compute_count += 1
        values, note = self.cache[key]
        self._set_progress(1.0)
        self.progress.bar_style = "success"
        self.last_map, self.last_key = values, key
        settings = ", ".join(f"{p}={v}" for p, v in params)
        title = f"{method}{f' ({settings})' if settings else ''}, class {cls}"
        self.view.value = explorer_png(
            image, values, title, method_by_title(method).signed,
            alpha=self.controls["alpha"].value, image_name=self.image_name,
        )  # fmt: skip
        self.last_seconds = time.perf_counter() - start
        self.last_cpu_seconds = time.process_time() - cpu
        source = "from the cache" if cached else "computed"
        timing = f" ({self.last_seconds:.1f} s)"
        self.status.value = f"{title}: {source}{timing}{'; ' + note if note else ''}."
        return values

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def explorer(
    model: keras.Model, images: Mapping[str, np.ndarray] | None = None
) -> SaliencyExplorer:
    """An interactive saliency explorer for ``model`` (show the result in a notebook).

    ``images``: ``{name: image}`` (arrays in [0, 255] or [0, 1], any size: resized to
    the model's input); default the bundled photos (cat, espresso, rocket, grace_hopper).
    Returns a :class:`SaliencyExplorer`: ``.widget`` (the user interface), ``.controls``
    (its widgets by name: image, upload, class, class_search, method, alpha, and one per
    setting of the registered methods: layer, noise, n, tolerance, patch, stride),
    ``.render()``, ``.last_map``, ``.cache`` and ``.compute_count``.
    """
    return SaliencyExplorer(model, images)
