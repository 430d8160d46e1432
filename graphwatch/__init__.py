"""graphwatch — graph analytics for relationship and conflict-of-interest discovery.

Sources are loaded through declarative mappings (``loaders/*.yaml``) into a workspace
(a folder holding a DuckDB database); supervision models (监督模型) are Cypher patterns.
"""

__version__ = "0.1.0"
