"""Shared pieces of the web-page tests: passwords for the service kit's users, a client that
logs in through the log-in form, and the form tokens of a page."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from helpers.service_kit import USERS, Env

__all__ = ["PASSWORD", "PageClient", "csrf_of", "set_passwords"]


def PASSWORD(user: str) -> str:
    """The web-page password the tests give ``user``."""
    return f"pw-{user}-Mars2030"


def set_passwords(env: Env, *users: str) -> None:
    """Set the page password of these users (``service add-user`` with ``--password-stdin``:
    same agency and role adds a token and sets the password)."""
    for user in users:
        agency, role = USERS[user]
        env.service.add_user(user, agency, role, password=PASSWORD(user))


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LOGIN = re.compile(r'name="form_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


class PageClient:
    """A browser-like client of the pages (its own cookie jar)."""

    def __init__(self, env: Env, base_url: str = "http://testserver") -> None:
        self.env = env
        self.client = TestClient(env.client.app, base_url=base_url,
                                 raise_server_exceptions=False, follow_redirects=False)

    def login(self, user: str, password: str | None = None, *, next_path: str = "/timeline"):
        self.client.cookies.delete("marsrelay_session")  # a fresh log-in each time
        form = self.client.get("/login")
        assert form.status_code == 200, form.text
        token = _LOGIN.search(form.text).group(1)
        return self.client.post("/login", data={
            "username": user, "password": PASSWORD(user) if password is None else password,
            "form_token": token, "next": next_path})

    def get(self, path: str, **kw: Any):
        return self.client.get(path, **kw)

    def csrf(self, path: str = "/timeline") -> str:
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    def post(self, path: str, data: dict[str, Any], *, token: str | None = "auto", **kw: Any):
        """POST a form; ``token="auto"`` takes the session's token from the timeline page,
        None sends none."""
        if token == "auto":
            token = self.csrf()
        body = dict(data)
        if token is not None:
            body["csrf_token"] = token
        return self.client.post(path, data=body, **kw)

    def close(self) -> None:
        self.client.close()
