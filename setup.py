"""Build script: the C accelerator is optional.

``H2LITE_NO_EXTENSIONS=1`` skips it; ``H2LITE_REQUIRE_EXTENSIONS=1`` makes a
failed build an error.  Without a compiler the pure-Python package installs.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # compiler missing or failing
            if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
                raise
            print(f"h2lite: C accelerator not built ({exc}); using pure Python")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            if os.environ.get("H2LITE_REQUIRE_EXTENSIONS"):
                raise
            print(f"h2lite: C accelerator not built ({exc}); using pure Python")


extensions = []
if not os.environ.get("H2LITE_NO_EXTENSIONS"):
    extensions.append(
        Extension(
            "h2lite._speedups",
            [
                "src/h2lite/_speedups.c",
                "src/h2lite/_speedups_huffman.c",
                "src/h2lite/_speedups_hpack.c",
                "src/h2lite/_speedups_encoder.c",
                "src/h2lite/_speedups_fields.c",
            ],
            depends=["src/h2lite/_speedups.h"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror"] if os.name == "posix" else [],
            optional=not os.environ.get("H2LITE_REQUIRE_EXTENSIONS"),
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
