"""Field encryption for personal data at rest, blind indexes and key loading.

Every personal field is stored as an AES-256-GCM token whose associated data binds
it to its table, column and row (and the key id), so a ciphertext copied into
another row, column or table fails to decrypt.  Tokens look like
``v1.<kid>.<base64url(nonce || ciphertext+tag)>`` (ASCII, no padding).

Lookups use a keyed HMAC-SHA256 *blind index*.  The caller normalises the value
before calling :meth:`FieldCipher.blind_index` (for emails: ``strip()`` and
``lower()``), and compares decrypted candidates afterwards.

Keys come from the environment (``CLA_ENCRYPTION_KEYS``, ``CLA_BLIND_INDEX_KEY``) or, when
neither is set, from a generated ``var/keys.json`` (mode 0600) for development.

``CLA_SESSION_KEY`` is retired: browser sessions are server-side (a random token whose hash is
the row's key, the data encrypted under the data key), so nothing is signed with it. A key file
or an environment that still holds it loads as before; the value is ignored, and the
environment variable gets a note in the start-up log.  Rotation: put a new key first in
``CLA_ENCRYPTION_KEYS``, keep the old ones after it, then re-encrypt.

Nothing here logs or prints plaintext or key bytes, and error messages never
contain them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import pathlib
import re
import secrets
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.core.errors import BotError

__all__ = [
    "ENV_BLIND_INDEX_KEY",
    "ENV_ENCRYPTION_KEYS",
    "KEY_FILE_NAME",
    "RETIRED_ENV_VARS",
    "CryptoError",
    "DecryptError",
    "FieldCipher",
    "KeyConfigError",
    "KeyRing",
    "generate_env_keys",
    "load_keyring",
]

ENV_ENCRYPTION_KEYS = "CLA_ENCRYPTION_KEYS"
ENV_BLIND_INDEX_KEY = "CLA_BLIND_INDEX_KEY"
_ENV_VARS = (ENV_ENCRYPTION_KEYS, ENV_BLIND_INDEX_KEY)
RETIRED_ENV_VARS = ("CLA_SESSION_KEY",)  # still accepted, never used

KEY_FILE_NAME = "keys.json"

DATA_KEY_BYTES = 32
MIN_SECRET_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_TOKEN_VERSION = "v1"  # noqa: S105 - a format tag, not a secret
_KID_RE = re.compile(r"[a-z0-9_-]{1,16}")
_B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
_AD_DOMAIN = b"cla-bot/field/v1"
_MAC_DOMAIN = b"cla-bot/blind-index/v1"
_ACCOUNT_PURPOSE = "account"


class CryptoError(BotError):
    """Base class for errors of this module."""


class DecryptError(CryptoError):
    """A token is malformed, tampered with, bound elsewhere, or under an unknown key."""


class KeyConfigError(CryptoError):
    """Key configuration is missing or invalid: ``name`` is the variable or file, ``problem``
    what is wrong with it (never the key itself); the message is ``name: problem``."""

    def __init__(self, name: str | os.PathLike[str], problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = str(name)
        self.problem = problem


# --------------------------------------------------------------------------- keyring


def _check_keys(
    data_keys: Mapping[str, bytes],
    primary: str,
    index_key: bytes,
    *,
    enc_name: str,
    index_name: str,
) -> None:
    if not data_keys:
        raise KeyConfigError(enc_name, "no encryption key given")
    for kid, key in data_keys.items():
        if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
            raise KeyConfigError(
                enc_name, f"key id {_safe_id(kid)} is invalid, needs [a-z0-9_-]{{1,16}}"
            )
        if not isinstance(key, bytes):
            raise KeyConfigError(enc_name, f"key {kid!r} is not bytes")
        if len(key) != DATA_KEY_BYTES:
            raise KeyConfigError(
                enc_name, f"key {kid!r} is {len(key)} bytes, needs {DATA_KEY_BYTES}"
            )
    if primary not in data_keys:
        raise KeyConfigError(enc_name, f"primary key id {_safe_id(primary)} is not in the ring")
    if not isinstance(index_key, bytes):
        raise KeyConfigError(index_name, "key is not bytes")
    if len(index_key) < MIN_SECRET_BYTES:
        raise KeyConfigError(
            index_name, f"key is {len(index_key)} bytes, needs at least {MIN_SECRET_BYTES}"
        )


def _safe_id(value: object) -> str:
    """Show a key id in a message only if it looks like one (never a pasted key)."""
    if isinstance(value, str) and _KID_RE.fullmatch(value):
        return repr(value)
    return "(invalid)"


@dataclass(frozen=True)
class KeyRing:
    """All key material of the bot.

    ``data_keys`` maps key id to a 32-byte AES-256 key; ``primary`` is the id used
    for new ciphertexts; ``index_key`` (>= 32 bytes) keys the blind index and
    account hashes.
    """

    data_keys: Mapping[str, bytes]
    primary: str
    index_key: bytes

    def __post_init__(self) -> None:
        _check_keys(
            self.data_keys,
            self.primary,
            self.index_key,
            enc_name=ENV_ENCRYPTION_KEYS,
            index_name=ENV_BLIND_INDEX_KEY,
        )
        # Freeze a private copy so the caller's dict cannot change the ring later.
        object.__setattr__(self, "data_keys", MappingProxyType(dict(self.data_keys)))

    def __repr__(self) -> str:
        return f"KeyRing(primary={self.primary!r}, key_ids={list(self.data_keys)!r}, keys=<hidden>)"

    __str__ = __repr__


def _b64decode(text: str, *, name: str, what: str = "value") -> bytes:
    """Decode standard or url-safe base64, padded or not; errors never echo the input."""
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/").rstrip("=")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(name, f"{what} is not valid base64") from None


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _parse_encryption_keys(value: str, *, name: str) -> tuple[dict[str, bytes], str]:
    keys: dict[str, bytes] = {}
    primary: str | None = None
    for position, item in enumerate(value.split(","), start=1):
        item = item.strip()
        if not item:
            raise KeyConfigError(name, f"entry {position} is empty")
        kid, sep, encoded = item.partition(":")
        kid = kid.strip()
        if not sep:
            raise KeyConfigError(name, f"entry {position} is not of the form kid:base64key")
        if not _KID_RE.fullmatch(kid):
            raise KeyConfigError(
                name, f"entry {position} has an invalid key id, needs [a-z0-9_-]{{1,16}}"
            )
        if kid in keys:
            raise KeyConfigError(name, f"key id {kid!r} appears twice")
        key = _b64decode(encoded, name=name, what=f"key {kid!r}")
        if len(key) != DATA_KEY_BYTES:
            raise KeyConfigError(name, f"key {kid!r} is {len(key)} bytes, needs {DATA_KEY_BYTES}")
        keys[kid] = key
        if primary is None:
            primary = kid
    assert primary is not None  # split() always yields at least one entry
    return keys, primary


def _keyring_from_values(values: Mapping[str, str]) -> KeyRing:
    """Build a ring from the variables' values."""
    data_keys, primary = _parse_encryption_keys(
        values[ENV_ENCRYPTION_KEYS], name=ENV_ENCRYPTION_KEYS
    )
    index_key = _b64decode(values[ENV_BLIND_INDEX_KEY], name=ENV_BLIND_INDEX_KEY)
    _check_keys(
        data_keys,
        primary,
        index_key,
        enc_name=ENV_ENCRYPTION_KEYS,
        index_name=ENV_BLIND_INDEX_KEY,
    )
    return KeyRing(data_keys=data_keys, primary=primary, index_key=index_key)


