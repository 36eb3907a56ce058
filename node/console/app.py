"""The console's web application (aiohttp, server-rendered Jinja2 pages).

Security, page by page: every response carries a strict Content-Security-Policy
(only this origin's own script and stylesheet; no inline script or style, no
framing) and no-store caching; the session cookie is Secure, HttpOnly and
SameSite=Strict and holds only a random id; every POST needs the session's CSRF
token (and, when the browser sends one, this origin); plaintext queries travel
only in POST bodies, never in URLs. Roles come from the verified token, and
the hub checks them again.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import structlog
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord import merkle
from accord.auditlog import signed_prefix
from accord.checkpoint import SignedCheckpoint
from accord.errors import AccordError, InvalidArgument, RemoteError
from accord.identity import ROLES, Principal, TokenVerifier
from accord.v1 import common_pb2, node_pb2
from accord.views import notification_to_dict, watch_to_dict
from node.console import analytics, views
from node.console.auth import SESSION_COOKIE, Session, Sessions, SignIn
from node.console.backend import Backend
from node.console.oidc import BINDING_COOKIE, PENDING_LIFETIME, OidcSignIn

log = structlog.get_logger("accord.console")

Clock = Callable[[], dt.datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

HERE = Path(__file__).parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on
    # form posts, which the CSRF check must refuse.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SEARCH_FIELDS = ("name", "dob", "phone", "email", "plate", "address", "vin")
AUDIT_FILTERS = ("actor", "agency", "case_number", "purpose", "event", "outcome", "since",
                 "until")
MAX_FORM_BYTES = 64 * 1024
#: The longest watch the hub sets (it checks again).
WATCH_MAX_DAYS = 90
SESSION_KEY: web.AppKey[Console] = web.AppKey("console")
SESSION: web.RequestKey[Session] = web.RequestKey("session", Session)


@dataclass(frozen=True)
class Settings:
    """What the console needs from the node's configuration."""

    agency: str
    agreements: tuple[str, ...]
    purposes: tuple[str, ...]
    hub_keys: tuple[Ed25519PublicKey, ...]
    log_origin: str
    session_minutes: int
    secure_cookies: bool = True
    token_minutes: int = 30


class Console:
    """The console's state: sessions, the sign-in seam, the backend, templates."""

    def __init__(self, settings: Settings, backend: Backend, sign_in: SignIn | None,
                 verifier: TokenVerifier, clock: Clock, *,
                 oidc: OidcSignIn | None = None) -> None:
        self.settings = settings
        self.backend = backend
        #: Development sign-in (a form); ``oidc`` is production sign-in.
        self.sign_in = sign_in
        self.oidc = oidc
        self.verifier = verifier
        self.clock = clock
        self.sessions = Sessions(dt.timedelta(minutes=settings.session_minutes))
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined)

    def render(self, request: web.Request, template: str, status: int = 200,
               **context: Any) -> web.Response:
        session: Session | None = request.get(SESSION)
        flashes = list(session.flashes) if session else []
        if session:
            session.flashes.clear()
        html = self.templates.get_template(template).render(
            agency=self.settings.agency, session=session,
            principal=session.principal if session else None,
            csrf=session.csrf if session else "", flashes=flashes, path=request.path,
            **context)
        return web.Response(text=html, content_type="text/html", status=status)


def console_of(request: web.Request) -> Console:
    return request.app[SESSION_KEY]


# --- middlewares ----------------------------------------------------------------------


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The same strict headers on every answer, redirects and errors included."""
    tls = request.secure
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _harden(exc, tls)
        raise
    _harden(response, tls)
    return response


def _harden(response: web.StreamResponse, tls: bool) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if tls:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the session (a new one if needed); check CSRF on every POST."""
    console = console_of(request)
    now = console.clock()
    session = console.sessions.get(request.cookies.get(SESSION_COOKIE, ""), now)
    fresh = session is None
    if session is None:
        session = console.sessions.new(now)
    request[SESSION] = session
    if request.method == "POST" and (fresh or not await _csrf_ok(request, session)):
        log.info("console_csrf_rejected", path=request.path, fresh=fresh,
                 origin=request.headers.get("Origin"))
        return console.render(request, "error.html", status=403, title="Request refused",
                              message="The form was stale or did not come from this "
                                      "console. Reload the page and try again.")
    response = await handler(request)
    current: Session = request[SESSION]
    if fresh or current is not session:
        set_session_cookie(response, current, console.settings.secure_cookies)
    return response


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return False
    form = await request.post()
    submitted = form.get("csrf_token")
    return isinstance(submitted, str) and session.check_csrf(submitted)


