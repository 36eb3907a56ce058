"""JWT verification (RFC 8725): every rule is a test that can fail."""

from __future__ import annotations

import datetime as dt
import json
from base64 import urlsafe_b64encode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from accord.errors import ConfigError, InvalidArgument, Unauthenticated
from accord.identity import DevIdentityProvider, IssuerConfig, TokenVerifier
from tests.conftest import NOW

IDP = DevIdentityProvider.create("lakeside_so")
OTHER = DevIdentityProvider.create("rivertown_pd")


def verifier(**overrides: object) -> TokenVerifier:
    configs = {}
    for idp in (IDP, OTHER):
        cfg = IssuerConfig(agency=idp.agency, issuer=idp.issuer,
                           keys={idp.kid: idp.key.public_key()}, **overrides)  # type: ignore[arg-type]
        configs[idp.issuer] = cfg
    return TokenVerifier(configs)


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": IDP.issuer, "sub": "det.a", "aud": "accord-hub",
        "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600, "jti": "j1",
        "agency": "lakeside_so", "roles": ["investigator"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, object], *, key: object = None, alg: str = "EdDSA",
         headers: dict[str, object] | None = None) -> str:
    return jwt.encode(payload, key or IDP.key, algorithm=alg,  # type: ignore[arg-type]
                      headers={"kid": "dev-1", **(headers or {})})


def reason(token: str, at: dt.datetime = NOW) -> str:
    with pytest.raises(Unauthenticated) as info:
        verifier().verify(token, at)
    assert info.value.message == "invalid token"  # never more detail to the caller
    return info.value.reasons[0]


def test_valid_token_gives_the_principal() -> None:
    p = verifier().verify(IDP.issue("det.a", ("investigator", "auditor"), NOW), NOW)
    assert (p.subject, p.agency, p.roles) == ("det.a", "lakeside_so",
                                              frozenset({"investigator", "auditor"}))
    assert p.expires_at == NOW + dt.timedelta(minutes=15)


@pytest.mark.parametrize("missing", ["exp", "iat", "aud", "iss", "sub", "jti"])
def test_every_required_claim_is_required(missing: str) -> None:
    expected = "token_unknown_issuer" if missing == "iss" else "token_claim_missing"
    assert reason(sign(claims(**{missing: None}))) == expected


def test_expiry_uses_the_given_time_with_bounded_leeway() -> None:
    token = sign(claims())
    verifier().verify(token, NOW + dt.timedelta(seconds=600 + 29))
    assert reason(token, NOW + dt.timedelta(seconds=600 + 31)) == "token_expired"


def test_future_iat_and_nbf_are_refused() -> None:
    assert reason(sign(claims(iat=int(NOW.timestamp()) + 120))) == "token_issued_in_future"
    assert reason(sign(claims(nbf=int(NOW.timestamp()) + 120))) == "token_not_yet_valid"


def test_a_verified_token_is_checked_again_for_time_at_every_use() -> None:
    v = verifier()
    token = sign(claims(nbf=int(NOW.timestamp()) + 60))
    first = v.verify(token, NOW + dt.timedelta(seconds=60))
    # Remembered: the same principal, without verifying the signature again...
    assert v.verify(token, NOW + dt.timedelta(seconds=300)) is first
    # ...but expiry, nbf and iat are checked at each use, as on the first.
    for at, expected in ((NOW + dt.timedelta(seconds=600 + 31), "token_expired"),
                         (NOW, "token_not_yet_valid"),
                         (NOW - dt.timedelta(seconds=31), "token_issued_in_future")):
        with pytest.raises(Unauthenticated) as info:
            v.verify(token, at)
        assert info.value.reasons == (expected,)
    assert v.verify(token, NOW + dt.timedelta(seconds=600)) is first


