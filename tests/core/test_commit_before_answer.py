"""A write is committed before its answer leaves: a client that reads right after a 201 (or a
redirect) sees what it wrote, and a commit that fails is never reported as a success."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from cityos.db import Database


def test_the_commit_happens_before_the_answer_starts(
    app: FastAPI, db: Database, auth_headers: dict[str, str]
) -> None:
    order: list[str] = []
    event.listen(db.sessionmaker, "after_commit", lambda _session: order.append("commit"))

    class Recorder:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            async def send_and_note(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    order.append(f"answer {message['status']}")
                await send(message)

            await self.inner(scope, receive, send_and_note)

    app.add_middleware(Recorder)
    with TestClient(app) as client:
        order.clear()
        response = client.put(
            "/api/disaster/mode",
            json={"active": True, "hazard": "earthquake", "towns": []},
            headers=auth_headers,
        )
    assert response.status_code == 200
    assert order.index("commit") < order.index("answer 200"), order
