"""The platform signing key for checkpoints (house rule 10: generated at set-up, never committed).

Default location ``<data_dir>/keys/platform.key.pem`` (PKCS#8 PEM, mode 0600), created the
first time it is needed. ``SUNLIT_PLATFORM_KEY_FILE`` points to an existing key instead (for
example one provisioned by the operator); such a file is never generated. The key belongs to
the platform suite (``SUNLIT_CRYPTO_SUITE``): SM2 for ``gm``, ECDSA P-256 for ``intl``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sunlit.kernel.crypto import PrivateKey, PublicKey, get_suite, load_private_key_any
from sunlit.kernel.crypto.errors import CryptoError
from sunlit.kernel.errors import ServiceUnavailable
from sunlit.settings import Settings, get_settings


@dataclass(frozen=True)
class PlatformKey:
    """The key that signs checkpoints, with the identifiers published beside it."""

    private_key: PrivateKey
    path: Path | None = None

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    @property
    def suite(self) -> str:
        return self.private_key.suite_name

    @property
    def key_id(self) -> str:
        """Hex suite hash (SM3 / SHA-256) of the DER SubjectPublicKeyInfo."""
        return get_suite(self.suite).key_id(self.public_key).hex()

    def public_pem(self) -> str:
        return self.public_key.to_pem().decode("ascii")


def key_path(settings: Settings) -> Path:
    """Where the platform key is read from."""
    return settings.platform_key_file or settings.data_dir / "keys" / "platform.key.pem"


def _write_new_key(path: Path, suite: str) -> None:
    """Create the key file atomically with mode 0600; a concurrent creator wins harmlessly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = get_suite(suite).generate_keypair()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".platform-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key.to_pem())
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def load_platform_key(settings: Settings, *, create: bool = True) -> PlatformKey:
    """Load the platform key, generating the default one when missing and ``create`` is set."""
    path = key_path(settings)
    if not path.exists():
        if settings.platform_key_file is not None or not create:
            raise ServiceUnavailable(
                "transparency.key.missing", "平台签名密钥文件 {path} 不存在", path=str(path)
            )
        _write_new_key(path, settings.crypto_suite)
    try:
        key = load_private_key_any(path.read_bytes())
    except (OSError, CryptoError, ValueError) as exc:
        raise ServiceUnavailable(
            "transparency.key.unreadable",
            "无法读取平台签名密钥 {path}：{reason}",
            path=str(path),
            reason=str(exc),
        ) from None
    if key.suite_name != settings.crypto_suite:
        raise ServiceUnavailable(
            "transparency.key.suite",
            "平台签名密钥属于{key}套件，与平台设置的{suite}套件不一致",
            key=key.suite_name,
            suite=settings.crypto_suite,
        )
    return PlatformKey(key, path)


_lock = threading.Lock()
_settings: Settings | None = None
_cache: dict[Path, PlatformKey] = {}


def configure(settings: Settings) -> None:
    """Use ``settings`` for :func:`platform_key` (the app factory and the CLI call this)."""
    global _settings
    with _lock:
        _settings = settings


@contextlib.contextmanager
def configured(settings: Settings) -> Iterator[None]:
    """Use ``settings`` for :func:`platform_key` inside the block, then the previous ones (a
    loader that writes records for another data directory, e.g. the demo's)."""
    global _settings
    with _lock:
        previous, _settings = _settings, settings
    try:
        yield
    finally:
        with _lock:
            _settings = previous


def platform_key(settings: Settings | None = None) -> PlatformKey:
    """The platform key of ``settings`` (default: the configured or environment settings)."""
    s = settings or _settings or get_settings()
    path = key_path(s)
    with _lock:
        cached = _cache.get(path)
        if cached is None or cached.suite != s.crypto_suite:
            cached = load_platform_key(s)
            _cache[path] = cached
        return cached
