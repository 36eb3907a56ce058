"""The committed generated code must be exactly what the .proto files give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_generated_code_matches_protos(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    fresh = sorted(p.name for p in (tmp_path / "accord" / "v1").iterdir())
    committed = sorted(p.name for p in (ROOT / "accord" / "v1").iterdir()
                       if p.is_file() and p.name != "__init__.py")
    assert fresh == committed
    drifted = [name for name in fresh
               if (tmp_path / "accord" / "v1" / name).read_bytes()
               != (ROOT / "accord" / "v1" / name).read_bytes()]
    assert drifted == [], f"run `make protos`: {drifted} differ from protos/"