def test_only_the_exact_token_is_remembered_and_never_a_failure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    v = verifier()
    token = sign(claims())
    v.verify(token, NOW)
    head, payload, signature = token.split(".")
    forged = sign(claims(sub="det.b"), key=OTHER.key)  # signed by the wrong agency's key
    tampered = ".".join((head, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")))
    for bad in (forged, tampered, token + " "):
        for _ in range(2):  # a failure is not remembered either
            with pytest.raises(Unauthenticated):
                v.verify(bad, NOW)
    # The bound: the oldest token is forgotten and verified in full again.
    monkeypatch.setattr("accord.identity.VERIFIED_TOKENS", 2)
    calls: list[str] = []
    full = v._verify

    def counting(t: str, now: dt.datetime) -> object:
        calls.append(t)
        return full(t, now)

    monkeypatch.setattr(v, "_verify", counting)
    others = [sign(claims(jti=f"j{i}")) for i in (2, 3)]
    for t in others:
        v.verify(t, NOW)
    v.verify(others[1], NOW)
    v.verify(token, NOW)
    assert calls == [*others, token]


def test_overlong_lifetime_is_refused() -> None:
    assert reason(sign(claims(exp=int(NOW.timestamp()) + 7200))) == "token_lifetime_too_long"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"aud": "someone-else"}, "token_wrong_audience"),
        ({"iss": "https://evil.example"}, "token_unknown_issuer"),
        ({"agency": "rivertown_pd"}, "token_agency_mismatch"),
        ({"roles": "investigator"}, "token_roles_malformed"),
        ({"sub": ""}, "token_claims_malformed"),
        ({"exp": "tomorrow"}, "token_invalid"),
    ],
)
def test_wrong_claims_are_refused(change: dict[str, object], expected: str) -> None:
    assert reason(sign(claims(**change))) == expected


def test_alg_none_is_refused() -> None:
    token = jwt.encode(claims(), key=None, algorithm="none", headers={"kid": "dev-1"})
    assert reason(token) == "token_algorithm_not_allowed"


def test_algorithm_confusion_hs256_with_public_key_is_refused() -> None:
    public_pem = IDP.public_pem
    header = urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "dev-1", "typ": "JWT"}).encode())
    body = urlsafe_b64encode(json.dumps(claims()).encode())
    import hashlib
    import hmac
    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    sig = urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    token = (signing_input + b"." + sig.rstrip(b"=")).decode()
    assert reason(token) == "token_algorithm_not_allowed"


def test_es256_token_for_an_eddsa_only_issuer_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    assert reason(sign(claims(), key=key, alg="ES256")) == "token_algorithm_not_allowed"


def test_unknown_and_malicious_kid_are_refused() -> None:
    assert reason(sign(claims(), headers={"kid": "dev-2"})) == "token_unknown_kid"
    assert reason(sign(claims(), headers={"kid": "../../etc/passwd"})) == "token_unknown_kid"


@pytest.mark.parametrize("header", ["jku", "x5u", "jwk", "x5c"])
def test_key_reference_headers_are_refused_never_fetched(header: str) -> None:
    token = sign(claims(), headers={header: "https://evil.example/keys"})
    assert reason(token) == "token_header_key_reference"


def test_oversized_and_garbage_tokens_are_refused() -> None:
    assert reason(sign(claims(pad="x" * 9000))) == "token_too_large"
    assert reason("not.a.jwt") == "token_malformed"
    assert reason("") == "token_malformed"


def test_another_agencys_key_cannot_sign_for_this_agency() -> None:
    assert reason(sign(claims(), key=OTHER.key)) == "token_bad_signature"


def test_issuer_config_refuses_unsafe_settings() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ConfigError, match="not allowed"):
        IssuerConfig(agency="a", issuer="i", keys={"k": key}, algorithms=frozenset({"HS256"}))
    with pytest.raises(ConfigError, match="no keys"):
        IssuerConfig(agency="a", issuer="i", keys={})
    with pytest.raises(ConfigError, match="leeway"):
        IssuerConfig(agency="a", issuer="i", keys={"k": key}, leeway=dt.timedelta(minutes=5))


def test_dev_idp_refuses_unknown_roles_and_round_trips(tmp_path: object) -> None:
    with pytest.raises(InvalidArgument, match="roles"):
        IDP.issue("det.a", ("superuser",), NOW)
    from pathlib import Path
    d = Path(str(tmp_path))
    IDP.save(d)
    loaded = DevIdentityProvider.load(d, "lakeside_so")
    assert loaded.public_pem == IDP.public_pem
    assert (d / "signing_key.pem").stat().st_mode & 0o777 == 0o600
    assert serialization.load_pem_public_key((d / "public_key.pem").read_bytes())
