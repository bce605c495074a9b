"""Reading a report's form from HTTP, shared by the Open311 route and the resident pages.

A report comes form-encoded (GeoReport v2) or as multipart/form-data with one photo in the
``media`` field. The body is counted while it streams in: past the photo limit the upload
stops with a 413 (nothing more is read, nothing is written). The photo is checked and
cleaned (``photos.prepare``) before the report is, so a bad photo is one more field error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityos.core.errors import PayloadTooLargeProblem, ProblemError, ValidationProblem
from cityos.core.uploads import Message
from cityos.reports import photos, service

FORM_MEDIA = "application/x-www-form-urlencoded"
MULTIPART_MEDIA = "multipart/form-data"
MAX_FORM_BYTES = 256 * 1024  # a report without a photo: 4000 characters and a few fields
MAX_FORM_FIELDS = 200
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,60})\](\[\])?$")
# The fields of a new report, other than attributes and the key, as NewRequest names them.
_REPORT_FIELDS = (
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "description",
    "media_url",
    "email",
    "phone",
    "first_name",
    "last_name",
    "device_id",
    "account_id",
)


@dataclass
class ReportForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    photo: photos.PreparedPhoto | None = None
    photo_error: str | None = None


def form_too_large() -> ProblemError:
    return PayloadTooLargeProblem(
        f"報告の本文は {MAX_FORM_BYTES // 1024} KB までです / a report is at most "
        f"{MAX_FORM_BYTES // 1024} KB"
    )


def photo_too_large(limit: int) -> ProblemError:
    megabytes = limit / 1024 / 1024
    return PayloadTooLargeProblem(
        f"写真は {megabytes:.0f} MB までです / a photo is at most {megabytes:.0f} MB"
    )


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _urlencoded(request: Request) -> dict[str, list[str]]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise form_too_large()
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            raise form_too_large()
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise ValidationProblem(
            "フォームが読めません（UTF-8 の application/x-www-form-urlencoded で送ってください） / "
            "the form could not be read (send UTF-8, form-encoded, at most "
            f"{MAX_FORM_FIELDS} fields)"
        ) from None
    fields: dict[str, list[str]] = {}
    for name, value in pairs:
        fields.setdefault(name, []).append(value)
    return fields


async def _multipart(request: Request, photo_limit: int) -> ReportForm:
    limit = photo_limit + MAX_FORM_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise photo_too_large(photo_limit)
    received = 0
    receive = request.receive

    async def limited() -> Message:
        nonlocal received
        message = dict(await receive())
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise photo_too_large(photo_limit)
        return message

    counted = Request(request.scope, limited)
    try:
        form = await counted.form(max_files=1, max_fields=MAX_FORM_FIELDS)
    except StarletteHTTPException:
        raise ValidationProblem(
            "フォームが読めません（写真は1枚、項目は "
            f"{MAX_FORM_FIELDS} までです） / the form could not be read (one photo, at most "
            f"{MAX_FORM_FIELDS} fields)"
        ) from None
    result = ReportForm()
    try:
        upload: UploadFile | None = None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "media":
                    raise ValidationProblem(
                        f"{name[:40]}: 写真は media で送ってください / send the photo as media",
                        errors={name[:40]: ["写真は media で / send the photo as media"]},
                    )
                upload = value
            else:
                result.fields.setdefault(name, []).append(value)
        if upload is not None and (upload.size or upload.filename):
            if upload.size is not None and upload.size > photo_limit:
                raise photo_too_large(photo_limit)
            try:
                result.photo = await run_in_threadpool(photos.prepare, upload.file)
            except ValidationProblem as exc:
                result.photo_error = exc.errors.get("media", [exc.detail])[0]
    finally:
        await form.close()
    return result


async def read_report_form(request: Request, photo_limit: int) -> ReportForm:
    """The fields (and photo) of a posted report; 413 or 415 or 400 problems otherwise."""
    media = _media_type(request)
    if media == FORM_MEDIA:
        return ReportForm(fields=await _urlencoded(request))
    if media == MULTIPART_MEDIA:
        return await _multipart(request, photo_limit)
    raise ProblemError(
        f"本文は {FORM_MEDIA} か {MULTIPART_MEDIA}（写真つき）で送ってください / send the "
        f"report form-encoded ({FORM_MEDIA}), or as {MULTIPART_MEDIA} with a photo in media",
        status=415,
    )


def new_request(fields: dict[str, list[str]]) -> service.NewRequest:
    new = service.NewRequest()
    for name in _REPORT_FIELDS:
        setattr(new, name, single(fields, name))
    for name, values in fields.items():
        found = _ATTRIBUTE.match(name)
        if found is not None:
            new.attributes.setdefault(found.group(1), []).extend(values)
        elif name.startswith("attribute["):
            raise ValidationProblem(
                f"{name[:80]}: attribute[コード] の形で指定してください / write attribute[code]",
                errors={name[:80]: ["attribute[コード] の形で / write attribute[code]"]},
            )
    return new


def single(values: dict[str, list[str]], name: str) -> str | None:
    found = values.get(name)
    if not found:
        return None
    if len(found) > 1:
        raise ValidationProblem(
            f"{name}: 二度指定されています / given more than once",
            errors={name: ["二度指定されています / given more than once"]},
        )
    return found[0]
