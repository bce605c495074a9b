"""Photos sent with a report: only real images are taken, and what the city publishes has
no EXIF (no GPS position of the sender's home), is upright, resized, with a thumbnail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cityos.db import Database
from cityos.reports import photos
from cityos.settings import Settings
from tests.reports.conftest import BASE, CITY_HALL, count_requests, errors_of
from tests.reports.photos import (
    camera_jpeg,
    exif_of,
    format_of,
    gps_of,
    iphone_heic,
    is_green,
    png_with_alpha,
    size_of,
    webp,
)


def post_with_photo(
    client: TestClient,
    api_key: str,
    photo: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    fmt: str = "json",
    **fields: Any,
) -> httpx.Response:
    data = {
        "api_key": api_key,
        "service_code": "graffiti",
        "lat": CITY_HALL[0],
        "long": CITY_HALL[1],
        "description": "壁の落書き",
        **fields,
    }
    files = {"media": (filename, photo, content_type)}
    return client.post(f"{BASE}/requests.{fmt}", data=data, files=files)


def served(client: TestClient, url: str) -> bytes:
    path = url.removeprefix("http://testserver")
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert "immutable" in response.headers["cache-control"]
    return response.content


def test_an_uploaded_photo_is_published_without_gps_upright_and_resized(
    client: TestClient, api_key: str
) -> None:
    original = camera_jpeg(2400, 1200, orientation=6)
    assert gps_of(original)  # the phone wrote where it was taken

    response = post_with_photo(client, api_key, original)
    assert response.status_code == 201, response.text
    number = response.json()[0]["service_request_id"]
    [entry] = client.get(f"{BASE}/requests/{number}.json").json()
    media_url = entry["media_url"]
    assert media_url.startswith("http://testserver/reports/photos/")
    assert media_url.endswith(".jpg")

    published = served(client, media_url)
    assert gps_of(published) == {}
    assert exif_of(published) == {}  # no make, no orientation, nothing
    assert b"PhoneMaker" not in published
    # Orientation 6 means "turn 90° clockwise": the sideways 2400×1200 is a 1200×2400
    # portrait, and its long side is brought down to 1600 px.
    assert size_of(published) == (800, 1600)

    staff_view = client.get("/reports/" + number).text
    thumb = staff_view.split('src="/reports/photos/', 1)[1].split('"', 1)[0]
    thumbnail = served(client, "/reports/photos/" + thumb)
    assert max(size_of(thumbnail)) == 320
    assert gps_of(thumbnail) == {}


def test_png_and_webp_are_taken_and_published_as_jpeg(client: TestClient, api_key: str) -> None:
    for data, name, media in (
        (png_with_alpha(), "a.png", "image/png"),
        (webp(), "b.webp", "image/webp"),
    ):
        response = post_with_photo(
            client, api_key, data, filename=name, content_type=media, description=name
        )
        assert response.status_code == 201, response.text
        number = response.json()[0]["service_request_id"]
        [entry] = client.get(f"{BASE}/requests/{number}.json").json()
        assert served(client, entry["media_url"]).startswith(b"\xff\xd8")  # JPEG


def test_an_iphone_heic_is_published_as_jpeg_without_gps_upright_and_resized(
    client: TestClient, api_key: str
) -> None:
    original = iphone_heic(2400, 1200, orientation=6)
    assert original[4:12] == b"ftypheic"  # a real HEIC file, the brand an iPhone writes
    assert b"irot" in original  # its sideways pixels are turned by a rotation box
    assert gps_of(original)  # the phone wrote where it was taken
    assert exif_of(original)[0x010F] == "PhoneMaker"

    response = post_with_photo(
        client, api_key, original, filename="IMG_0001.HEIC", content_type="image/heic"
    )
    assert response.status_code == 201, response.text
    number = response.json()[0]["service_request_id"]
    [entry] = client.get(f"{BASE}/requests/{number}.json").json()
    media_url = entry["media_url"]
    assert media_url.startswith("http://testserver/reports/photos/")
    assert media_url.endswith(".jpg")

    published = served(client, media_url)
    assert format_of(published) == "JPEG"
    assert gps_of(published) == {}
    assert exif_of(published) == {}  # no make, no orientation, nothing
    assert b"PhoneMaker" not in published
    # Upright: the 2400×1200 sideways pixels turned 90° clockwise are a 1200×2400 portrait,
    # brought down to 1600 px, with the green band of the left edge now along the top.
    assert size_of(published) == (800, 1600)
    assert is_green(published, (400, 30))
    assert not is_green(published, (400, 1570))
    assert not is_green(published, (30, 800))

    staff_view = client.get("/reports/" + number).text
    thumb = staff_view.split('src="/reports/photos/', 1)[1].split('"', 1)[0]
    thumbnail = served(client, "/reports/photos/" + thumb)
    assert format_of(thumbnail) == "JPEG"
    assert size_of(thumbnail) == (160, 320)
    assert is_green(thumbnail, (80, 3))
    assert gps_of(thumbnail) == {}
    assert exif_of(thumbnail) == {}


def test_a_text_file_or_a_broken_heic_named_heic_is_refused(
    client: TestClient, api_key: str, db: Database
) -> None:
    fake = b"This is not a photo at all, just text pretending.\n" * 20
    cut = iphone_heic(600, 300)
    cut = cut[: len(cut) // 2]  # a real HEIC's header, half of its picture missing
    for data in (fake, cut):
        for fmt in ("json", "xml"):
            response = post_with_photo(
                client, api_key, data, filename="IMG_0002.heic", content_type="image/heic", fmt=fmt
            )
            [message] = errors_of(response, 400, fmt)
            assert message.startswith("media:")
            assert "HEIC" in message
            assert "写真として読めません" in message
    assert count_requests(db) == 0


def test_the_limits_hold_for_heic_too(
    client: TestClient,
    api_key: str,
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heic = iphone_heic(2400, 1200)  # 2.88 megapixels
    monkeypatch.setattr(photos, "MAX_PIXELS", 2_000_000)
    response = post_with_photo(
        client, api_key, heic, filename="big.heic", content_type="image/heic"
    )
    [message] = errors_of(response, 400)
    assert message.startswith("media:")
    assert "2 メガピクセルまで" in message
    assert "at most 2 megapixels" in message

    settings.reports_photo_max_bytes = 16 * 1024
    assert len(heic) > settings.reports_photo_max_bytes
    response = post_with_photo(
        client, api_key, heic, filename="big.heic", content_type="image/heic"
    )
    [message] = errors_of(response, 413)
    assert "MB" in message
    assert count_requests(db) == 0


def test_a_text_file_named_jpg_is_refused_and_nothing_is_stored(
    client: TestClient, api_key: str, db: Database
) -> None:
    fake = b"This is not a photo at all, just text pretending.\n" * 20
    for fmt in ("json", "xml"):
        response = post_with_photo(client, api_key, fake, filename="photo.jpg", fmt=fmt)
        [message] = errors_of(response, 400, fmt)
        assert message.startswith("media:")
        assert "JPEG" in message
    assert count_requests(db) == 0


def test_a_bad_photo_is_named_with_the_other_bad_fields(client: TestClient, api_key: str) -> None:
    response = post_with_photo(client, api_key, b"GIF89a-not-really", lat="10", long="10")
    messages = errors_of(response, 400)
    assert any(m.startswith("media:") for m in messages)
    assert any(m.startswith("lat:") or m.startswith("long:") for m in messages)


def test_a_photo_over_the_limit_is_413_in_open311_format(
    client: TestClient, api_key: str, settings: Settings, db: Database
) -> None:
    settings.reports_photo_max_bytes = 100 * 1024
    big = camera_jpeg(3000, 3000)
    assert len(big) > settings.reports_photo_max_bytes
    for fmt in ("json", "xml"):
        response = post_with_photo(client, api_key, big, fmt=fmt)
        [message] = errors_of(response, 413, fmt)
        assert "MB" in message
    assert count_requests(db) == 0


def test_a_streamed_upload_past_the_limit_stops_with_413(
    client: TestClient, api_key: str, settings: Settings, db: Database
) -> None:
    settings.reports_photo_max_bytes = 64 * 1024
    boundary = "cityosboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="api_key"\r\n\r\n{api_key}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="service_code"\r\n\r\ngraffiti\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="x.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()

    def chunks() -> Any:  # no Content-Length: the size is only known while it streams
        yield head
        for _ in range(1000):  # 1000 × 64 KB = 64 MB if all of it were read
            yield b"\xff" * 65536

    response = client.post(
        f"{BASE}/requests.json",
        content=chunks(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    [message] = errors_of(response, 413)
    assert "MB" in message
    assert count_requests(db) == 0


def test_only_report_photos_are_served(client: TestClient, api_key: str) -> None:
    assert client.get("/reports/photos/" + "0" * 64 + ".jpg").status_code == 404
    assert client.get("/reports/photos/../secret_key").status_code == 404
    assert client.get("/reports/photos/" + "a" * 64 + ".png").status_code == 404
