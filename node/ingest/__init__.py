"""Ingest: a declarative mapping turns a source system's rows into canonical records.

:class:`Mapping` is the parsed mapping file (its format is documented in
:mod:`node.ingest.mapping`); :func:`read_records` streams an input file through
it as :class:`RowResult` values; :func:`count_rows` estimates a progress total.
"""

from node.ingest.mapping import Mapping
from node.ingest.reader import RowResult, count_rows, detect_format, read_records

__all__ = ["Mapping", "RowResult", "count_rows", "detect_format", "read_records"]
