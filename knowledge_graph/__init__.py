"""Code knowledge graph and retrieval over E4S sources (tree-sitter, networkx, chromadb)."""
