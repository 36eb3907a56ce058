"""``accord bench``: the benchmark suite (issue 9) from the command line.

The suite itself lives in the source tree's ``benchmarks/`` package (it is
not installed with Accord); these commands find it beside the ``accord``
package of an editable install and run it with the options given.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import click

_SOURCE = Path(__file__).resolve().parents[2]


def _suite(module: str) -> ModuleType:
    """A module of the source tree's benchmark suite (not part of the installed package)."""
    if (_SOURCE / "benchmarks" / "run.py").is_file() and str(_SOURCE) not in sys.path:
        sys.path.insert(0, str(_SOURCE))
    try:
        return importlib.import_module(f"benchmarks.{module}")
    except ImportError as exc:
        raise click.ClickException(
            f"the benchmark suite needs a source checkout of Accord ({exc})") from exc


@click.group("bench", invoke_without_command=True)
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Measure Accord against its bare floors (see bench/README.md).

    \b
    Examples:
      accord bench                                 # everything, default sizes (< 15 min)
      accord bench run --only search,audit --rounds 9
      accord bench run --index-large 10000000      # the full 10^7-record index
      accord bench run --quick --out /tmp/b        # a smoke test, not a result
      accord bench profile --in-flight 64          # where a search's time goes
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@bench.command("run", context_settings={"ignore_unknown_options": True})
@click.option("--only", default="", help="Comma-separated subset of "
              "search,index,ingest,audit,policy,matching.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench"),
              show_default=True, help="Where results.json, README.md and plots go.")
@click.option("--quick", is_flag=True, help="Tiny sizes: a smoke test, not a result.")
@click.option("--rounds", type=click.IntRange(1), default=5, show_default=True,
              help="Interleaved rounds per measurement.")
@click.option("--per-round", type=click.IntRange(1), default=100, show_default=True,
              help="Searches per variant per round.")
@click.option("--records-per-node", type=click.IntRange(1), default=2000, show_default=True,
              help="Records indexed at each searched node.")
@click.option("--tput-seconds", type=click.FloatRange(0.5), default=4.0, show_default=True,
              help="Seconds per saturated throughput run.")
@click.option("--index-small", type=click.IntRange(1), default=100_000, show_default=True,
              help="Records in the small index (the lookup ratio's baseline).")
@click.option("--index-large", type=click.IntRange(1), default=1_000_000, show_default=True,
              help="Records in the large index (10000000 for the issue's full size).")
@click.option("--ingest-records", type=click.IntRange(10), default=2000, show_default=True,
              help="Records per synthetic source file.")
@click.option("--audit-appends", type=click.IntRange(10), default=200, show_default=True,
              help="Unbatched audit appends (and raw commits, and fsyncs) per round.")
@click.option("--no-postgres", is_flag=True, help="SQLite only for the index benchmark.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON too.")
def run(only: str = "", out: Path = Path("bench"), quick: bool = False, rounds: int = 5,
        per_round: int = 100, records_per_node: int = 2000, tput_seconds: float = 4.0,
        index_small: int = 100_000, index_large: int = 1_000_000, ingest_records: int = 2000,
        audit_appends: int = 200, no_postgres: bool = False, no_plots: bool = False,
        as_json: bool = False) -> None:
    """Run the suite; write OUT/results.json, OUT/README.md and plots.

    \b
    Example:
      accord bench run                                  # defaults, < 15 min
      accord bench run --only search,audit --rounds 9 --out /tmp/bench-sa
    """
    args = ["--out", str(out), "--rounds", str(rounds), "--per-round", str(per_round),
            "--records-per-node", str(records_per_node), "--tput-seconds", str(tput_seconds),
            "--index-small", str(index_small), "--index-large", str(index_large),
            "--ingest-records", str(ingest_records), "--audit-appends", str(audit_appends)]
    args += ["--only", only] if only else []
    args += [flag for flag, on in (("--quick", quick), ("--no-postgres", no_postgres),
                                   ("--no-plots", no_plots), ("--json", as_json)) if on]
    _suite("run").main(args)


@bench.command("profile")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("bench/profile"), show_default=True,
              help="Where the py-spy profiles go.")
@click.option("--seconds", type=click.FloatRange(1), default=15.0, show_default=True,
              help="Seconds to sample for.")
@click.option("--in-flight", type=click.IntRange(1), default=1, show_default=True,
              help="1: the latency view; 64: the throughput view.")
def profile(out: Path, seconds: float, in_flight: int) -> None:
    """Sample the hub, the gateway and a node with py-spy while they serve searches.

    \b
    Example:
      accord bench profile --in-flight 64 --out /tmp/profile
    """
    import asyncio
    import tempfile

    from accord.logging import configure

    run_profile = _suite("profile").profile
    with tempfile.TemporaryDirectory(prefix="accord-profile-") as tmp:
        configure(json=True, file=Path(tmp) / "bench.log")
        asyncio.run(run_profile(Path(tmp), out, seconds, in_flight, 2000))
