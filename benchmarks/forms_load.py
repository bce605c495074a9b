"""Online forms under load: submission p95 with 64 concurrent residents, and PDFs per second.

Each resident signs up and fills a profile; then, all 64 at once, each opens the 転入届 form
(prefilled) and files it, a bounded number of times, through the whole ASGI app (sessions, CSRF, checks,
encryption, insert) on SQLite in a temporary folder. The reference is a bare Starlette
endpoint doing the same database insert of the same values with no checks, from the same run.
PDFs: our A4 form with its QR code against a bare reportlab page with the same text.

    python benchmarks/forms_load.py [--residents 64] [--rounds 3] [--pdfs 100]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cityos.app import create_app
from cityos.forms import pdf
from cityos.forms.models import Submission
from cityos.forms.service import Shown
from cityos.settings import Settings

VALUES = {
    "postcode": "181-8555", "previous_address": "東京都武蔵野市緑町2-2-28",
    "moved_on": "令和8年4月1日", "phone": "0422-45-1151", "my_number": "123456789018",
    "card_use": "yes",
}  # fmt: skip

BENCH_KEY = "bench-secret-key-long-enough-for-it"


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[18] * 1000


def _hidden(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]


async def _resident(
    client: httpx.AsyncClient, n: int, rounds: int, times: list[float], ready: asyncio.Barrier
) -> None:
    page = (await client.get("/residents/signup")).text
    await client.post("/residents/signup", data={
        "email": f"r{n}@example.jp", "password": "mitaka-bench-2026",
        "csrf_token": _hidden(page, "csrf_token")})  # fmt: skip
    page = (await client.get("/my/profile")).text
    await client.post("/my/profile", data={
        "name": f"三鷹 {n}", "kana": "ミタカ", "birth_date": "1985-04-01",
        "address": "東京都三鷹市下連雀3-22-14", "csrf_token": _hidden(page, "csrf_token")})  # fmt: skip
    # Everyone has an account before anyone files: sign-ups (argon2 hashing, deliberately
    # slow) would otherwise sit in the measured submissions' queue.
    await ready.wait()
    for _ in range(rounds):
        html = (await client.get("/forms/tennyu-pre")).text
        data = {k: _hidden(html, k) for k in ("csrf_token", "form_id", "idempotency_key")}
        for name in ("name", "kana", "birth_date", "address"):
            data[name] = html.split(f'name="{name}" type="text" maxlength="300" value="', 1)[
                1
            ].split('"', 1)[0]
        started = time.perf_counter()
        answer = await client.post("/forms/tennyu-pre", data={**data, **VALUES})
        times.append(time.perf_counter() - started)
        assert answer.status_code == 303, answer.text[:300]


async def ours(folder: Path, residents: int, rounds: int) -> list[float]:
    settings = Settings(
        data_dir=folder / "ours", secret_key=BENCH_KEY,
        resident_logins_per_minute=100_000, form_submissions_per_minute=100_000,
    )  # fmt: skip
    app = create_app(settings)
    app.state.db.upgrade()
    times: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        clients = [
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1")
            for _ in range(residents)
        ]
        ready = asyncio.Barrier(residents)
        await asyncio.gather(
            *(_resident(c, n, rounds, times, ready) for n, c in enumerate(clients))
        )
        for c in clients:
            await c.aclose()
    app.state.db.dispose()
    return times


async def reference(folder: Path, residents: int, rounds: int) -> list[float]:
    """A bare Starlette endpoint inserting the same row (no session, CSRF or checks)."""
    settings = Settings(data_dir=folder / "ref", secret_key=BENCH_KEY)
    cityos = create_app(settings)  # for its migrated database only
    cityos.state.db.upgrade()
    async with cityos.router.lifespan_context(cityos):
        db = cityos.state.db
        with db.session() as session:
            from cityos.residents.models import Resident

            resident = Resident(email="ref@example.jp", password_hash="x")  # noqa: S106 (never logs in)
            session.add(resident)
            session.flush()
            resident_id = resident.id

        def insert(fields: dict[str, str]) -> int:
            with db.session() as session:
                row = Submission(resident_id=resident_id, form_id="tennyu-pre",
                                 idempotency_key=fields["key"], department_ja="市民課", values=fields)  # fmt: skip
                session.add(row)
                session.flush()
                return row.id

        async def endpoint(request: Request) -> Response:
            form = await request.form()
            fields = {k: str(v) for k, v in form.items()}
            from starlette.concurrency import run_in_threadpool

            row_id = await run_in_threadpool(insert, fields)
            return Response(status_code=303, headers={"location": f"/{row_id}"})

        bare = Starlette(routes=[Route("/submit", endpoint, methods=["POST"])])
        transport = httpx.ASGITransport(app=bare)
        times: list[float] = []

        async def one(n: int) -> None:
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            ) as client:
                for r in range(rounds):
                    started = time.perf_counter()
                    answer = await client.post("/submit", data={**VALUES, "key": f"{n}-{r}"})
                    times.append(time.perf_counter() - started)
                    assert answer.status_code == 303

        await asyncio.gather(*(one(n) for n in range(residents)))
    cityos.state.db.dispose()
    return times


def pdf_rates(count: int) -> tuple[float, float]:
    rows = [Shown(f"項目{i}", f"Field {i}", f"値 三鷹市下連雀三丁目22-14 {i}") for i in range(10)]
    started = time.perf_counter()
    for n in range(count):
        pdf.render(title_ja="転入届 事前入力", title_en="Moving-in", department_ja="市民課",
                   city_ja="三鷹市", number=n + 1, filed_at=datetime.now(UTC), status="received",
                   rows=rows, staff_url=f"http://127.0.0.1:8000/staff/forms/counter/{'x' * 60}{n}",
                   note="bench")  # fmt: skip
    ours_rate = count / (time.perf_counter() - started)
    pdf._fonts()
    started = time.perf_counter()
    for _ in range(count):
        canvas = Canvas(io.BytesIO(), pagesize=A4)
        canvas.setFont(pdf.MINCHO, 10)
        for i, row in enumerate(rows):
            canvas.drawString(50, 800 - 20 * i, f"{row.label_ja} {row.value}")
        canvas.showPage()
        canvas.save()
    return ours_rate, count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pdfs", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forms-bench-") as tmp:
        folder = Path(tmp)
        ours_times = asyncio.run(ours(folder, args.residents, args.rounds))
        ref_times = asyncio.run(reference(folder, args.residents, args.rounds))
    ours_pdf, ref_pdf = pdf_rates(args.pdfs)
    print(
        f"form submissions, {args.residents} concurrent residents x {args.rounds} (SQLite, in-process ASGI):"
    )
    print(
        f"  City OS /forms/tennyu-pre   p50 {statistics.median(ours_times) * 1000:7.1f} ms  p95 {p95(ours_times):7.1f} ms  ({len(ours_times)} submissions)"
    )
    print(
        f"  bare Starlette insert (ref) p50 {statistics.median(ref_times) * 1000:7.1f} ms  p95 {p95(ref_times):7.1f} ms  ({len(ref_times)} inserts)"
    )
    print(
        f"PDFs per second (one process): City OS form with QR {ours_pdf:.1f}/s; bare reportlab page (ref) {ref_pdf:.1f}/s"
    )


if __name__ == "__main__":
    main()
