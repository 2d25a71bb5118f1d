"""The E4S manifest (``data/e4s.toml``): libraries the index knows by name."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Library:
    """One E4S library: where its source lives, its licence, how systems package it."""

    name: str
    title: str
    repository: str
    license: str
    debian: tuple[str, ...] = ()
    spack: str = ""
    extensions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "repository": self.repository,
                "license": self.license, "debian": list(self.debian), "spack": self.spack}


@lru_cache(maxsize=1)
def load_manifest() -> dict[str, Library]:
    """Every library in the shipped manifest, by lower-case name."""
    text = resources.files("ellora.knowledge_graph").joinpath("data/e4s.toml").read_text()
    entries = tomllib.loads(text)["library"]
    libraries = {}
    for entry in entries:
        library = Library(name=entry["name"], title=entry["title"],
                          repository=entry["repository"], license=entry["license"],
                          debian=tuple(entry.get("debian", ())), spack=entry.get("spack", ""),
                          extensions=tuple(entry.get("extensions", ())))
        libraries[library.name] = library
    return libraries


def find_library(name: str) -> Library | None:
    """The manifest entry for ``name`` (case, ``_`` and spaces ignored), or None."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    libraries = load_manifest()
    if key in libraries:
        return libraries[key]
    for library in libraries.values():
        if library.title.lower().replace(" ", "-") == key:
            return library
    return None
