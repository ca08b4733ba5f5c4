"""Build hook: the wheel carries the top-level ``templates/`` and the stock ``app.yaml`` inside
the package, as ``bot/templates/`` and ``bot/app.yaml``, where an installed bot finds them
(``bot.settings``). In the repository they stay at the top level, where a checkout and an
editable install use them in place. Everything else is declared in pyproject.toml."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("templates", "app.yaml")  # top-level names copied into the package


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout
            return
        target = Path(self.build_lib) / "bot"
        for name in BUNDLED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(
                    source,
                    target / name,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"),
                )
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithData})
