"""Property-based fuzzing of the whole OpenAPI schema (schemathesis over hypothesis): every
operation of ``/openapi.json`` gets generated inputs, valid and not, with an admin's token
(who sees every record) and with none. Checks: no 5xx ever, every status code is declared,
content types and bodies match the declared schemas.

Bounded for CI: :data:`EXAMPLES` inputs per operation, a fresh SQLite database per operation
and ``/plan``'s optimiser limited to one second.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from helpers.service_kit import Env, copy_template, make_env

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: Generated inputs per operation (about two dozen operations).
EXAMPLES = 25

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def fuzz_env(sqlite_template, tmp_path) -> Iterator[Env]:
    env = make_env("sqlite", copy_template(sqlite_template, tmp_path), sqlite_template.tokens,
                   plan_time_limit_s=1.0)
    try:
        yield env
    finally:
        env.close()


def _operations() -> list[str]:
    """The labels of every operation (``GET /api/v1/requests/{request_id}``...), read from the
    schema of an app that needs no database to describe itself."""
    from marsrelay.service.api import create_app
    from marsrelay.service.config import Settings

    app = create_app(Settings(db_url="sqlite:////nonexistent/never-opened.db"))
    return [r.ok().label for r in schemathesis.openapi.from_asgi(
        "/openapi.json", app).get_all_operations()]


@pytest.mark.parametrize("label", _operations())
def test_every_operation_answers_within_its_schema(fuzz_env: Env, label: str) -> None:
    operation = schemathesis.openapi.from_asgi(
        "/openapi.json", fuzz_env.client.app).find_operation_by_label(label)
    assert operation is not None

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        for headers in (fuzz_env.h("admin"), fuzz_env.h("esa_planner"), {}):
            case.call_and_validate(headers=headers, checks=CHECKS)

    fuzz()


def _fields(spec: dict, schema: dict) -> tuple[set[str], bool]:
    """(declared property names, is it a list) of a response schema."""
    many = schema.get("type") == "array"
    item = schema["items"] if many else schema
    name = item["$ref"].rsplit("/", 1)[1]
    return set(spec["components"]["schemas"][name]["properties"]), many


def test_answers_carry_exactly_the_declared_fields(fuzz_env: Env) -> None:
    """Routes write the service layer's dicts straight to JSON (``api/responses.py``): each
    answer must hold the declared fields, no more (nothing leaks past the schema), no less."""
    env = fuzz_env
    spec = env.client.get("/openapi.json").json()
    ov = env.overflights(orbiter="MRO", lander="Rosalind Franklin")[0]
    req = env.create("esa_planner", ov["id"])
    up = env.post(f"/requests/{req['id']}/files", "esa_planner",
                  files={"file": ("f", b"x", "text/plain")})
    assert up.status_code == 201, up.text
    ack = env.post(f"/requests/{req['id']}/acknowledge", "nasa_planner", {"version": 1})
    done = env.post(f"/requests/{req['id']}/result", "nasa_planner",
                    {"version": 2, "returned_bits": 5, "forward_delivered": True})
    assert (ack.status_code, done.status_code) == (200, 200)
    a, b = env.shared_overflights("TGO")  # two live overlapping requests: a conflict
    env.create("esa_planner", a["id"])
    env.create("nasa_planner", b["id"])
    seen = 0
    for path, ops in spec["paths"].items():
        op = ops.get("get")
        if op is None or "{" in path or "application/json" not in op["responses"]["200"].get(
                "content", {}):
            continue
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        if "$ref" not in schema and "$ref" not in schema.get("items", {}):
            continue  # not JSON of a model (the SSF export is XML)
        r = env.get(path.removeprefix("/api/v1"), "admin")
        assert r.status_code == 200, (path, r.text)
        fields, many = _fields(spec, schema)
        items = r.json() if many else [r.json()]
        assert items, path
        for item in items:
            assert set(item) == fields, (path, set(item) ^ fields)
        seen += 1
    assert seen >= 10
    for path, method, status, body in (
        ("/api/v1/requests/{request_id}/result", "post", "200", done.json()),
        ("/api/v1/requests", "post", "201", req),
        ("/api/v1/requests/{request_id}/files", "post", "201", up.json()),
    ):
        schema = spec["paths"][path][method]["responses"][status]["content"][
            "application/json"]["schema"]
        fields, _ = _fields(spec, schema)
        assert set(body) == fields, (path, set(body) ^ fields)
