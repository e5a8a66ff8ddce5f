"""The hands-on cells' catalogues: for each cell, the expected answers, their other correct
forms and the typical mistakes, computed with the library (:class:`helpers.exercises.Answer`).

One module per notebook; each public function takes what the notebook's cell has at hand
(the model, the image, the library's intermediate results) and returns ``{answer name:
Answer}`` for :func:`helpers.exercises.check_answers`. ``tests/`` runs every mistake as
student code, and several correct forms, through these catalogues.
"""
