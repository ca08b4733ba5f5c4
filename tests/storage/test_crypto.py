from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.storage.crypto import (
    CryptoError,
    DecryptError,
    FieldCipher,
    KeyConfigError,
    KeyRing,
    generate_env_keys,
    load_keyring,
)

ENC = "CLA_ENCRYPTION_KEYS"
IDX = "CLA_BLIND_INDEX_KEY"
SES = "CLA_SESSION_KEY"  # retired: accepted, never used

K_OLD = bytes(range(32))
K_NEW = bytes(range(100, 132))
INDEX = b"i" * 32
SESSION = b"s" * 32

BIND = {"table": "signatures", "column": "email", "row": "42"}


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def ring(
    keys: dict[str, bytes] | None = None, primary: str = "k1", index: bytes = INDEX
) -> KeyRing:
    return KeyRing(
        data_keys=keys if keys is not None else {"k1": K_OLD},
        primary=primary,
        index_key=index,
    )


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(ring())


def test_round_trip(cipher: FieldCipher) -> None:
    token = cipher.encrypt("Foo.Bar@Example.COM", **BIND)
    assert token.isascii()
    assert token.startswith("v1.k1.")
    assert "=" not in token
    assert "Foo" not in token and "Example" not in token
    assert cipher.decrypt(token, **BIND) == "Foo.Bar@Example.COM"
    assert cipher.decrypt(cipher.encrypt("", **BIND), **BIND) == ""


def test_optional(cipher: FieldCipher) -> None:
    assert cipher.encrypt_optional(None, **BIND) is None
    assert cipher.decrypt_optional(None, **BIND) is None
    token = cipher.encrypt_optional("x", **BIND)
    assert token is not None
    assert cipher.decrypt_optional(token, **BIND) == "x"


def test_random_nonce(cipher: FieldCipher) -> None:
    a = cipher.encrypt("same", **BIND)
    b = cipher.encrypt("same", **BIND)
    assert a != b
    raw_a = base64.urlsafe_b64decode(a.split(".")[2] + "==")
    raw_b = base64.urlsafe_b64decode(b.split(".")[2] + "==")
    assert raw_a[:12] != raw_b[:12]


def test_tamper_any_character(cipher: FieldCipher) -> None:
    # Lengths 0..3 cover every base64 remainder, including ignored trailing bits.
    for text in ("", "a", "ab", "abc"):
        token = cipher.encrypt(text, **BIND)
        for i, ch in enumerate(token):
            for repl in {"A", "B", "k", "-", "_", "0", "."} - {ch}:
                bad = token[:i] + repl + token[i + 1 :]
                with pytest.raises(DecryptError):
                    cipher.decrypt(bad, **BIND)


def test_tamper_any_byte(cipher: FieldCipher) -> None:
    token = cipher.encrypt("secret value", **BIND)
    prefix, body = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        bad_body = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        with pytest.raises(DecryptError):
            cipher.decrypt(f"{prefix}.{bad_body}", **BIND)
    with pytest.raises(DecryptError):
        cipher.decrypt(token[:-1], **BIND)
    with pytest.raises(DecryptError):
        cipher.decrypt(token + "A", **BIND)


@pytest.mark.parametrize(
    "other",
    [
        {"table": "identities", "column": "email", "row": "42"},
        {"table": "signatures", "column": "name", "row": "42"},
        {"table": "signatures", "column": "email", "row": "43"},
        {"table": "signature", "column": "semail", "row": "42"},
    ],
)
def test_binding_swap_fails(cipher: FieldCipher, other: dict[str, str]) -> None:
    token = cipher.encrypt("alice@example.com", **BIND)
    with pytest.raises(DecryptError) as info:
        cipher.decrypt(token, **other)
    assert "alice" not in str(info.value)


def test_binding_encoding_unambiguous(cipher: FieldCipher) -> None:
    token = cipher.encrypt("v", table="a", column="bc", row="1")
    with pytest.raises(DecryptError):
        cipher.decrypt(token, table="ab", column="c", row="1")
    token = cipher.encrypt("v", table="t", column="c", row="1|2")
    with pytest.raises(DecryptError):
        cipher.decrypt(token, table="t", column="c|1", row="2")


