"""CountRecords in bounded memory: psycopg fetches a whole result before its first
row unless asked to stream, so a node's count held every record (with its body) at
once on PostgreSQL, on every dashboard refresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Run in a fresh process, so that its peak resident memory is the count's own.
SCRIPT = '''
import json, resource, sys
from sqlalchemy import text
from node.counts import CountQuery, count_records
from node.store import NodeStore

url, n = sys.argv[1], int(sys.argv[2])
store = NodeStore.open(url)
body = json.dumps({"jurisdiction": "Lake County", "narrative": "x" * 4000})
with store.engine.begin() as conn:
    conn.execute(text(
        "INSERT INTO records (source, source_id, record_type, occurred_on, labels, body, "
        "content_hash, updated_at) VALUES (:s, :i, 'cad_call', '2026-01-01', '[]', :b, :h, "
        "'2026-01-01T00:00:00+00:00')"),
        [{"s": "cad", "i": str(i), "b": body, "h": bytes(32)} for i in range(n)])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = count_records(store, CountQuery("x", frozenset({"cad_call"}), frozenset(), 10), {})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
store.close()
print(result.total, result.tables["county"]["Lake County"], (after - before) // 1024)
'''


def test_counting_records_does_not_hold_the_whole_table_in_memory(database_url: str,
                                                                  tmp_path: Path) -> None:
    n = 30_000  # about 120 MB of bodies: held at once, the peak grew by some 100 MB
    out = subprocess.run([sys.executable, "-c", SCRIPT, database_url, str(n)],
                         capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[2]).stdout
    total, lake_county, growth_mb = (int(v) for v in out.split())
    assert (total, lake_county) == (n, n)
    assert growth_mb < 40, f"peak memory grew by {growth_mb} MB counting {n} records"
