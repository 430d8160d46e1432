"""Synthetic county generator: every source file of ``docs/sources.md`` plus the truth.

>>> from graphwatch.synth import generate_county
>>> counts = generate_county("data/county", persons=100_000, seed=7)   # doctest: +SKIP

Writes the source files and, in ``_truth/`` beside them (a folder a load does not read),
``ground_truth.csv`` (planted violations and near-misses of all
13 supervision models), ``_truth/person_records.csv`` (which true person every
person-naming row is about) and ``generator_params.json`` (thresholds the plants use).
See :mod:`graphwatch.synth.dirt` for the dirt and which of it touches planted rows, and
:mod:`graphwatch.synth.chunk` (with one module per domain: roles, companies, contracts,
benefits, assets, cases) and :mod:`graphwatch.synth.plants` for how the background is kept
clean and how each model is planted; :mod:`graphwatch.synth.chunk_files` writes a chunk out.
"""

from ..exc import CountyTooSmall
from .generate import MIN_PERSONS, generate_county, planted_per_model
from .spec import GROUND_TRUTH, MODEL_IDS, PARAMS_FILE, PERSON_FILES, PERSON_RECORDS, SOURCE_FILES, FileSpec

__all__ = ["generate_county", "planted_per_model", "CountyTooSmall", "MIN_PERSONS", "SOURCE_FILES",
           "GROUND_TRUTH", "PERSON_RECORDS", "PERSON_FILES", "PARAMS_FILE", "MODEL_IDS", "FileSpec"]