def test_unknown_kid_and_bad_format(cipher: FieldCipher) -> None:
    other = FieldCipher(ring({"k9": K_NEW}, primary="k9"))
    token = other.encrypt("x", **BIND)
    with pytest.raises(DecryptError, match="unknown key id"):
        cipher.decrypt(token, **BIND)
    for bad in ["", "v1", "v1.k1", "v2.k1.AAAA", "v1.K1.AAAA", "v1.k1.AA AA", "v1.k1.é", "x.y.z.w"]:
        with pytest.raises(DecryptError):
            cipher.decrypt(bad, **BIND)
    with pytest.raises(DecryptError):
        cipher.needs_reencrypt("garbage")


def test_same_key_different_kid_fails() -> None:
    # The key id is in the associated data: relabelling a token is detected.
    c = FieldCipher(ring({"k1": K_OLD, "k2": K_OLD}, primary="k1"))
    token = c.encrypt("x", **BIND)
    with pytest.raises(DecryptError):
        c.decrypt(token.replace("v1.k1.", "v1.k2.", 1), **BIND)


def test_rotation() -> None:
    old = FieldCipher(ring({"k1": K_OLD}, primary="k1"))
    token = old.encrypt("bob@example.org", **BIND)
    new = FieldCipher(ring({"k2": K_NEW, "k1": K_OLD}, primary="k2"))
    assert new.decrypt(token, **BIND) == "bob@example.org"
    assert new.needs_reencrypt(token)
    moved = new.reencrypt(token, **BIND)
    assert moved.startswith("v1.k2.")
    assert not new.needs_reencrypt(moved)
    assert new.decrypt(moved, **BIND) == "bob@example.org"
    assert new.reencrypt(moved, **BIND) == moved
    # Once the old key is dropped, the new token still works, the old one not.
    newest = FieldCipher(ring({"k2": K_NEW}, primary="k2"))
    assert newest.decrypt(moved, **BIND) == "bob@example.org"
    with pytest.raises(DecryptError):
        newest.decrypt(token, **BIND)
    # Re-encryption keeps the binding.
    with pytest.raises(DecryptError):
        new.reencrypt(token, table="signatures", column="email", row="7")


def test_blind_index(cipher: FieldCipher) -> None:
    a = cipher.blind_index("foo.bar@example.com", purpose="email")
    assert a == cipher.blind_index("foo.bar@example.com", purpose="email")
    assert len(a) == 64 and int(a, 16) >= 0
    assert a != cipher.blind_index("foo.bar@example.org", purpose="email")
    assert a != cipher.blind_index("foo.bar@example.com", purpose="login")
    assert cipher.blind_index("b", purpose="a") != cipher.blind_index("", purpose="ab")
    other = FieldCipher(ring(index=b"j" * 32))
    assert a != other.blind_index("foo.bar@example.com", purpose="email")
    # Same index key, different data keys: the same digest (lookups survive rotation).
    rotated = FieldCipher(ring({"k2": K_NEW}, primary="k2"))
    assert a == rotated.blind_index("foo.bar@example.com", purpose="email")


def test_account_hash(cipher: FieldCipher) -> None:
    h = cipher.account_hash("github", "12345")
    assert h == cipher.account_hash("github", "12345")
    assert h == cipher.account_hash("GitHub", "12345")
    assert h != cipher.account_hash("gitee", "12345")
    assert h != cipher.account_hash("github", "12346")
    assert cipher.account_hash("git", "hub1") != cipher.account_hash("gith", "ub1")
    assert h != FieldCipher(ring(index=b"j" * 32)).account_hash("github", "12345")
    assert "12345" not in h


def test_keyring_validation() -> None:
    with pytest.raises(KeyConfigError, match="12 bytes, needs 32"):
        ring({"k1": b"x" * 12})
    with pytest.raises(KeyConfigError):
        ring({"K1": K_OLD}, primary="K1")
    with pytest.raises(KeyConfigError):
        ring({"k" * 17: K_OLD}, primary="k" * 17)
    with pytest.raises(KeyConfigError):
        ring({"k1": K_OLD}, primary="k2")
    with pytest.raises(KeyConfigError):
        ring({}, primary="k1")
    with pytest.raises(KeyConfigError, match=IDX):
        ring(index=b"i" * 31)
    assert issubclass(KeyConfigError, CryptoError) and issubclass(DecryptError, CryptoError)


def test_keyring_is_frozen_copy() -> None:
    keys = {"k1": K_OLD}
    r = ring(keys)
    keys["k2"] = K_NEW
    assert list(r.data_keys) == ["k1"]
    with pytest.raises(TypeError):
        r.data_keys["k3"] = K_NEW  # type: ignore[index]


