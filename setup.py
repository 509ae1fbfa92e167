"""Build of the two optional C modules of the gateway's hot path (the metadata is in pyproject.toml):
``hj212._speedups`` (CRC, segment split) and ``totalcap.ingest.gateway._fastrows`` (sample lines).

Both are optional: when they cannot be built (no C compiler, no Python headers) the install still
succeeds and the pure-Python versions run (``totalcap gateway`` logs a warning naming what is missing).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("hj212._speedups", ["src/hj212/_speedups.c"], optional=True),
        Extension(
            "totalcap.ingest.gateway._fastrows", ["src/totalcap/ingest/gateway/_fastrows.c"], optional=True
        ),
    ]
)
