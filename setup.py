"""The compiled part of the package: the word table's kernels (Cython), built at install.

Everything else is in pyproject.toml.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "toolkit.wordtable.kernels",
            ["toolkit/wordtable/kernels.pyx"],
            extra_compile_args=["-O3"],
        )
    ]
)
