"""Write the data document an OPA sidecar needs: ``data.agreements`` (and, at a node, ``data.local``).

The Rego policies in ``policies/`` read the agreements in their normalised
form, ``accord.agreement.load_agreements(files).to_policy_data()``, not the
agreement files themselves, and a node's policies also read its ``[local]``
rules as ``data.local``. With ``[policy] engine = "opa"`` and
``opa_push = false`` the OPA server loads this file itself (``opa run ...
data.json``), so it must be produced from the same config the server reads::

    python deploy/opa/make_data.py --config /etc/accord/node.toml --out /opa-data/data.json
    python deploy/opa/make_data.py --agreement deploy/agreements/local-pilot.yaml   # to stdout

``--config`` (hub.toml or node.toml) gives exactly what Accord itself would
push to OPA: the agreements the config names and, for a node, its local rules.
``--agreement`` gives the agreements alone. Either way the agreements are
fully validated first (including their identity-provider key files), and the
output is written atomically, so an OPA watching the file never reads half of it.

Exit status: 0 written, 2 the config or an agreement is invalid (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.agreement import load_agreements
from accord.config import load_toml
from accord.errors import AccordError, ConfigError


def data_from_config(config: Path) -> dict[str, Any]:
    """The policy data document of a hub or node config (what ``opa_push`` would send)."""
    tables = load_toml(config.resolve(), "-", {})
    if isinstance(tables.get("node"), dict):
        from node.config import NodeConfig

        source = NodeConfig.load(config).policy
    elif isinstance(tables.get("hub"), dict):
        from hub.config import HubConfig

        source = HubConfig.load(config).policy
    else:
        raise ConfigError(f"{config}: want a hub.toml ([hub]) or a node.toml ([node])")
    _agreements, _modules, data = source.load()
    return data


def data_from_agreements(files: Sequence[Path]) -> dict[str, Any]:
    """``{"agreements": {...}}`` for these agreement files."""
    return load_agreements(files).to_policy_data()


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # Readable by the OPA container's user; the data holds no secrets.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", type=Path, help="hub.toml or node.toml")
    source.add_argument("--agreement", type=Path, nargs="+", help="agreement files")
    parser.add_argument("--out", type=Path, help="where to write data.json (default: stdout)")
    args = parser.parse_args(argv)
    try:
        data = data_from_config(args.config) if args.config else data_from_agreements(args.agreement)
    except AccordError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        write_atomically(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