def test_repr_hides_keys() -> None:
    r = ring({"k2": K_NEW, "k1": K_OLD}, primary="k2")
    for text in (repr(r), str(r), repr(FieldCipher(r)), f"{r}"):
        assert "k2" in text
        for secret in (K_NEW, K_OLD, INDEX):
            assert repr(secret) not in text
            assert b64(secret) not in text
            assert secret.hex() not in text
        assert "iiii" not in text


# ------------------------------------------------------------------ load_keyring


def test_the_session_key_is_retired_but_an_environment_holding_it_loads(tmp_path: Path) -> None:
    r, warning = load_keyring({**env_values(), SES: b64(SESSION)}, var_dir=tmp_path)
    assert r == load_keyring(env_values(), var_dir=tmp_path)[0]
    assert warning == (
        "CLA_SESSION_KEY is no longer used (browser sessions are server-side and nothing is "
        "signed with it): remove it from the environment."
    )
    assert b64(SESSION) not in warning
    # even a value that was never a valid key does not stop the bot any more
    assert load_keyring({**env_values(), SES: "x"}, var_dir=tmp_path)[0] == r


def test_a_key_file_holding_the_retired_session_key_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({**env_values(), SES: b64(SESSION)}))
    path.chmod(0o600)
    r, warning = load_keyring({}, var_dir=tmp_path)
    assert r == load_keyring(env_values(), var_dir=tmp_path / "other")[0]
    assert warning is not None and "using keys from" in warning and SES not in warning


def env_values() -> dict[str, str]:
    return {
        ENC: f"k2:{b64(K_NEW)},k1:{base64.urlsafe_b64encode(K_OLD).decode().rstrip('=')}",
        IDX: b64(INDEX),
    }


def test_load_from_env(tmp_path: Path) -> None:
    r, warning = load_keyring(env_values(), var_dir=tmp_path / "var")
    assert warning is None
    assert r.primary == "k2"
    assert dict(r.data_keys) == {"k2": K_NEW, "k1": K_OLD}
    assert r.index_key == INDEX
    assert not (tmp_path / "var").exists()


def test_generate_env_keys_loads(tmp_path: Path) -> None:
    values = generate_env_keys()
    assert set(values) == {ENC, IDX}
    r, warning = load_keyring(values, var_dir=tmp_path)
    assert warning is None
    assert len(r.data_keys[r.primary]) == 32
    assert generate_env_keys() != values


@pytest.mark.parametrize("missing", [ENC, IDX])
def test_partial_env(tmp_path: Path, missing: str) -> None:
    values = env_values()
    del values[missing]
    with pytest.raises(KeyConfigError) as info:
        load_keyring(values, var_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(missing)
    assert "\n" not in message
    values[missing] = "  "  # blank counts as unset
    with pytest.raises(KeyConfigError, match=missing):
        load_keyring(values, var_dir=tmp_path)
    assert not (tmp_path / "keys.json").exists()


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        (ENC, "k1:" + b64(b"\x8f" * 12), "CLA_ENCRYPTION_KEYS: key 'k1' is 12 bytes, needs 32"),
        (ENC, "k1:" + b64(b"\x8f" * 33), "33 bytes"),
        (IDX, b64(b"\x8f" * 16), "CLA_BLIND_INDEX_KEY"),
        (ENC, "k1:not*base64!!", "base64"),
        (IDX, "not*base64!!", "base64"),
        (ENC, b64(K_OLD), "kid:base64key"),
        (ENC, f"BAD:{b64(K_OLD)}", "invalid key id"),
        (ENC, f"k1:{b64(K_OLD)},k1:{b64(K_NEW)}", "twice"),
        (ENC, f"k1:{b64(K_OLD)},", "empty"),
    ],
)
def test_bad_env_value(tmp_path: Path, var: str, value: str, fragment: str) -> None:
    values = env_values()
    values[var] = value
    with pytest.raises(KeyConfigError) as info:
        load_keyring(values, var_dir=tmp_path)
    message = str(info.value)
    assert message.startswith(var)
    assert fragment in message
    assert "\n" not in message
    key_part = value.split(":")[-1]
    assert key_part not in message
    assert "\\x8f" not in message and "j4+P" not in message