@web.middleware
async def unexpected_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A 400 naming the problem for bad input; an opaque 500 for anything unexpected.

    Of an unexpected error only its type reaches the log.

    Never the message or a traceback with locals: they could hold what the
    user typed (a name, a phone) or a released record.
    """
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except InvalidArgument as exc:
        # Input the person can correct (a field too long, not text): the message
        # names the field and what is wanted, and goes to them, not to the log.
        return console_of(request).render(request, "error.html", status=400,
                                          title="Not accepted", message=exc.message)
    except Exception as exc:
        log.error("console_error", path=request.path, error=type(exc).__name__)
        return console_of(request).render(request, "error.html", status=500,
                                          title="Something went wrong",
                                          message="The console could not answer. Try again; "
                                                  "if it persists, tell your administrator.")


def set_session_cookie(response: web.StreamResponse, session: Session, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, session.id, path="/", secure=secure, httponly=True,
                        samesite="Strict")


# --- helpers ----------------------------------------------------------------------------


def signed_in(request: web.Request, role: str | None = None) -> Session:
    """The signed-in session; redirects to sign-in, or 403 without ``role``."""
    session: Session = request[SESSION]
    if session.principal is None:
        raise web.HTTPSeeOther("/signin")
    if role is not None and not session.has_role(role):
        raise web.HTTPForbidden(
            text=console_of(request).templates.get_template("error.html").render(
                agency=console_of(request).settings.agency, session=session,
                principal=session.principal, csrf=session.csrf, flashes=[], path=request.path,
                title="Not allowed",
                message=f"This page needs the {role} role, which your sign-in does not carry."),
            content_type="text/html")
    return session


def error_message(exc: AccordError) -> str:
    if isinstance(exc, RemoteError):
        return f"{exc.status.name.lower().replace('_', ' ')}: {exc.message}"
    return exc.message


async def form_text(request: web.Request, name: str, limit: int = 256) -> str:
    form = await request.post()
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InvalidArgument(f"{name}: want text")
    value = value.strip()
    if len(value) > limit:
        raise InvalidArgument(f"{name}: longer than {limit} characters")
    return value


# --- sign-in ----------------------------------------------------------------------------


def _signin_form(request: web.Request, status: int = 200,
                 error: str = "") -> web.Response:
    console = console_of(request)
    return console.render(
        request, "signin.html", status=status, roles=sorted(ROLES),
        dev=console.sign_in is not None,
        description=console.sign_in.description if console.sign_in else "",
        oidc=console.oidc.description if console.oidc else "", error=error)


async def signin_page(request: web.Request) -> web.StreamResponse:
    return _signin_form(request)


def _landing(principal: Principal) -> str:
    return next((page for role, page in (("investigator", "/search"),
                                         ("custodian", "/custodian"), ("auditor", "/audit"))
                 if principal.has_role(role)), "/releases")


def _start_session(request: web.Request, token: str, principal: Principal,
                   now: dt.datetime) -> Session:
    console = console_of(request)
    session = console.sessions.sign_in(request[SESSION], token, principal, now)
    request[SESSION] = session
    log.info("console_signed_in", roles=sorted(principal.roles))
    return session


async def signin(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    if console.sign_in is None:
        raise web.HTTPNotFound()
    form = await request.post()
    roles = tuple(sorted({r for r in form.getall("role", []) if isinstance(r, str)}))
    now = console.clock()
    try:
        subject = await form_text(request, "subject")
        token = console.sign_in.token_for(
            subject, roles, now, dt.timedelta(minutes=console.settings.token_minutes))
        principal = console.verifier.verify(token, now)
    except AccordError as exc:
        return _signin_form(request, 400, error_message(exc))
    session = _start_session(request, token, principal, now)
    response = web.HTTPSeeOther(_landing(principal))
    set_session_cookie(response, session, console.settings.secure_cookies)
    raise response


async def oidc_start(request: web.Request) -> web.StreamResponse:
    """Send the browser to the agency's identity provider.

    A GET (a link), not a form: the page's CSP ``form-action 'self'`` would
    stop a form's redirect to the provider. Starting a flow is harmless on its
    own: only the browser holding its binding cookie can finish it.
    """
    console = console_of(request)
    if console.oidc is None:
        raise web.HTTPNotFound()
    started = console.oidc.begin(console.clock())
    response = web.HTTPSeeOther(started.authorization_url)
    # Lax, not Strict: the provider's redirect back is a cross-site navigation, and
    # this cookie must come with it. It binds the flow to this browser and is
    # read only by the callback.
    response.set_cookie(BINDING_COOKIE, started.binding, path="/signin/callback",
                        secure=console.settings.secure_cookies, httponly=True,
                        samesite="Lax", max_age=int(PENDING_LIFETIME.total_seconds()))
    raise response


async def oidc_callback(request: web.Request) -> web.StreamResponse:
    """The provider's redirect back: finish the flow, then continue on this site.

    The answer is a page that moves on by itself rather than a redirect: the
    session cookie is SameSite=Strict, and a browser that weighs the whole
    redirect chain (as RFC 6265bis asks) would not send it on a redirect in a
    navigation that started at the provider's site. A navigation this page
    starts is same-site in every browser.
    """
    console = console_of(request)
    if console.oidc is None:
        raise web.HTTPNotFound()
    now = console.clock()
    query = {key: request.query[key] for key in ("state", "code", "error")
             if key in request.query}
    try:
        token, principal = await console.oidc.complete(
            query, request.cookies.get(BINDING_COOKIE, ""), now)
    except AccordError as exc:
        response = _signin_form(request, 400 if isinstance(exc, InvalidArgument) else 401,
                                error_message(exc))
        response.del_cookie(BINDING_COOKIE, path="/signin/callback")
        return response
    session = _start_session(request, token, principal, now)
    response = console.render(request, "signed_in.html", landing=_landing(principal))
    set_session_cookie(response, session, console.settings.secure_cookies)
    response.del_cookie(BINDING_COOKIE, path="/signin/callback")
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    console.sessions.drop(request[SESSION].id)
    response = web.HTTPSeeOther("/signin")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    signed_in(request)
    raise web.HTTPSeeOther("/search")


# --- search and releases ---------------------------------------------------------------


async def search_page(request: web.Request) -> web.StreamResponse:
    signed_in(request, "investigator")
    console = console_of(request)
    return console.render(request, "search.html",
                          form=dict.fromkeys(("case_number", "purpose", "sweep", *SEARCH_FIELDS),
                                             ""),
                          result=None,
                          purposes=console.settings.purposes)


async def search(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "investigator")
    console = console_of(request)
    form = {name: await form_text(request, name) for name in
            ("case_number", "purpose", *SEARCH_FIELDS)}
    # Depth 2: the owning nodes also sweep the identifiers in the matched records.
    sweep = (await form_text(request, "sweep")) == "2"
    form["sweep"] = "2" if sweep else ""
    result, error = None, ""
    try:
        response = await console.backend.search(
            session.token, node_pb2.LocalSearchRequest(
                **{k: form[k] for k in ("case_number", "purpose", *SEARCH_FIELDS)},
                depth=2 if sweep else 0))
        result = views.search_view(response)
    except AccordError as exc:
        error = error_message(exc)
    return console.render(request, "search.html", form=form, result=result, error=error,
                          purposes=console.settings.purposes, status=400 if error else 200)


# --- watches and notifications ------------------------------------------------------------


async def watches_page(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "investigator")
    console = console_of(request)
    try:
        watches = [watch_to_dict(w) for w in
                   (await console.backend.list_watches(session.token)).watches]
        notes = [notification_to_dict(n) for n in
                 (await console.backend.notifications(session.token)).notifications]
        error = ""
    except AccordError as exc:
        watches, notes, error = [], [], error_message(exc)
    # Newest first: what arrived since the investigator last looked is on top.
    return console.render(request, "watches.html", watches=watches,
                          notifications=list(reversed(notes)), error=error,
                          purposes=console.settings.purposes)


async def add_watch(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "investigator")
    console = console_of(request)
    fields = {name: await form_text(request, name) for name in
              ("case_number", "purpose", *SEARCH_FIELDS)}
    days = await form_text(request, "days") or "30"
    try:
        # isascii: str.isdigit() also takes "²", which int() refuses.
        if not (days.isascii() and days.isdigit()) or not 1 <= int(days) <= WATCH_MAX_DAYS:
            raise InvalidArgument(f"days: got {days[:20]!r}, want a number of days from 1 to "
                                  f"{WATCH_MAX_DAYS}")
        ask = node_pb2.LocalAddWatchRequest(
            **fields, label=await form_text(request, "label", 120), days=int(days))
        await console.backend.add_watch(session.token, ask)
    except AccordError as exc:
        return console.render(request, "error.html", status=400, title="Watch not set",
                              message=error_message(exc))
    raise web.HTTPSeeOther("/watches")


async def remove_watch(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "investigator")
    console = console_of(request)
    try:
        await console.backend.remove_watch(session.token, request.match_info["watch_id"])
    except AccordError as exc:
        return console.render(request, "error.html", status=400, title="Watch not removed",
                              message=error_message(exc))
    raise web.HTTPSeeOther("/watches")


async def releases_page(request: web.Request) -> web.StreamResponse:
    session = signed_in(request)
    console = console_of(request)
    try:
        response = await console.backend.list_releases(session.token)
        rows, error = [views.release_view(r) for r in response.releases], ""
    except AccordError as exc:
        rows, error = [], error_message(exc)
    return console.render(request, "releases.html", releases=rows, error=error)


async def request_release(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "investigator")
    console = console_of(request)
    ask = node_pb2.LocalRequestReleaseRequest(
        pointer=await form_text(request, "pointer"),
        case_number=await form_text(request, "case_number"),
        purpose=await form_text(request, "purpose"),
        justification=await form_text(request, "justification", 1000))
    try:
        response = await console.backend.request_release(session.token, ask)
    except AccordError as exc:
        return console.render(request, "error.html", status=400, title="Release not requested",
                              message=error_message(exc))
    raise web.HTTPSeeOther(f"/releases/{response.release.release_id}")


async def _find_release(console: Console, session: Session,
                        release_id: str) -> dict[str, Any] | None:
    response = await console.backend.list_releases(session.token)
    for r in response.releases:
        if r.release_id == release_id:
            return views.release_view(r)
    return None


async def release_page(request: web.Request) -> web.StreamResponse:
    session = signed_in(request)
    console = console_of(request)
    release_id = request.match_info["release_id"]
    try:
        release = await _find_release(console, session, release_id)
    except AccordError as exc:
        return console.render(request, "error.html", status=502, title="Release",
                              message=error_message(exc))
    if release is None:
        raise web.HTTPNotFound(text="no such release of yours")
    return console.render(request, "release.html", release=release, record=None, error="")


async def fetch_release(request: web.Request) -> web.StreamResponse:
    session = signed_in(request)
    console = console_of(request)
    release_id = request.match_info["release_id"]
    try:
        response = await console.backend.fetch_release(session.token, release_id)
    except AccordError as exc:
        release = await _find_release(console, session, release_id)
        if release is None:
            return console.render(request, "error.html", status=400, title="Release",
                                  message=error_message(exc))
        return console.render(request, "release.html", status=400, release=release,
                              record=None, error=error_message(exc))
    record = (views.record_view(response.record_json, list(response.withheld))
              if response.record_json else None)
    return console.render(request, "release.html", release=views.release_view(response.release),
                          record=record, error="" if record else "Nothing to collect yet.")


# --- custodian ----------------------------------------------------------------------------


async def custodian_page(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "custodian")
    console = console_of(request)
    try:
        response = await console.backend.list_releases(
            session.token, common_pb2.RELEASE_STATE_PENDING_APPROVAL)
        pending, error = [views.release_view(r) for r in response.releases], ""
    except AccordError as exc:
        pending, error = [], error_message(exc)
    return console.render(request, "custodian.html", pending=pending, error=error)


async def decide(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "custodian")
    console = console_of(request)
    release_id = request.match_info["release_id"]
    decision = await form_text(request, "decision")
    reason = await form_text(request, "reason", 1000)
    if decision not in ("approve", "deny") or not reason:
        session.flashes.append("Choose approve or deny and give a reason.")
        raise web.HTTPSeeOther("/custodian")
    try:
        response = await console.backend.decide(session.token, release_id,
                                                decision == "approve", reason)
        r = views.release_view(response.release)
        session.flashes.append(f"Release {r['release_id']} {decision}d: now {r['state']} "
                               f"(audit entry #{r['audit_seq']}).")
    except AccordError as exc:
        session.flashes.append(f"Decision not recorded: {error_message(exc)}")
    raise web.HTTPSeeOther("/custodian")


# --- auditor --------------------------------------------------------------------------------


def _audit_filters(request: web.Request) -> dict[str, str]:
    filters = {}
    for name in AUDIT_FILTERS:
        value = request.query.get(name, "").strip()
        if value:
            if len(value) > 256 or not value.isprintable():
                raise InvalidArgument(f"{name}: want at most 256 printable characters")
            filters[name] = value
    return filters


async def audit_page(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "auditor")
    console = console_of(request)
    s = console.settings
    try:
        filters = _audit_filters(request)
        # The node's accepted checkpoint first: the log only grows, so one read
        # before the log is never ahead of it (read after, a release in between
        # could pin a checkpoint the log read has not reached yet).
        pinned = await console.backend.pinned_checkpoint()
        notes = await console.backend.checkpoints(session.token)
        everything = signed_prefix((await console.backend.entries(session.token, {}))[0], notes)
        report = await asyncio.to_thread(analytics.verify_entries, everything, notes,
                                         s.hub_keys, s.log_origin, pinned=pinned)
        docs = analytics.parse(everything)
        listed = (analytics.parse((await console.backend.entries(session.token, filters))[0])
                  if filters else docs)
    except AccordError as exc:
        return console.render(request, "error.html", status=400, title="Audit log",
                              message=error_message(exc))
    activity = analytics.activity(docs)
    anchor = (f"the node's accepted checkpoint at size {pinned[0]}" if pinned is not None
              else "nothing (the node has accepted no checkpoint yet)")
    return console.render(
        request, "audit.html", filters=filters, report=report, anchor=anchor,
        entries=listed[-500:][::-1],
        listed=len(listed), activity=activity, bars=analytics.bars,
        per_day=analytics.bars([(f"{a} {d}", n) for a, d, n in
                                activity.searches_per_agency_day]))


async def audit_entry(request: web.Request) -> web.StreamResponse:
    session = signed_in(request, "auditor")
    console = console_of(request)
    s = console.settings
    try:
        seq = int(request.match_info["seq"])
        # The node's pin before the log, as on the audit page.
        pinned = await console.backend.pinned_checkpoint()
        found, note = await console.backend.entries(session.token, {}, start=seq, limit=1)
        if not found or not note:
            raise web.HTTPNotFound(text=f"no audit entry #{seq}")
        entry = found[0]
        size = SignedCheckpoint.from_text(note).checkpoint.size
        proof = await console.backend.inclusion_proof(seq, size)
        check = analytics.check_inclusion(seq, entry, note, proof, s.hub_keys, s.log_origin)
        between = merkle.proof_between(size, pinned[0]) if check.ok and pinned else None
        consistency = (await console.backend.consistency_proof(*between)
                       if between is not None else [])
        check = analytics.check_against_pin(check, pinned, consistency)
    except AccordError as exc:
        return console.render(request, "error.html", status=400, title="Audit entry",
                              message=error_message(exc))
    except ValueError:
        raise web.HTTPNotFound() from None
    # An entry altered into something that is not an object still gets its page:
    # the check above says it is not verified.
    doc = next(iter(analytics.parse([entry])), {})
    # What the auditor's own browser needs to check the proof again, without
    # trusting this node: the entry's bytes, the proof, the signed note and
    # the hub's public keys (static/verify.js).
    browser = {
        "entry": base64.b64encode(entry).decode(), "index": seq - 1,
        "proof": ",".join(h.hex() for h in proof), "note": note,
        "hub_keys": ",".join(base64.b64encode(k.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
            for k in s.hub_keys),
        "key_name": analytics.KEY_NAME, "origin": s.log_origin,
    }
    return console.render(request, "entry.html", doc=doc, check=check, note=note,
                          raw=entry.decode(errors="replace"), browser=browser)


# --- dashboard ---------------------------------------------------------------------------


async def dashboard(request: web.Request) -> web.StreamResponse:
    session = signed_in(request)
    console = console_of(request)
    s = console.settings
    agreement = request.query.get("agreement", s.agreements[0] if s.agreements else "")
    purpose = request.query.get("purpose", "")
    counts, error = None, ""
    if "purpose" not in request.query:
        pass  # asking the federation is an audited query: only when the user asks
    elif agreement not in s.agreements or purpose not in s.purposes:
        error = "Choose one of your agreements and purposes."
    else:
        try:
            counts = views.counts_view(await console.backend.aggregate(
                session.token, agreement, purpose))
        except AccordError as exc:
            error = error_message(exc)
    return console.render(request, "dashboard.html", counts=counts, error=error,
                          agreement=agreement, purpose=purpose, agreements=s.agreements,
                          purposes=s.purposes, bars=analytics.bars)


def make_app(console: Console) -> web.Application:
    app = web.Application(middlewares=[security_headers, sessions, unexpected_errors],
                          client_max_size=MAX_FORM_BYTES)
    app[SESSION_KEY] = console
    app.router.add_get("/", home)
    app.router.add_get("/signin", signin_page)
    app.router.add_post("/signin", signin)
    app.router.add_get("/signin/oidc", oidc_start)
    app.router.add_get("/signin/callback", oidc_callback)
    app.router.add_post("/signout", signout)
    app.router.add_get("/search", search_page)
    app.router.add_post("/search", search)
    app.router.add_get("/watches", watches_page)
    app.router.add_post("/watches", add_watch)
    app.router.add_post("/watches/{watch_id}/remove", remove_watch)
    app.router.add_get("/releases", releases_page)
    app.router.add_post("/releases", request_release)
    app.router.add_get("/releases/{release_id}", release_page)
    app.router.add_post("/releases/{release_id}/fetch", fetch_release)
    app.router.add_get("/custodian", custodian_page)
    app.router.add_post("/custodian/{release_id}", decide)
    app.router.add_get("/audit", audit_page)
    app.router.add_get(r"/audit/entries/{seq:\d{1,18}}", audit_entry)
    app.router.add_get("/dashboard", dashboard)
    app.router.add_static("/static", HERE / "static", show_index=False)
    return app


@dataclass
class RunningConsole:
    runner: web.AppRunner
    url: str

    async def stop(self) -> None:
        await self.runner.cleanup()


async def serve(console: Console, listen: str,
                ssl_context: ssl.SSLContext | None = None) -> RunningConsole:
    """Serve the console on ``listen`` (port 0 picks one); returns once listening."""
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(make_app(console), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=ssl_context)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise AccordError(f"console: cannot listen on {listen}: {exc.strerror or exc}") from exc
    bound = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    url = f"{scheme}://{host}:{bound}/"
    return RunningConsole(runner, url)
