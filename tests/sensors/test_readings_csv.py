"""Readings from a CSV file, through the API and the staff page: every line that cannot be
used is reported by its line number and reason, and nothing else is lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from cityos.core.models import User
from cityos.core.text import to_wareki
from tests.conftest import csrf_of, login
from tests.sensors.conftest import NGSI, OSAWA, TOKYO_OFFSET, ago, create, entity, river

NOW = ago(0)


def jst(minutes_ago: float, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Japan time, as staff write it, of a moment before the module was loaded."""
    return (NOW - timedelta(minutes=minutes_ago) + TOKYO_OFFSET).strftime(fmt)


def readings_csv() -> str:
    wareki_day = to_wareki((NOW - timedelta(minutes=30) + TOKYO_OFFSET).date())
    return "\n".join(
        [
            "観測所,観測日時,項目,値,単位",
            f"nogawa-osawa,{jst(50)},height,0.50,m",  # line 2: station code, JST
            f"{OSAWA},{(NOW - timedelta(minutes=40)).strftime('%Y-%m-%dT%H:%M:%SZ')},height,52,cm",  # 3: entity id, UTC, cm
            "nogawa-osawa,きのう,height,0.6,m",  # 4: unreadable time
            f"nogawa-koganei,{jst(35)},height,0.6,m",  # 5: unknown station
            f"nogawa-osawa,{wareki_day} {jst(30, '%H時%M分')},height,０．５４,",  # 6: 和暦, full width
            f"nogawa-osawa,{jst(25)},height,欠測,m",  # 7: no value
            f"nogawa-osawa,{jst(20)},height,0.55,mm/h",  # 8: a unit of rain
            f"nogawa-osawa,{jst(30)},,0.58,",  # 9: the time of line 6 again: duplicate
            f"nogawa-osawa,{jst(15)},flow,3.5,",  # 10: another attribute of the station
            f"nogawa-osawa,{jst(10)},,0.56,",  # 11: the station's main attribute
        ]
    )


def upload(
    client: TestClient, headers: dict[str, str], data: bytes, name: str = "readings.csv"
) -> Any:
    """The file as the body, as `curl --data-binary @readings.csv -H 'Content-Type: text/csv'`."""
    return client.post(
        "/api/sensors/uploads",
        content=data,
        params={"filename": name},
        headers={**headers, "Content-Type": "text/csv"},
    )


def test_csv_upload_reports_bad_lines_by_number(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river())
    response = upload(client, auth_headers, readings_csv().encode())
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["lines_read"] == 10
    assert [(p["line"], p["column"]) for p in report["problems"]] == [
        (4, "観測日時 / observedAt"),
        (5, "観測所 / station"),
        (7, "値 / value"),
        (8, "単位 / unit"),
    ]
    assert "nogawa-koganei" in report["problems"][1]["message"]
    assert report["lines_rejected"] == 4
    assert report["readings_stored"] == 6
    assert [(f["line"], f["flag"]) for f in report["flagged"]] == [(9, "duplicate")]
    assert report["readings_ok"] == 5
    current = entity(client, options="keyValues")
    assert current["height"] == 0.56
    assert current["flow"] == 3.5
    history = client.get(f"{NGSI}/temporal/entities/{OSAWA}", params={"attrs": "height"}).json()
    assert [i["value"] for i in history["height"]] == [0.50, 0.52, 0.54, 0.56]

    again = client.get(f"/api/sensors/uploads/{report['id']}", headers=auth_headers)
    assert again.json()["problems"] == report["problems"]
    assert client.get(f"/api/sensors/uploads/{report['id']}").status_code == 401


def test_shift_jis_files_and_unusable_files(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    create(client, auth_headers, river())
    sjis = f"観測所,日時,値\r\nnogawa-osawa,{jst(5)},0.61\r\n".encode("cp932")
    report = upload(client, auth_headers, sjis).json()
    assert report["encoding"] == "Shift_JIS (CP932)"
    assert report["readings_ok"] == 1
    no_columns = upload(client, auth_headers, b"station,when\nnogawa-osawa,2026-06-01\n").json()
    assert no_columns["readings_stored"] == 0
    assert no_columns["problems"][0]["line"] == 1
    assert "観測日時" in no_columns["problems"][0]["message"]
    binary = upload(client, auth_headers, b"\x89PNG\r\n\x1a\n\xff\xfe\xfa", "photo.csv").json()
    assert binary["filename"] == "photo.csv"
    assert binary["readings_stored"] == 0
    assert "文字コード" in binary["problems"][0]["message"]
    assert entity(client, options="keyValues")["height"] == 0.61
    # A multipart form works too; anything else is refused.
    form = client.post(
        "/api/sensors/uploads",
        files={
            "file": (
                "more.csv",
                f"station,observedAt,value\nnogawa-osawa,{jst(4)},0.62\n".encode(),
                "text/csv",
            )
        },
        headers=auth_headers,
    )
    assert form.status_code == 201, form.text
    assert form.json()["filename"] == "more.csv"
    refused = client.post("/api/sensors/uploads", json={"a": 1}, headers=auth_headers)
    assert refused.status_code == 415
    assert refused.headers["content-type"] == "application/problem+json"


def test_staff_upload_page_lands_on_the_report(
    client: TestClient, auth_headers: dict[str, str], admin: User
) -> None:
    create(client, auth_headers, river())
    assert client.get("/staff/sensors", follow_redirects=False).status_code == 303
    login(client)
    page = client.get("/staff/sensors")
    assert page.status_code == 200
    assert "nogawa-osawa" in page.text
    response = client.post(
        "/staff/sensors/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("readings.csv", readings_csv().encode(), "text/csv")},
    )
    assert response.status_code == 200
    assert "/staff/sensors/uploads/" in str(response.url)
    text = response.text
    assert "取り込み結果" in text
    for line in ('<td class="num">4</td>', '<td class="num">5</td>', '<td class="num">9</td>'):
        assert line in text
    assert "nogawa-koganei" in text
    forged = client.post(
        "/staff/sensors/upload",
        data={"csrf_token": "forged"},
        files={"file": ("r.csv", b"a,b\n", "text/csv")},
    )
    assert forged.status_code == 403
    assert entity(client, options="keyValues")["height"] == 0.56
