"""SUNLIT_* environment settings."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Platform settings; every field can be set as SUNLIT_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="SUNLIT_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""  # default: sqlite file inside data_dir
    base_url: str = "http://127.0.0.1:8000"
    crypto_suite: Literal["gm", "intl"] = "gm"
    # The local certificate helper (`sunlit signer serve`) the login page talks to, like the
    # CA vendors' USB-key middleware: private keys stay on the user's machine.
    signer_url: str = "http://127.0.0.1:18443"

    blob_backend: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "sunlit"
    s3_region: str | None = None

    # Secret for signing web cookies. Generated at set-up into data_dir when not given.
    secret_key: str | None = Field(default=None, repr=False)
    session_hours: int = 8
    secure_cookies: bool = False

    login_max_failures: int = 5
    login_lock_minutes: int = 15
    challenge_seconds: int = 120

    # Private key (PEM) that signs transparency-log checkpoints. Default:
    # <data_dir>/keys/platform.key.pem, generated at set-up (mode 0600) when missing.
    platform_key_file: Path | None = None
    # Minutes between scheduled checkpoints (issued only when the log grew); 0 disables.
    checkpoint_minutes: float = 10.0

    # Optional JSON file with extra holidays / adjusted working days for years the
    # calendar package does not cover yet (see docs/architecture.md).
    calendar_file: Path | None = None

    # The public change feed serves only rows modified at least this long ago, so that
    # transactions that commit out of timestamp order are never skipped (docs/spec/change-feed.md).
    feed_settle_seconds: float = 10.0

    # Signed partner messaging (kernel/partner.py, docs/spec/partner-messaging.md): the
    # platform's sender code, the accepted clock skew, how often the outbox is sent, and the
    # retry backoff (base doubles per attempt up to the cap).
    partner_code: str = "sunlit"
    partner_window_seconds: int = 300
    partner_outbox_seconds: float = 5.0
    partner_backoff_base_seconds: float = 10.0
    partner_backoff_cap_seconds: float = 3600.0

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sunlit.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def effective_secret_key(self) -> str:
        """The cookie signing secret: from the environment, else a key file made at set-up."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
