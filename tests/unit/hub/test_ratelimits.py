"""Search rate buckets shared by hub processes through PostgreSQL.

Two engines stand for two hub processes on one database: the buckets are one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from accord import migrations
from accord.db import make_engine
from accord.errors import ConfigError
from accord.limits import Rate, RateLimiter
from hub.audit import MIGRATIONS as HUB_MIGRATIONS
from hub.ratelimits import SharedRateLimiter, rate_buckets

pytestmark = pytest.mark.postgres

T0 = 1_800_000_000.0


@pytest.fixture
def engines(postgres_url: str) -> Iterator[tuple[Engine, Engine]]:
    first, second = make_engine(postgres_url), make_engine(postgres_url)
    migrations.upgrade(HUB_MIGRATIONS, first)  # the hub's schema, as `accord db upgrade` makes it
    yield first, second
    first.dispose()
    second.dispose()


def test_two_hubs_take_from_one_bucket(engines: tuple[Engine, Engine]) -> None:
    rate = Rate(per_minute=60, burst=3)
    a = SharedRateLimiter(engines[0], rate, "investigator")
    b = SharedRateLimiter(engines[1], rate, "investigator")
    taken = [a.allow("lakeside_so/det.a", T0), b.allow("lakeside_so/det.a", T0),
             a.allow("lakeside_so/det.a", T0), b.allow("lakeside_so/det.a", T0)]
    assert taken == [True, True, True, False]
    # Per-process buckets would have let the fourth through (and two more).
    local = [RateLimiter(rate), RateLimiter(rate)]
    assert all(local[i % 2].allow("k", T0) for i in range(4))
    # Another investigator, or another scope, has a bucket of its own.
    assert b.allow("lakeside_so/det.b", T0)
    assert SharedRateLimiter(engines[1], rate, "agency").allow("lakeside_so/det.a", T0)


def test_buckets_refill_with_time_up_to_the_burst(engines: tuple[Engine, Engine]) -> None:
    rate = Rate(per_minute=60, burst=2)  # one token a second
    a = SharedRateLimiter(engines[0], rate, "investigator")
    b = SharedRateLimiter(engines[1], rate, "investigator")
    assert [a.allow("k", T0), b.allow("k", T0), a.allow("k", T0)] == [True, True, False]
    assert b.allow("k", T0 + 1.0) and not a.allow("k", T0 + 1.5)
    # A long pause refills to the burst, not beyond.
    assert [a.allow("k", T0 + 600), b.allow("k", T0 + 600), a.allow("k", T0 + 600)] == [
        True, True, False]


def test_a_clock_behind_takes_nothing_extra(engines: tuple[Engine, Engine]) -> None:
    rate = Rate(per_minute=60, burst=1)
    a = SharedRateLimiter(engines[0], rate, "investigator")
    b = SharedRateLimiter(engines[1], rate, "investigator")
    assert a.allow("k", T0 + 10)
    # The other replica's clock is ten seconds behind: no refill, and the bucket's
    # time does not go back.
    assert not b.allow("k", T0)
    with engines[0].connect() as conn:
        assert conn.execute(select(rate_buckets.c.updated_at)).scalar_one() == T0 + 10


def test_concurrent_takes_never_exceed_the_burst(engines: tuple[Engine, Engine]) -> None:
    rate = Rate(per_minute=0.01, burst=25)  # no refill worth speaking of in the test
    limiters = [SharedRateLimiter(e, rate, "agency") for e in engines]
    results: list[bool] = []
    lock = threading.Lock()

    def hammer(limiter: SharedRateLimiter) -> None:
        for _ in range(30):
            ok = limiter.allow("lakeside_so", T0)
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=hammer, args=(limiters[i % 2],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 120 and results.count(True) == 25


def test_shared_buckets_need_postgresql(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    with pytest.raises(ConfigError, match="shared_rate_limits: needs the hub's database on "
                                          "PostgreSQL, not sqlite"):
        SharedRateLimiter(engine, Rate(60, 20), "investigator")
