"""A small stand-in for Colab's ``google.colab`` package, for the CI's Colab simulation.

Only what the course uses: ``files.upload()`` and ``files.download(path)``. Not a fake of
results: uploads come from the folder ``$COLAB_SIM_UPLOADS`` (written into the working
folder, as Colab does), downloads are copied to ``$COLAB_SIM_DOWNLOADS``.
"""

from . import files

__all__ = ["files"]
