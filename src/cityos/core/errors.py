"""Errors of our own JSON APIs as RFC 9457 problem details, in Japanese and English.

Services raise ``ProblemError`` (or one of its subclasses); the app turns it into an
``application/problem+json`` answer. CKAN routes translate the same exceptions into CKAN's
envelope instead (see ``opendata.api``).
"""

from __future__ import annotations

from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"


class Message(str):
    """A message that reads "日本語 / English" (in JSON answers and logs) and also knows its
    Japanese, English and やさしい日本語 texts, so a page shows only the resident's language::

        Message("必須です", "required", "かならず かいて ください")
    """

    ja: str
    en: str
    easy: str

    def __new__(cls, ja: str, en: str, easy: str = "") -> Message:
        said = super().__new__(cls, f"{ja} / {en}")
        said.ja, said.en, said.easy = ja, en, easy or ja
        return said

    def in_mode(self, mode: str) -> str:
        """The text for ja, en or easy."""
        return self.en if mode == "en" else self.easy if mode == "easy" else self.ja


class ProblemError(Exception):
    """A client error with a stable type, a bilingual message and optional field errors."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request / 不正なリクエスト"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, list[str]] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors or {}
        if status is not None:
            self.status = status
        self.extra = extra or {}

    def to_problem(self, instance: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://cityos.example/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class ValidationProblem(ProblemError):
    status = 422
    type_slug = "validation"
    title = "Invalid input / 入力内容に誤りがあります"


class NotFoundProblem(ProblemError):
    status = 404
    type_slug = "not-found"
    title = "Not found / 見つかりません"


class ConflictProblem(ProblemError):
    status = 409
    type_slug = "conflict"
    title = "Conflict / 競合しています"


class AuthenticationProblem(ProblemError):
    status = 401
    type_slug = "unauthenticated"
    title = "Login required / ログインが必要です"


class ForbiddenProblem(ProblemError):
    status = 403
    type_slug = "forbidden"
    title = "Not allowed / 権限がありません"


class PayloadTooLargeProblem(ProblemError):
    status = 413
    type_slug = "payload-too-large"
    title = "Upload too large / ファイルが大きすぎます"


class UnsupportedMediaProblem(ProblemError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported file / 対応していないファイル形式です"


class QueryTimeoutProblem(ProblemError):
    status = 409
    type_slug = "query-timeout"
    title = "Query took too long / 問い合わせが時間内に終わりませんでした"
