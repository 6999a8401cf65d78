"""Sphinx configuration of the toolkit docs: ``sphinx-build -W -b html docs docs/_build/html``.

Sphinx, not MkDocs, because the pieces the docs are made of are Sphinx's: the API from the
numpydoc docstrings (autodoc + napoleon), the CLI reference from the click commands
(sphinx-click), the notebooks executed at build time (myst-nb); dask, distributed and streamz
document themselves the same way.
"""

from __future__ import annotations

import toolkit

project = "toolkit"
author = "the toolkit developers"
release = version = toolkit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_click",
    "myst_nb",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "notebooks/.ipynb_checkpoints"]

napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": True}

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # README sections included with their own heading levels

nb_execution_mode = "force"  # the notebooks run at every build, on an embedded cluster
nb_execution_timeout = 600
nb_execution_raise_on_error = True

html_theme = "furo"
html_title = "toolkit"
