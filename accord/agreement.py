"""Data-trust agreements: what the members of a federation agreed to share.

This is the agreement's core: its id, version, purposes and members. The hub
refuses searches for purposes the agreement does not name and members it does
not list. File format (JSON)::

    {"id": "local-pilot", "version": 1,
     "purposes": ["human_trafficking", "missing_person"],
     "members": ["rivertown_pd", "lakeside_so"]}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import ConfigError

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_WORD_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_KEYS = frozenset({"id", "version", "purposes", "members"})


@dataclass(frozen=True, slots=True)
class Agreement:
    id: str
    version: int
    purposes: tuple[str, ...]
    members: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Agreement:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
        return cls.from_dict(doc, str(path))

    @classmethod
    def from_dict(cls, doc: Any, where: str) -> Agreement:
        if not isinstance(doc, dict):
            raise ConfigError(f"{where}: want a JSON object")
        unknown = sorted(set(doc) - _KEYS)
        if unknown:
            raise ConfigError(f"{where}: {unknown[0]}: unknown field")
        missing = sorted(_KEYS - set(doc))
        if missing:
            raise ConfigError(f"{where}: {missing[0]}: missing")
        if not isinstance(doc["id"], str) or not _ID_RE.match(doc["id"]):
            raise ConfigError(f"{where}: id: got {doc['id']!r}, want a short lowercase id")
        version = doc["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError(f"{where}: version: got {version!r}, want a positive integer")
        lists = {}
        for key in ("purposes", "members"):
            values = doc[key]
            if not isinstance(values, list) or not values:
                raise ConfigError(f"{where}: {key}: want a non-empty list")
            for i, value in enumerate(values):
                if not isinstance(value, str) or not _WORD_RE.match(value):
                    raise ConfigError(f"{where}: {key}[{i}]: got {value!r}, want a lowercase id")
            if len(set(values)) != len(values):
                raise ConfigError(f"{where}: {key}: a value is listed twice")
            lists[key] = tuple(values)
        return cls(doc["id"], version, lists["purposes"], lists["members"])
