"""The whole schema: every ``storage/models*.py`` module registers its tables on one metadata.

Alembic's env.py and the models-vs-migrations test use ``metadata()``, so a part that adds a
``storage/models_<part>.py`` (and its migration) is compared without editing anything here.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData

import storage
from storage.models import Base


def model_modules() -> list[str]:
    return sorted(
        f"storage.{m.name}"
        for m in pkgutil.iter_modules(storage.__path__)
        if m.name == "models" or m.name.startswith("models_")
    )


def metadata() -> MetaData:
    for name in model_modules():
        importlib.import_module(name)
    return Base.metadata
