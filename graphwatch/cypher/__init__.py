"""graphwatch's Cypher subset: grammar and parser (Lark), IR, compiler to SQL."""

from .parser import parse

__all__ = ["parse"]