def generate_env_keys(*, kid: str = "k1") -> dict[str, str]:
    """Fresh random values for the key variables (for ``cla-bot keys``).

    Keys: ``CLA_ENCRYPTION_KEYS`` (``kid:base64url``), ``CLA_BLIND_INDEX_KEY`` (base64url,
    unpadded).
    """
    if not _KID_RE.fullmatch(kid):
        raise ValueError("key id must match [a-z0-9_-]{1,16}")
    return {
        ENV_ENCRYPTION_KEYS: f"{kid}:{_b64encode(secrets.token_bytes(DATA_KEY_BYTES))}",
        ENV_BLIND_INDEX_KEY: _b64encode(secrets.token_bytes(MIN_SECRET_BYTES)),
    }


def _read_key_file(path: pathlib.Path) -> KeyRing:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise KeyConfigError(path, f"cannot open key file ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise KeyConfigError(path, "key file is not a regular file")
        if st.st_mode & 0o077:
            raise KeyConfigError(
                path,
                f"key file permissions {stat.S_IMODE(st.st_mode):04o} are wider "
                "than 0600; run chmod 600 on it",
            )
        raw = fh.read()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyConfigError(path, "key file is not valid JSON") from None
    if not isinstance(data, dict):
        raise KeyConfigError(path, "key file must hold a JSON object")
    values: dict[str, str] = {}
    for var in _ENV_VARS:
        value = data.get(var)
        if not isinstance(value, str) or not value.strip():
            raise KeyConfigError(path, f"{var} is missing from the key file")
        values[var] = value
    try:
        return _keyring_from_values(values)
    except KeyConfigError as exc:  # the file is the setting at fault; the variable says where
        raise KeyConfigError(path, f"{exc.name}: {exc.problem}") from None


def _write_key_file(path: pathlib.Path) -> None:
    """Create ``path`` with fresh keys, mode 0600 from creation, without clobbering.

    Raises FileExistsError when another process created it first.
    """
    payload = json.dumps(generate_env_keys(), indent=2).encode("ascii") + b"\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            # link() publishes the complete file atomically and fails if the target exists.
            os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise
    except OSError as exc:
        raise KeyConfigError(path, f"cannot write key file ({exc.strerror})") from None
    _fsync_dir(path.parent)


def _fsync_dir(directory: pathlib.Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def load_keyring(env: Mapping[str, str], *, var_dir: pathlib.Path) -> tuple[KeyRing, str | None]:
    """Load the keyring from ``env``, or from/into ``var_dir/keys.json`` when none is set.

    Returns the ring and a warning to log (``None`` when keys come from the environment and
    no retired variable is set).  An empty variable counts as unset.  Raises
    :class:`KeyConfigError` when only some variables are set, a value is invalid, or the key
    file is unreadable or readable by group/others.
    """
    ring, warning = _load_keyring(env, var_dir=var_dir)
    retired = [var for var in RETIRED_ENV_VARS if env.get(var, "").strip()]
    if retired:
        note = (
            f"{', '.join(retired)} is no longer used (browser sessions are server-side and "
            f"nothing is signed with it): remove it from the environment."
        )
        warning = f"{warning} {note}" if warning else note
    return ring, warning


def _load_keyring(env: Mapping[str, str], *, var_dir: pathlib.Path) -> tuple[KeyRing, str | None]:
    present = {var: env[var] for var in _ENV_VARS if env.get(var, "").strip()}
    if present:
        missing = [var for var in _ENV_VARS if var not in present]
        if missing:
            raise KeyConfigError(
                missing[0],
                f"not set, but {', '.join(sorted(present))} is; "
                f"set all of {', '.join(_ENV_VARS)} or none",
            )
        return _keyring_from_values(present), None

    path = pathlib.Path(var_dir) / KEY_FILE_NAME
    if not path.exists() and not path.is_symlink():
        try:
            os.makedirs(var_dir, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise KeyConfigError(var_dir, f"cannot create directory ({exc.strerror})") from None
        try:
            _write_key_file(path)
        except FileExistsError:
            pass  # another process won the race; use its keys
        else:
            ring = _read_key_file(path)
            return ring, (
                f"No {', '.join(_ENV_VARS)} set: generated new keys in {path}. Back this file "
                f"up (losing it makes stored personal data unreadable); for production move "
                f"its values into those environment variables."
            )
    ring = _read_key_file(path)
    return ring, (
        f"No {', '.join(_ENV_VARS)} set: using keys from {path}. For production move its "
        f"values into those environment variables and keep a backup."
    )


# --------------------------------------------------------------------------- cipher


def _encode_parts(*parts: str) -> bytes:
    """Unambiguous encoding: each part as 4-byte big-endian length + UTF-8 bytes."""
    out = bytearray()
    for part in parts:
        raw = part.encode("utf-8", "surrogatepass")
        out += struct.pack(">I", len(raw))
        out += raw
    return bytes(out)


def _require_binding(table: str, column: str, row: str) -> None:
    for name, value in (("table", table), ("column", column), ("row", row)):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty str")


class FieldCipher:
    """AES-256-GCM field encryption bound to (table, column, row), plus keyed hashes."""

    def __init__(self, keyring: KeyRing) -> None:
        self._keyring = keyring
        self._aead = {kid: AESGCM(key) for kid, key in keyring.data_keys.items()}

    def __repr__(self) -> str:
        return f"FieldCipher({self._keyring!r})"

    @property
    def primary(self) -> str:
        return self._keyring.primary

    @staticmethod
    def _ad(kid: str, table: str, column: str, row: str) -> bytes:
        return _AD_DOMAIN + _encode_parts(kid, table, column, row)

    def encrypt(self, plaintext: str, *, table: str, column: str, row: str) -> str:
        """Encrypt ``plaintext`` under the primary key, bound to table/column/row."""
        _require_binding(table, column, row)
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be str")
        try:
            data = plaintext.encode("utf-8")
        except UnicodeEncodeError:
            raise CryptoError("plaintext is not encodable as UTF-8") from None
        kid = self._keyring.primary
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead[kid].encrypt(nonce, data, self._ad(kid, table, column, row))
        return f"{_TOKEN_VERSION}.{kid}.{_b64encode(nonce + sealed)}"

    @staticmethod
    def _parse(token: str) -> tuple[str, bytes]:
        if not isinstance(token, str):
            raise DecryptError("token is not a string")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _TOKEN_VERSION:
            raise DecryptError("token has an unknown format")
        kid, body = parts[1], parts[2]
        if not _KID_RE.fullmatch(kid) or not _B64URL_RE.fullmatch(body):
            raise DecryptError("token has an unknown format")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise DecryptError("token has an unknown format") from None
        # Reject non-canonical encodings (ignored trailing bits) so every change fails.
        if _b64encode(raw) != body or len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise DecryptError("token has an unknown format")
        return kid, raw

    def decrypt(self, token: str, *, table: str, column: str, row: str) -> str:
        """Decrypt a token made by :meth:`encrypt` for the same table/column/row."""
        _require_binding(table, column, row)
        kid, raw = self._parse(token)
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptError(f"token uses unknown key id {kid!r}")
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            data = aead.decrypt(nonce, sealed, self._ad(kid, table, column, row))
        except InvalidTag:
            raise DecryptError(
                "token failed authentication (tampered, or bound to another table/column/row)"
            ) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("decrypted data is not UTF-8") from None

    def encrypt_optional(
        self, plaintext: str | None, *, table: str, column: str, row: str
    ) -> str | None:
        if plaintext is None:
            return None
        return self.encrypt(plaintext, table=table, column=column, row=row)

    def decrypt_optional(
        self, token: str | None, *, table: str, column: str, row: str
    ) -> str | None:
        if token is None:
            return None
        return self.decrypt(token, table=table, column=column, row=row)

    def key_id(self, token: str) -> str:
        """The key id of a token (raises :class:`DecryptError` if malformed)."""
        return self._parse(token)[0]

    def needs_reencrypt(self, token: str) -> bool:
        """True when the token is not under the primary key (raises DecryptError if malformed)."""
        return self.key_id(token) != self._keyring.primary

    def reencrypt(self, token: str, *, table: str, column: str, row: str) -> str:
        """Return the token under the primary key; unchanged if it already is (after checking)."""
        plaintext = self.decrypt(token, table=table, column=column, row=row)
        if not self.needs_reencrypt(token):
            return token
        return self.encrypt(plaintext, table=table, column=column, row=row)

    def _mac(self, purpose: str, *parts: str) -> str:
        if not isinstance(purpose, str) or not purpose:
            raise ValueError("purpose must be a non-empty str")
        for part in parts:
            if not isinstance(part, str):
                raise TypeError("blind index values must be str")
        msg = _MAC_DOMAIN + _encode_parts(purpose, *parts)
        return hmac.new(self._keyring.index_key, msg, hashlib.sha256).hexdigest()

    def blind_index(self, value: str, *, purpose: str) -> str:
        """Keyed HMAC-SHA256 (hex) of ``value`` for equality lookups.

        The caller must normalise ``value`` first (emails: ``value.strip().lower()``);
        this method hashes exactly what it is given.  Different ``purpose`` strings
        (e.g. ``"email"``) give unrelated digests for the same value.
        """
        return self._mac(purpose, value)

    def account_hash(self, platform: str, account_id: str) -> str:
        """Keyed hash of a forge account for erasure tombstones (platform is lower-cased)."""
        return self._mac(_ACCOUNT_PURPOSE, platform.lower(), account_id)
