"""The resident pages: report from the form (photo, map point or address), see it on the
public map and list without anyone's identity, and watch it under "my reports"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from cityos.db import Database
from cityos.reports import service
from cityos.reports.service import NewRequest
from cityos.settings import Settings
from tests.conftest import csrf_of
from tests.reports.conftest import (
    BASE,
    CITY_HALL,
    STATION,
    count_requests,
    first_photo_path,
)
from tests.reports.photos import (
    camera_jpeg,
    exif_of,
    format_of,
    gps_of,
    iphone_heic,
    is_green,
    size_of,
)


def send_form(
    client: TestClient,
    photo: bytes | None = None,
    *,
    follow: bool = False,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    **fields: Any,
) -> httpx.Response:
    page = client.get("/reports/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), "service_code": "graffiti", **fields}
    files = (
        {"media": (filename, photo, content_type)}
        if photo is not None
        else {
            "media": ("", b"", "application/octet-stream")  # what a browser sends with no file
        }
    )
    return client.post("/reports/new", data=data, files=files, follow_redirects=follow)


def test_the_form_offers_every_kind_camera_map_and_address(client: TestClient) -> None:
    page = client.get("/reports/new")
    html = page.text
    assert page.status_code == 200
    assert "困りごとを報告する" in html
    for name in ("道路の損傷（ひび割れ・穴）", "街路灯の故障", "公園遊具の破損", "その他"):
        assert name in html
    assert 'accept="image/*" capture="environment"' in html
    assert 'id="place-map"' in html
    assert 'name="address_string"' in html
    assert "/static/leaflet/leaflet.js" in html
    english = client.get("/reports/new?lang=en").text
    assert "Report a problem" in english
    assert "Broken street light" in english


def test_a_resident_reports_with_a_photo_and_a_map_point_and_sees_it_as_mine(
    client: TestClient, db: Database
) -> None:
    sent = send_form(
        client,
        camera_jpeg(1000, 800),
        lat=CITY_HALL[0],
        long=CITY_HALL[1],
        description="公園の壁に落書き",
        email="hanako@example.jp",
    )
    assert sent.status_code == 303, sent.text
    number = sent.headers["location"].split("/reports/", 1)[1].split("?", 1)[0]
    page = client.get(sent.headers["location"])
    assert "報告を受け付けました" in page.text
    assert "受付" in page.text
    assert "公園の壁に落書き" in page.text
    photo = client.get(first_photo_path(page.text))
    assert photo.status_code == 200
    assert gps_of(photo.content) == {}

    mine = client.get("/reports/mine").text
    assert f"/reports/{number}" in mine
    # Another browser has no such receipt.
    other = TestClient(client.app)
    assert f"/reports/{number}" not in other.get("/reports/mine").text

    listing = client.get("/reports").text
    assert f"/reports/{number}" in listing
    assert "hanako@example.jp" not in listing
    assert "hanako@example.jp" not in page.text
    assert count_requests(db) == 1


def test_a_resident_sends_an_iphone_heic_and_it_is_published_as_upright_jpeg(
    client: TestClient, db: Database
) -> None:
    form = client.get("/reports/new").text
    assert "JPEG・PNG・WebP・HEIC" in form
    original = iphone_heic(2400, 1200, orientation=6)
    assert gps_of(original)

    sent = send_form(
        client,
        original,
        filename="IMG_0003.HEIC",
        content_type="image/heic",
        lat=CITY_HALL[0],
        long=CITY_HALL[1],
        description="歩道の穴（iPhone で撮影）",
    )
    assert sent.status_code == 303, sent.text
    number = sent.headers["location"].split("/reports/", 1)[1].split("?", 1)[0]
    page = client.get(sent.headers["location"]).text
    assert "報告を受け付けました" in page

    thumbnail = client.get(first_photo_path(page))
    assert thumbnail.status_code == 200
    assert thumbnail.headers["content-type"] == "image/jpeg"
    assert format_of(thumbnail.content) == "JPEG"
    assert size_of(thumbnail.content) == (160, 320)
    assert gps_of(thumbnail.content) == {}
    assert exif_of(thumbnail.content) == {}

    [entry] = client.get(f"{BASE}/requests/{number}.json").json()
    photo = client.get(entry["media_url"].removeprefix("http://testserver"))
    assert photo.status_code == 200
    assert format_of(photo.content) == "JPEG"
    assert gps_of(photo.content) == {}
    assert exif_of(photo.content) == {}
    assert b"PhoneMaker" not in photo.content
    assert size_of(photo.content) == (800, 1600)  # upright portrait, long side 1600 px
    assert is_green(photo.content, (400, 30))  # the band of the sideways left edge is on top
    assert count_requests(db) == 1
    assert "JPEG, PNG, WebP, HEIC" in client.get("/reports/new?lang=en").text


def test_a_text_file_named_heic_is_refused_on_the_form(client: TestClient, db: Database) -> None:
    response = send_form(
        client,
        b"not a photo, only text\n" * 40,
        filename="IMG_0004.heic",
        content_type="image/heic",
        lat=CITY_HALL[0],
        long=CITY_HALL[1],
    )
    assert response.status_code == 400
    assert "写真として読めません（JPEG・PNG・WebP・HEIC の画像を送ってください）" in response.text
    assert 'aria-invalid="true" aria-describedby="media-hint err-media"' in response.text
    assert count_requests(db) == 0


def test_a_typed_address_places_the_report(client: TestClient) -> None:
    sent = send_form(client, None, address_string="三鷹市下連雀三丁目", description="住所で")
    assert sent.status_code == 303, sent.text
    page = client.get(sent.headers["location"]).text
    assert "下連雀三丁目" in page


def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(
    client: TestClient, db: Database
) -> None:
    outside = send_form(client, None, lat="35.0", long="139.0", description="市外")
    assert outside.status_code == 400
    assert "送信できませんでした" in outside.text
    assert "三鷹市の外です" in outside.text
    assert "市外" in outside.text  # what was typed is kept
    # A point on the map in 吉祥寺 (武蔵野市) says where it is and that it is not Mitaka.
    kichijoji = send_form(client, None, lat="35.7033", long="139.5797", description="吉祥寺で")
    assert kichijoji.status_code == 400
    assert "この地点は武蔵野市で、三鷹市の外です" in kichijoji.text
    assert "吉祥寺で" in kichijoji.text

    nowhere = send_form(client, None, description="場所なし")
    assert nowhere.status_code == 400
    assert "場所を指定してください" in nowhere.text

    not_photo = send_form(client, b"plain text", lat=CITY_HALL[0], long=CITY_HALL[1])
    assert not_photo.status_code == 400
    assert "写真として読めません" in not_photo.text
    assert 'aria-invalid="true" aria-describedby="media-hint err-media"' in not_photo.text

    script = send_form(
        client, None, lat=CITY_HALL[0], long=CITY_HALL[1], description="<script>x</script>"
    )
    assert script.status_code == 303
    shown = client.get(script.headers["location"]).text
    assert "<script>x</script>" not in shown
    assert "&lt;script&gt;x&lt;/script&gt;" in shown
    assert count_requests(db) == 1


def test_a_required_question_of_the_chosen_kind_is_asked_for(client: TestClient) -> None:
    missing = send_form(client, None, service_code="streetlight", lat=STATION[0], long=STATION[1])
    assert missing.status_code == 400
    assert "どのような状態ですか" in missing.text
    # Another kind's empty question is ignored; the chosen one's answer is taken.
    sent = send_form(
        client,
        None,
        service_code="streetlight",
        lat=STATION[0],
        long=STATION[1],
        **{"attribute[symptom]": "off", "attribute[size]": ""},
    )
    assert sent.status_code == 303, sent.text


def test_the_form_without_its_csrf_token_is_refused(client: TestClient, db: Database) -> None:
    client.get("/reports/new")
    response = client.post(
        "/reports/new",
        data={
            "csrf_token": "forged",
            "service_code": "graffiti",
            "lat": CITY_HALL[0],
            "long": CITY_HALL[1],
        },
        files={"media": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 403
    assert count_requests(db) == 0


def test_the_same_report_twice_from_the_form_is_refused(client: TestClient, db: Database) -> None:
    fields = {"lat": CITY_HALL[0], "long": CITY_HALL[1], "description": "同じ内容"}
    assert send_form(client, None, **fields).status_code == 303
    again = send_form(client, None, **fields)
    assert again.status_code == 429
    assert "同じ内容の報告をすでに受け付けています" in again.text
    assert count_requests(db) == 1


def test_a_photo_over_the_limit_is_refused_on_the_form(
    client: TestClient, settings: Settings, db: Database
) -> None:
    settings.reports_photo_max_bytes = 50 * 1024
    response = send_form(client, camera_jpeg(3000, 3000), lat=CITY_HALL[0], long=CITY_HALL[1])
    assert response.status_code == 413
    assert "MB" in response.text
    assert count_requests(db) == 0


def test_the_public_list_pages_and_filters_with_true_totals(
    client: TestClient, db: Database
) -> None:
    def report(code: str, description: str, minutes_ago: int) -> str:
        new = NewRequest(service_code=code, lat=str(CITY_HALL[0]), long=str(CITY_HALL[1]),
                         description=description)  # fmt: skip
        at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        with db.session() as session:
            row = service.submit_request(session, new, city="三鷹市", submitted_via="test", now=at)
            return str(row.id)

    for n in range(33):
        report("graffiti", f"落書き その{n}", 100 - n)
    pothole = report("other", "道路に穴", 1)
    first = client.get("/reports")
    assert first.status_code == 200
    assert "34 件中 1〜30 件目" in first.text
    assert first.text.count('class="report-card') == 30
    assert "道路に穴" in first.text  # newest first
    second = client.get("/reports", params={"page": "2"})
    assert "34 件中 31〜34 件目" in second.text
    assert "落書き その0" in second.text
    assert 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    # The headline counts every report, not only the page shown.
    assert "対応中・受付 34" in first.text
    kind = client.get("/reports", params={"service": "other"}).text
    assert "1 件中 1〜1 件目" in kind
    assert f"/reports/{pothole}" in kind
    assert "落書き" not in kind.split("報告の一覧", 1)[1]
    closed = client.get("/reports", params={"status": "closed"}).text
    assert "まだ報告はありません" in closed
    for bad, message in (
        ({"status": "lost"}, "状態は「対応中・受付」か「完了など」です"),
        ({"service": "ufo"}, "その種類の報告はありません"),
        ({"page": "0"}, "ページ番号は1以上の数字です"),
        ({"page": "x"}, "ページ番号は1以上の数字です"),
    ):
        answer = client.get("/reports", params=bad)
        assert answer.status_code == 400, bad
        assert message in answer.text
    beyond = client.get("/reports", params={"page": "9"}).text
    assert "このページに報告はありません" in beyond
