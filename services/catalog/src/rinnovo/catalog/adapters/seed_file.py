"""The seed catalog file, read and validated by the same models as the admin API."""

from importlib.resources import files
from pathlib import Path

import yaml

from rinnovo.catalog.domain.catalog import Catalog

DEFAULT_SEED = files("rinnovo.catalog").joinpath("seed/catalog.yaml")


def read_seed(path: Path | None = None) -> Catalog:
    text = path.read_text() if path else DEFAULT_SEED.read_text()
    return Catalog.model_validate(yaml.safe_load(text))
