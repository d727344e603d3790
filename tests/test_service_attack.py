"""The service's attack surface (OWASP API Security Top 10, 2023):

- API1 broken object-level authorisation: EVERY route of the API with an id in its path is
  called with other agencies' ids (the route list comes from the app itself, so a new route
  without a case here fails the test): 404, and a refused write changes nothing;
- API2 authentication: tokens stored and looked up only as SHA-256 digests (the database never
  sees a token), compared in constant time, revoked by ``service revoke-token``, expiring;
  the same 401 for unknown, revoked and expired tokens;
- API4 resources: 429 with ``Retry-After`` past a token's write budget (shared between worker
  processes), 413 on bodies and files over their limits (declared or chunked), slow clients
  cut off (request headers, body);
- API8 misconfiguration: the security headers on every response; no token, token digest or
  database password in what the server prints;
- the audit log: read-only through the API (admins only), append-only in the database.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from typing import Any

import pytest
from sqlalchemy import event, text
from typer.testing import CliRunner

from helpers.service_kit import Env, copy_template, make_env, start_serve, wait_for
from marsrelay.cli.main import app as cli
from marsrelay.service.api.headers import CONTENT_SECURITY_POLICY
from marsrelay.service.ops.admin import TOKEN_CACHE_S
from marsrelay.service.ratelimit import Limit, RateLimiter
from marsrelay.service.security import hash_token

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# -------------------------------------------------------------------------------------------
# API1: object-level authorisation on every route with an id
# -------------------------------------------------------------------------------------------


def _esa_only_request(env: Env) -> dict:
    """A request only ESA (and admins) may see: ESA's lander on ESA's TGO, with a file."""
    ov = env.overflights(orbiter="TGO", lander="Rosalind Franklin")[0]
    req = env.create("esa_planner", ov["id"])
    up = env.post(f"/requests/{req['id']}/files", "esa_planner",
                  files={"file": ("cmds.bin", b"forward", "application/octet-stream")})
    assert up.status_code == 201, up.text
    return {**req, "file_id": up.json()["id"], "overflight_id": ov["id"]}


#: For every API route with a path parameter (all of them are in the OpenAPI schema):
#: (method, path) -> how an outsider calls it with
#: ESA's ids, and the expected status. Overflights and orbiters are visible to every user
#: (the network is shared), so those refusals are 403, not 404.
def _cases(env: Env, esa: dict, nasa_req: dict) -> dict[tuple[str, str], list[tuple]]:
    rid, fid = esa["id"], esa["file_id"]
    elements = {"a_km": 3796.19, "i_deg": 74.0, "raan_deg": 30.0}
    return {
        ("GET", "/api/v1/requests/{request_id}"): [("GET", f"/requests/{rid}", None, 404)],
        ("POST", "/api/v1/requests/{request_id}/acknowledge"): [
            ("POST", f"/requests/{rid}/acknowledge", {"version": 1}, 404)],
        ("POST", "/api/v1/requests/{request_id}/reject"): [
            ("POST", f"/requests/{rid}/reject", {"version": 1, "reason": "x"}, 404)],
        ("POST", "/api/v1/requests/{request_id}/cancel"): [
            ("POST", f"/requests/{rid}/cancel", {"version": 1}, 404)],
        ("POST", "/api/v1/requests/{request_id}/result"): [
            ("POST", f"/requests/{rid}/result",
             {"version": 1, "returned_bits": 1, "forward_delivered": True}, 404)],
        ("POST", "/api/v1/requests/{request_id}/files"): [
            ("FILE", f"/requests/{rid}/files", None, 404)],
        ("GET", "/api/v1/requests/{request_id}/files"): [
            ("GET", f"/requests/{rid}/files", None, 404)],
        ("GET", "/api/v1/requests/{request_id}/files/{file_id}"): [
            ("GET", f"/requests/{rid}/files/{fid}", None, 404),
            # the outsider's own request with ESA's file id: not that request's file
            ("GET", f"/requests/{nasa_req['id']}/files/{fid}", None, 404)],
        ("GET", "/api/v1/overflights/{overflight_id}"): [
            ("GET", f"/overflights/{esa['overflight_id']}", None, 200)],
        ("PUT", "/api/v1/orbiters/{name}/trajectory"): [
            ("PUT", "/orbiters/TGO/trajectory", elements, 403)],
    }


@pytest.mark.parametrize("outsider", ["nasa_planner", "nasa_viewer", "asi_planner"])
def test_every_route_with_an_id_refuses_other_agencies(env: Env, outsider: str) -> None:
    esa = _esa_only_request(env)
    ov = env.overflights(orbiter="MRO", lander="Sample Lander")[0]
    nasa_req = env.create("nasa_planner", ov["id"])
    cases = _cases(env, esa, nasa_req)
    paths = env.client.get("/openapi.json").json()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() if "{" in p for m in ops}
    assert routes == set(cases), "a route with an id has no authorisation case here"
    before = env.snapshot()
    for (_method, template), calls in cases.items():
        for method, path, body, want in calls:
            if method == "FILE":
                r = env.post(path, outsider, files={"file": ("x", b"evil", "text/plain")})
            elif method == "PUT":
                r = env.client.put("/api/v1" + path, json=body, headers=env.h(outsider))
            elif method == "POST":
                r = env.post(path, outsider, body)
            else:
                r = env.get(path, outsider)
            assert r.status_code == want, (template, path, r.status_code, r.text)
            if want == 404:  # nothing of the record leaks in the refusal
                assert "Rosalind" not in r.text and "cmds.bin" not in r.text
    assert env.snapshot() == before
    # the body's id too: a request on ESA's lander by another agency is refused
    r = env.post("/requests", outsider, {"overflight_id": esa["overflight_id"],
                                         "return_bits": 5})
    assert r.status_code == 403
    assert env.snapshot() == before


# -------------------------------------------------------------------------------------------
# API2: tokens
# -------------------------------------------------------------------------------------------


def test_the_database_sees_only_token_digests(env: Env) -> None:
    token = env.tokens["esa_viewer"]
    seen: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append(f"{statement} {parameters!r}")

    event.listen(env.service.db.engine, "before_cursor_execute", spy)
    try:
        env.service.forget_tokens()
        assert env.service.authenticate(token) is not None
        assert env.service.authenticate(token + "x") is None
    finally:
        event.remove(env.service.db.engine, "before_cursor_execute", spy)
    assert seen and not any(token in s for s in seen)
    assert any(hash_token(token) in s for s in seen)
    with env.service.db.engine.connect() as conn:
        stored = [r[0] for r in conn.execute(text("SELECT token_hash FROM tokens"))]
    assert hash_token(token) in stored and token not in stored


def test_digests_are_compared_in_constant_time(env: Env, monkeypatch) -> None:
    calls: list[tuple] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("marsrelay.service.security.hmac.compare_digest", spy)
    env.service.forget_tokens()
    token = env.tokens["nasa_viewer"]
    assert env.get("/me", "nasa_viewer").status_code == 200
    digest = hash_token(token).encode()
    assert (digest, digest) in calls


runner = CliRunner()


def _same_401(env: Env, token: str) -> str:
    r = env.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    return r.json()["detail"]


def test_revoke_token_by_user_and_by_token(env: Env) -> None:
    unknown = _same_401(env, "no-such-token-" + "x" * 30)
    made = runner.invoke(cli, ["service", "add-user", "esa_planner", "--agency", "ESA",
                               "--role", "planner", "--db", env.url])
    assert made.exit_code == 0, made.output
    second = made.stdout.strip().splitlines()[-1]
    env.tokens = {**env.tokens, "second": second}
    assert env.get("/me", "second").status_code == 200
    # one token, read from stdin (never on the command line)
    res = runner.invoke(cli, ["service", "revoke-token", "--token-stdin", "--db", env.url],
                        input=second + "\n")
    assert res.exit_code == 0 and "revoked 1" in res.stdout, res.output
    wait_for(lambda: env.get("/me", "second").status_code == 401, TOKEN_CACHE_S + 10,
             "the revoked token to be refused")
    assert _same_401(env, second) == unknown
    assert env.get("/me", "esa_planner").status_code == 200  # the user's other token lives
    # every token of a user
    res = runner.invoke(cli, ["service", "revoke-token", "nasa_planner", "--db", env.url])
    assert res.exit_code == 0 and "revoked 1" in res.stdout, res.output
    wait_for(lambda: env.get("/me", "nasa_planner").status_code == 401, TOKEN_CACHE_S + 10,
             "the user's tokens to be refused")
    assert env.get("/me", "nasa_viewer").status_code == 200
    with env.service.db.engine.connect() as conn:
        audit = conn.execute(text("SELECT count(*) FROM audit WHERE action = 'revoke_token'"))
        assert audit.scalar_one() == 2
    res = runner.invoke(cli, ["service", "revoke-token", "nobody", "--db", env.url])
    assert res.exit_code == 2 and "nobody" in res.stderr
    res = runner.invoke(cli, ["service", "revoke-token", "--db", env.url])
    assert res.exit_code == 2


def test_tokens_expire(env: Env) -> None:
    res = runner.invoke(cli, ["service", "add-user", "temp", "--agency", "ESA", "--role",
                              "viewer", "--expires-days", "1", "--db", env.url])
    assert res.exit_code == 0, res.output
    token = res.stdout.strip().splitlines()[-1]
    env.tokens = {**env.tokens, "temp": token}
    now_ms = time.time() * 1000
    with env.service.db.engine.connect() as conn:
        expires = conn.execute(text("SELECT expires_ms FROM tokens WHERE token_hash = :h"),
                               {"h": hash_token(token)}).scalar_one()
    assert abs(expires - (now_ms + 86_400_000)) < 120_000
    assert env.get("/me", "temp").status_code == 200
    with env.service.db.engine.begin() as conn:  # a day passes
        conn.execute(text("UPDATE tokens SET expires_ms = :t WHERE token_hash = :h"),
                     {"t": int(now_ms) - 1, "h": hash_token(token)})
    wait_for(lambda: env.get("/me", "temp").status_code == 401, TOKEN_CACHE_S + 10,
             "the expired token to be refused")
    res = runner.invoke(cli, ["service", "add-user", "temp2", "--agency", "ESA", "--role",
                              "viewer", "--expires-days", "-1", "--db", env.url])
    assert res.exit_code == 2 and "--expires-days" in res.stderr


# -------------------------------------------------------------------------------------------
# API4: rate limits, sizes, slow clients
# -------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_writes_over_a_tokens_budget_get_429_with_retry_after(env: Env) -> None:
    clock = FakeClock()
    env.client.app.state.rate_limiter = RateLimiter({"write": Limit(0.5, 3)}, clock=clock)
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")
    before = env.snapshot()
    codes = [env.post("/requests", "esa_planner", {"overflight_id": ov[i]["id"],
                                                   "return_bits": 1}).status_code
             for i in range(3)]
    assert codes == [201, 201, 201]
    after_three = env.snapshot()
    r = env.post("/requests", "esa_planner", {"overflight_id": ov[3]["id"], "return_bits": 1})
    assert r.status_code == 429 and r.headers["retry-after"] == "2"  # 1 token at 0.5/s
    assert env.snapshot() == after_three != before
    # other tokens, and reads, are not affected
    assert env.get("/requests", "esa_planner").status_code == 200
    assert env.post("/plan", "nasa_planner", {"orbiter": "MRO"}).status_code == 200
    clock.now += 1.0
    assert env.post("/requests", "esa_planner", {"overflight_id": ov[3]["id"],
                                                 "return_bits": 1}).status_code == 429
    clock.now += 1.0  # as Retry-After said
    assert env.post("/requests", "esa_planner", {"overflight_id": ov[3]["id"],
                                                 "return_bits": 1}).status_code == 201


def test_worker_processes_share_one_budget(tmp_path) -> None:
    """``serve --workers N``: each worker has its own limiter on one shared file."""
    clock = FakeClock()
    store = str(tmp_path / "rate.db")
    workers = [RateLimiter({"write": Limit(1.0, 4), "login": Limit(0.1, 2)}, store=store,
                           clock=clock) for _ in range(2)]
    got = [workers[i % 2].check("token:abc", "write") for i in range(6)]
    assert got[:4] == [None] * 4 and all(w is not None and w > 0 for w in got[4:])
    assert workers[1].check("token:other", "write") is None
    assert [workers[0].check("login:ann", "login") for _ in range(3)][2] == pytest.approx(10.0)
    clock.now += 1.0
    assert workers[1].check("token:abc", "write") is None
    for w in workers:
        w.close()


def test_bodies_and_files_over_their_limits_get_413(env: Env) -> None:
    small = make_env(env.backend, env.url, env.tokens, max_body_bytes=2000, max_file_bytes=1000)
    try:
        ov = small.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
        req = small.create("esa_planner", ov["id"])
        before = small.snapshot()
        big = {"overflight_id": ov["id"], "return_bits": 1, "note": "n" * 3000}
        assert small.post("/requests", "esa_planner", big).status_code == 413

        def chunks():
            for _ in range(10):
                yield b" " * 500

        r = small.client.post("/api/v1/requests", content=chunks(),
                              headers={**small.h("esa_planner"),
                                       "content-type": "application/json"})
        assert r.status_code == 413 and "over the limit" in r.json()["detail"]
        r = small.post(f"/requests/{req['id']}/files", "esa_planner",
                       files={"file": ("big", b"x" * 1001, "application/octet-stream")})
        assert r.status_code == 413
        r = small.client.put("/api/v1/orbiters/MRO/trajectory", content=b"x" * 80_000,
                             headers={**small.h("nasa_planner"), "content-type": "text/plain"})
        assert r.status_code == 413
        assert small.snapshot() == before
    finally:
        small.close()


def _recv_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        part = sock.recv(65536)
        if not part:
            return data
        data += part


@pytest.mark.slow
def test_slow_clients_are_cut_off(sqlite_template, tmp_path) -> None:
    url = copy_template(sqlite_template, tmp_path)
    server = start_serve(url, env={"MARSRELAY_CLIENT_TIMEOUT_S": "1",
                                   "MARSRELAY_BODY_TIMEOUT_S": "3"})
    token = sqlite_template.tokens["esa_planner"]
    try:
        def connect() -> socket.socket:
            s = socket.create_connection(("127.0.0.1", server.port), timeout=20)
            s.settimeout(20)  # a bound on the test, far above the server's deadlines
            return s

        started = time.monotonic()
        with connect() as idle:  # says nothing at all
            assert b"408" in _recv_all(idle)
        with connect() as slow:  # headers that never end
            slow.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
            assert b"408" in _recv_all(slow)
        with connect() as slow:  # a body that stops halfway
            slow.sendall(b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Bearer " + token.encode() + b"\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                         b'{"overflight_id": ')
            reply = _recv_all(slow)
            assert reply.startswith(b"HTTP/1.1 408") and b"did not arrive" in reply, reply
        with connect() as drip:  # a body that trickles: each read on time, the whole late
            drip.sendall(b"POST /api/v1/requests HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Bearer " + token.encode() + b"\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            reply = b""
            drip.settimeout(0.5)
            for _ in range(60):
                try:
                    drip.sendall(b" ")
                    reply += drip.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if reply:
                    break
            assert reply.startswith(b"HTTP/1.1 408"), reply
        assert time.monotonic() - started < 30
        with server.client(token) as c:  # the server was never stuck
            assert c.get("/me").status_code == 200
    finally:
        assert server.stop() == 0


# -------------------------------------------------------------------------------------------
# The audit log
# -------------------------------------------------------------------------------------------


def test_the_audit_log_is_read_only(env: Env) -> None:
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    env.create("esa_planner", ov["id"])
    before = env.snapshot()
    assert env.get("/audit", "admin").status_code == 200
    assert env.get("/audit", "esa_planner").status_code == 403
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/api/v1/audit", "/api/v1/audit/1"):
            r = env.client.request(method, path, headers=env.h("admin"), json={"actor": "x"})
            assert r.status_code in (404, 405), (method, path, r.status_code)
    assert env.snapshot() == before
    # below the API, the database itself refuses to change or remove audit rows
    for statement in ("UPDATE audit SET actor = 'someone else'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), \
                env.service.db.engine.begin() as conn:
            conn.execute(text(statement))
    assert env.snapshot() == before


# -------------------------------------------------------------------------------------------
# API8: headers and logs
# -------------------------------------------------------------------------------------------

HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def test_security_headers_on_every_response(env: Env) -> None:
    assert CONTENT_SECURITY_POLICY.startswith(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'")
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    small = make_env(env.backend, env.url, env.tokens, max_body_bytes=100)
    try:
        responses = [
            small.client.get("/", follow_redirects=False),
            small.client.get("/openapi.json"),
            small.client.get("/docs"),  # gone: Swagger UI needs inline script and a CDN
            small.client.get("/api/v1/health"),
            small.client.get("/api/v1/me"),  # 401
            small.get("/requests/999999", "esa_planner"),  # 404
            small.client.delete("/api/v1/assets", headers=small.h("admin")),  # 405
            small.post("/requests", "esa_planner", {"note": "x" * 200}),  # 413 (middleware)
            small.post("/requests", "esa_planner", {"return_bits": "many"}),  # 422
        ]
    finally:
        small.close()
    # "/" belongs to the web pages (a page or a redirect to the log-in): headers only
    assert [r.status_code for r in responses[1:]] == [200, 404, 200, 401, 404, 405, 413, 422]
    for r in responses:
        for name, value in HEADERS.items():
            assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
        assert "no-store" in r.headers["cache-control"]


@pytest.mark.postgres
def test_no_token_or_password_in_the_server_output(pg_server, pg_template, tmp_path) -> None:
    name = f"mr_logs_{next(pg_server.counter)}"
    pg_server.sql(f"CREATE DATABASE {name} TEMPLATE mr_template")
    password = "Pw-never-printed-7f3a"  # trust authentication ignores it; it is in the URL
    url = pg_server.url(name).replace("postgres@", f"postgres:{password}@")
    tokens = pg_template.tokens
    secrets = [password, *tokens.values(), *(hash_token(t) for t in tokens.values())]
    printed = []
    for args in (["service", "init", str(pg_template.scenario_path), "--db", url],
                 ["service", "backup", str(tmp_path / "b.dump"), "--db", url]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.output
        printed.append(res.output)
    server = start_serve(url, "--access-log")
    try:
        with server.client(tokens["esa_planner"]) as c:
            ov = c.get("/overflights").json()[0]
            c.post("/requests", json={"overflight_id": ov["id"], "return_bits": 1})
            c.get("/requests", params={"state": "nonsense"})
            c.get("/requests/999999")
            c.get("/me", headers={"Authorization": "Bearer " + tokens["admin"][::-1]})
            pg_server.stop()
            try:
                assert c.get("/requests").status_code == 503  # logged with the driver's text
            finally:
                pg_server.start()
            wait_for(lambda: c.get("/requests").status_code == 200, 60, "reconnection")
    finally:
        assert server.stop() == 0
    printed.append(server.text())
    assert "GET /api/v1/requests" in server.text()  # the access log was on
    for text_out in printed:
        for secret in secrets:
            assert secret not in text_out
    pg_server.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_sha256_of_tokens_is_what_is_stored() -> None:
    """The digest function is SHA-256 of the token's UTF-8 text (an independent reference)."""
    assert hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
