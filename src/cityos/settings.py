"""All configuration, read from CITYOS_* environment variables."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one City OS installation.

    Every value can be set with an environment variable named ``CITYOS_<FIELD>``, e.g.
    ``CITYOS_DATABASE_URL=postgresql+psycopg://user@127.0.0.1:5432/cityos``.
    """

    model_config = SettingsConfigDict(env_prefix="CITYOS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Files, uploads and the SQLite database"
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; default is SQLite at DATA_DIR/cityos.db"
    )
    cache_dir: Path | None = Field(
        default=None, description="Compiled indexes (addresses); default DATA_DIR/cache"
    )
    secret_key: str = Field(
        default="", description="Signs session cookies; default is a random key kept in DATA_DIR"
    )
    site_url: str = Field(default="http://127.0.0.1:8000", description="Public base URL")
    city_name_ja: str = "三鷹市"
    city_name_en: str = "Mitaka City"
    city_code: str = Field(default="132047", description="全国地方公共団体コード of the city")
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, description="Largest accepted upload")
    sql_time_limit_ms: int = Field(default=5000, description="Limit for datastore_search_sql")
    api_concurrency: int = Field(
        default=4, ge=1, description="API requests doing database work at once, per process"
    )
    map_tile_url: str = Field(
        default="https://cyberjapandata.gsi.go.jp/xyz/pale/{z}/{x}/{y}.png",
        description="Base map tiles for Leaflet; empty for no base map (offline)",
    )
    map_tile_attribution: str = (
        '<a href="https://maps.gsi.go.jp/development/ichiran.html">地理院タイル</a>'
    )
    cap_sender: str = Field(
        default="city-os.mitaka.example", description="CAP <sender> of the city's alerts"
    )
    snapshot_dir: Path | None = Field(
        default=None, description="Static copy of disaster information; default DATA_DIR/public"
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis of the SNS triage stream"
    )
    secure_cookies: bool = Field(default=False, description="Send cookies over HTTPS only")
    trusted_proxy_hops: int = Field(
        default=0, ge=0, le=5, description="Proxies in front of the app (read X-Forwarded-For)"
    )
    checkins_per_minute: int = Field(
        default=60, ge=1, description="Check-ins a client address may make per minute"
    )
    searches_per_minute: int = Field(
        default=300, ge=1, description="Nearest-shelter searches a client may make per minute"
    )
    open311_jurisdiction: str = Field(
        default="mitaka.example", description="Open311 jurisdiction_id of the city (its domain)"
    )
    resident_logins_per_minute: int = Field(
        default=10, ge=1, description="Resident login and sign-up attempts per client a minute"
    )
    reports_per_minute: int = Field(
        default=10, ge=1, description="Open311 reports a client address may post per minute"
    )
    chatbot_questions_per_minute: int = Field(
        default=60, ge=1, description="Chatbot questions a client address may ask per minute"
    )
    chatbot_threshold: float = Field(
        default=0.35, ge=0, le=1, description="Chatbot confidence below which it hands off"
    )
    opinions_per_minute: int = Field(
        default=5, ge=1, description="Opinions and supports a client address may post per minute"
    )
    reports_photo_max_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, description="Largest photo a report may upload"
    )

    forms_encryption_key: str = Field(
        default="",
        description="Fernet key for マイナンバー in online forms; default derived from the secret key",
    )
    form_submissions_per_minute: int = Field(
        default=30, ge=1, description="Online form submissions a client address may make per minute"
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'cityos.db').resolve()}"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def resolved_snapshot_dir(self) -> Path:
        return self.snapshot_dir or self.data_dir / "public"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in DATA_DIR/secret_key."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
