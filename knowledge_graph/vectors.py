"""The vector index: chunks with their embeddings in Chroma (embedded on disk, or a server).

Ellora computes embeddings itself (``embed.py``) and hands Chroma vectors, so Chroma never
loads a model of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

FILTER_KEYS = ("repository", "path", "language", "kind")


@dataclass
class ChunkRecord:
    """One chunk as stored: id, code text, embedding text and metadata."""

    id: str
    document: str
    repository: str
    path: str
    start: int
    end: int
    language: str
    kind: str
    symbols: str

    def metadata(self) -> dict[str, Any]:
        return {"repository": self.repository, "path": self.path, "start": self.start,
                "end": self.end, "language": self.language, "kind": self.kind,
                "symbols": self.symbols}


def open_client(index_dir: Path, chroma_url: str | None) -> Any:
    """A Chroma client: ``HttpClient`` for a configured URL, else a ``PersistentClient``."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url)
        return chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=settings)


def where_clause(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` from ``{"repository": "kokkos", "language": ["cpp", "cuda"]}``."""
    if not filters:
        return None
    parts = []
    for key, value in filters.items():
        if key not in FILTER_KEYS:
            raise ValueError(f"unknown filter {key!r}: use one of {', '.join(FILTER_KEYS)}")
        if isinstance(value, (list, tuple, set)):
            parts.append({key: {"$in": list(value)}})
        else:
            parts.append({key: value})
    return parts[0] if len(parts) == 1 else {"$and": parts}


class VectorStore:
    """One Chroma collection of code chunks (cosine distance)."""

    def __init__(self, client: Any, collection: str):
        self.client = client
        self.collection = client.get_or_create_collection(
            collection, embedding_function=None, metadata={"hnsw:space": "cosine"})

    def add(self, records: list[ChunkRecord], embeddings: Any, batch: int = 2000) -> None:
        for first in range(0, len(records), batch):
            part = records[first:first + batch]
            self.collection.upsert(ids=[r.id for r in part],
                                   embeddings=embeddings[first:first + batch],
                                   documents=[r.document for r in part],
                                   metadatas=[r.metadata() for r in part])

    def delete_file(self, repository: str, path: str) -> None:
        self.collection.delete(where={"$and": [{"repository": repository}, {"path": path}]})

    def delete_repository(self, repository: str) -> None:
        self.collection.delete(where={"repository": repository})

    def count(self) -> int:
        return self.collection.count()

    def query(self, embedding: Any, n: int, filters: dict[str, Any] | None = None
              ) -> list[dict[str, Any]]:
        """Nearest chunks: dicts with id, document, metadata and similarity (1 - distance)."""
        found = self.collection.query(query_embeddings=[embedding], n_results=n,
                                      where=where_clause(filters),
                                      include=["documents", "metadatas", "distances"])
        return [{"id": i, "document": doc, "metadata": meta, "similarity": 1.0 - dist}
                for i, doc, meta, dist in zip(found["ids"][0], found["documents"][0],
                                              found["metadatas"][0], found["distances"][0])]

    def get(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Stored chunks by id (documents and metadata)."""
        if not ids:
            return {}
        found = self.collection.get(ids=ids, include=["documents", "metadatas"])
        return {i: {"id": i, "document": doc, "metadata": meta}
                for i, doc, meta in zip(found["ids"], found["documents"], found["metadatas"])}