def test_generate_key_file(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    r1, warning = load_keyring({}, var_dir=var_dir)
    path = var_dir / "keys.json"
    assert warning is not None and str(path) in warning and "generated" in warning
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    assert [p.name for p in var_dir.iterdir()] == ["keys.json"]  # no temp file left behind
    for secret in (r1.index_key, *r1.data_keys.values()):
        assert base64.urlsafe_b64encode(secret).decode().rstrip("=") not in warning
    data = json.loads(path.read_text())
    assert set(data) == {ENC, IDX}

    r2, warning2 = load_keyring({ENC: "", IDX: ""}, var_dir=var_dir)
    assert r2 == r1
    assert warning2 is not None and "generated" not in warning2
    # The file's values work as environment values too.
    r3, warning3 = load_keyring(data, var_dir=tmp_path / "elsewhere")
    assert r3 == r1 and warning3 is None
    # Data encrypted after the first start decrypts after the second.
    token = FieldCipher(r1).encrypt("x", **BIND)
    assert FieldCipher(r2).decrypt(token, **BIND) == "x"


def test_generate_key_file_under_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        load_keyring({}, var_dir=tmp_path / "v")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "v" / "keys.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "v").stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_wide_key_file_refused(tmp_path: Path, mode: int) -> None:
    load_keyring({}, var_dir=tmp_path)
    path = tmp_path / "keys.json"
    path.chmod(mode)
    with pytest.raises(KeyConfigError) as info:
        load_keyring({}, var_dir=tmp_path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_key_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, json.dumps({ENC: env_values()[ENC], SES: b64(SESSION)}).encode())
    os.close(fd)
    with pytest.raises(KeyConfigError, match=f"{IDX} is missing from the key file") as info:
        load_keyring({}, var_dir=tmp_path)
    assert str(path) in str(info.value)
    path.write_text(json.dumps({ENC: env_values()[ENC], IDX: b64(b"\x8f" * 8)}))
    with pytest.raises(KeyConfigError, match=f"{IDX}: key is 8 bytes"):
        load_keyring({}, var_dir=tmp_path)
    path.write_text("not json")
    with pytest.raises(KeyConfigError, match="JSON"):
        load_keyring({}, var_dir=tmp_path)


def test_symlinked_key_file_refused(tmp_path: Path) -> None:
    (tmp_path / "keys.json").symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(KeyConfigError):
        load_keyring({}, var_dir=tmp_path)
    assert not (tmp_path / "nowhere.json").exists()


# ------------------------------------------------------------------ properties

_CIPHER = FieldCipher(ring({"k2": K_NEW, "k1": K_OLD}, primary="k2"))
_OLD_CIPHER = FieldCipher(ring({"k1": K_OLD}, primary="k1"))
_ident = st.text(min_size=1, max_size=20)


@settings(max_examples=200, deadline=None)
@given(text=st.text(), table=_ident, column=_ident, row=_ident)
def test_round_trip_property(text: str, table: str, column: str, row: str) -> None:
    token = _CIPHER.encrypt(text, table=table, column=column, row=row)
    assert token.isascii()
    assert _CIPHER.decrypt(token, table=table, column=column, row=row) == text
    old = _OLD_CIPHER.encrypt(text, table=table, column=column, row=row)
    moved = _CIPHER.reencrypt(old, table=table, column=column, row=row)
    assert _CIPHER.decrypt(moved, table=table, column=column, row=row) == text


@settings(max_examples=100, deadline=None)
@given(text=st.text(), row=_ident, other=_ident)
def test_other_row_property(text: str, row: str, other: str) -> None:
    if row == other:
        return
    token = _CIPHER.encrypt(text, table="t", column="c", row=row)
    with pytest.raises(DecryptError):
        _CIPHER.decrypt(token, table="t", column="c", row=other)


def test_key_config_errors_carry_the_setting_and_the_problem_apart(tmp_path: Path) -> None:
    odd = tmp_path / "keys: here"  # a directory whose name holds ": "
    odd.mkdir()
    (odd / "keys.json").write_text("[1, 2]", encoding="utf-8")
    (odd / "keys.json").chmod(0o600)
    with pytest.raises(KeyConfigError) as info:
        load_keyring({}, var_dir=odd)
    assert (info.value.name, info.value.problem) == (
        str(odd / "keys.json"),
        "key file must hold a JSON object",
    )
    assert str(info.value) == f"{odd / 'keys.json'}: key file must hold a JSON object"
