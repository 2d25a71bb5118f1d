"""Settings of the code index (``[index]`` in ``ellora.toml``, ``ELLORA_INDEX__*``)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class IndexSettings(BaseModel):
    """Where the knowledge graph and vector index live and how they are built and queried."""

    path: Path | None = Field(
        None, description="index directory (default: <state_dir>/index)")
    chroma_url: str | None = Field(
        None, description="a Chroma server URL (http://host:port); default: embedded, on disk")
    collection: str = Field("ellora_code", description="Chroma collection name")
    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="sentence-transformers model: a name packaged on PyPI or a local path")
    embedding_device: str = Field("cpu", description="torch device for embeddings")
    embedding_threads: int | None = Field(
        None, ge=1, description="torch threads (default: 1 per query, idle cores for batches)")
    embedding_batch: int = Field(32, gt=0, description="chunks per embedding batch")
    max_tokens: int = Field(
        128, gt=8, description="tokens per chunk the embedder reads (MiniLM was trained on 128)")
    vectors: bool = Field(
        True, description="embed chunks into the vector index; false builds the graph only")
    workers: int = Field(
        1, ge=1, description="parse processes for large batches of files (1: in-process; more "
                             "helps only when cores are idle)")
    max_file_bytes: int = Field(2_000_000, gt=0, description="larger files are skipped")
    chunk_max_lines: int = Field(80, gt=4, description="longest chunk, in lines")
    chunk_min_lines: int = Field(12, gt=0, description="smaller neighbours are merged")
    sources_dir: Path | None = Field(
        None, description="where git clones go (default: <index>/sources)")
    clone: bool = Field(True, description="try a shallow git clone when no path is given")
    clone_timeout_s: float = Field(300.0, gt=0, description="limit for one git clone")
    spack_prefixes: list[str] = Field(
        [], description="Spack (or other) install prefixes to look in for a library")
    vector_candidates: int = Field(40, gt=0, description="vector hits fetched per query")
    graph_weight: float = Field(
        0.1, ge=0, description="weight of the graph rank (0..1) added to the cosine similarity")
    lexical_weight: float = Field(
        0.05, ge=0, description="weight of name-word matches (0..1) added to the similarity")
    identifier_weight: float = Field(
        0.3, ge=0, description="bonus for defining an identifier named in the query or code")


def default_state_dir() -> Path:
    """Ellora's state directory when no ``Settings`` object is at hand."""
    base = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local/state"))
    return base / "ellora"


def index_dir(index: IndexSettings, state_dir: Path | None = None) -> Path:
    """The index directory: the configured one, else ``<state_dir>/index``."""
    if index.path is not None:
        return Path(index.path).expanduser()
    return (state_dir or default_state_dir()) / "index"
