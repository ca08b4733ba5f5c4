"""The client address behind trusted proxies: table tests of the pure functions, and the
setting's validation."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from bot import settings
from bot.errors import SettingsError
from bot.web.clientip import client_address, forwarded_hops, limit_key, parse_address

ROOT = Path(__file__).resolve().parents[2]
PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48"))
XFF = "x-forwarded-for"
FWD = "forwarded"


@pytest.mark.parametrize(
    ("peer", "lines", "header", "expected"),
    [
        # not behind a trusted proxy: the headers are whatever the client wrote
        ("203.0.113.7", [], XFF, "203.0.113.7"),
        ("203.0.113.7", ["198.51.100.1"], XFF, "203.0.113.7"),
        ("203.0.113.7", ["for=198.51.100.1"], FWD, "203.0.113.7"),
        # one trusted proxy
        ("10.0.0.2", ["198.51.100.1"], XFF, "198.51.100.1"),
        ("10.0.0.2", [], XFF, "10.0.0.2"),  # the proxy itself (a health check)
        ("10.0.0.2", [" 198.51.100.1 "], XFF, "198.51.100.1"),
        # the client's own header is to the left of what the proxy appended: never reached
        ("10.0.0.2", ["1.2.3.4, 198.51.100.1"], XFF, "198.51.100.1"),
        ("10.0.0.2", ["1.2.3.4", "198.51.100.1"], XFF, "198.51.100.1"),  # two lines, one list
        # a chain of trusted proxies: the rightmost untrusted hop
        ("10.0.0.2", ["1.2.3.4, 198.51.100.1, 10.9.9.9, 10.1.1.1"], XFF, "198.51.100.1"),
        ("10.0.0.2", ["10.3.3.3, 10.1.1.1"], XFF, "10.3.3.3"),  # every hop trusted: the farthest
        # ports, brackets, quotes, IPv6, IPv4-mapped
        ("10.0.0.2", ["198.51.100.1:4711"], XFF, "198.51.100.1"),
        ("10.0.0.2", ["[2001:db8::1]:4711"], XFF, "2001:db8::1"),
        ("10.0.0.2", ["2001:DB8::1"], XFF, "2001:db8::1"),
        ("::ffff:10.0.0.2", ["198.51.100.1"], XFF, "198.51.100.1"),
        ("2001:db8:ffff::5", ["198.51.100.1"], XFF, "198.51.100.1"),
        ("10.0.0.2", ["::ffff:198.51.100.1"], XFF, "198.51.100.1"),
        # not an address: the walk stops at the last address before it
        ("10.0.0.2", ["198.51.100.1, unknown"], XFF, "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1, 10.1.1.1, garbage"], XFF, "10.0.0.2"),
        ("10.0.0.2", ["garbage, 10.1.1.1"], XFF, "10.1.1.1"),
        ("10.0.0.2", [""], XFF, "10.0.0.2"),
        # RFC 7239
        ("10.0.0.2", ["for=198.51.100.1;proto=https;by=10.0.0.2"], FWD, "198.51.100.1"),
        ("10.0.0.2", ['for="[2001:db8:cafe::17]:4711"'], FWD, "2001:db8:cafe::17"),
        ("10.0.0.2", ["For=1.2.3.4, for=198.51.100.1"], FWD, "198.51.100.1"),
        ("10.0.0.2", ["for=198.51.100.1, for=10.1.1.1"], FWD, "198.51.100.1"),
        ("10.0.0.2", ['for="_hidden", for=10.1.1.1'], FWD, "10.1.1.1"),
        ("10.0.0.2", ["proto=https"], FWD, "10.0.0.2"),
        # an unterminated quote from the client cannot swallow what the proxy appended
        ("10.0.0.2", ['for="1.2.3.4, for=198.51.100.1'], FWD, "198.51.100.1"),
        # no peer address at all (a Unix socket)
        (None, ["198.51.100.1"], XFF, "unknown"),
        ("", [], XFF, "unknown"),
    ],
)
def test_client_address(peer: str | None, lines: list[str], header: str, expected: str) -> None:
    assert client_address(peer, lines, trusted=PROXIES, header=header) == expected


def test_nothing_is_trusted_without_proxies() -> None:
    assert client_address("10.0.0.2", ["198.51.100.1"], trusted=()) == "10.0.0.2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:80", "192.0.2.1"),
        ('"192.0.2.1"', "192.0.2.1"),
        ("[::1]", "::1"),
        ("[::1", None),
        ("::1", "::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("unknown", None),
        ("_obfuscated", None),
        ("", None),
        (None, None),
        ("300.1.1.1", None),
    ],
)
def test_parse_address(text: str | None, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (None if parsed is None else str(parsed)) == expected


def test_forwarded_hops_keep_their_order_across_lines() -> None:
    assert forwarded_hops(["a, b", "c"], XFF) == ["a", "b", "c"]
    assert forwarded_hops(["for=a;proto=http, by=x", "for=c"], FWD) == ["a", "", "c"]


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("unknown", "unknown"),
    ],
)
def test_limit_key_groups_an_ipv6_slash_64(address: str, key: str) -> None:
    assert limit_key(address) == key


def _load(tmp_path: Path, **env: str) -> settings.Settings:
    base = {"CLA_CONFIG": str(ROOT / "app.yaml"), "CLA_VAR_DIR": str(tmp_path / "var")}
    return settings.load({**base, **env}, cwd=tmp_path)


def test_trusted_proxies_setting(tmp_path: Path) -> None:
    assert _load(tmp_path).trusted_proxies == ()
    conf = _load(
        tmp_path,
        CLA_TRUSTED_PROXIES=" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,",
        CLA_FORWARDED_HEADER="Forwarded",
    )
    assert conf.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    assert conf.forwarded_header == "forwarded"
    assert _load(tmp_path).forwarded_header == "x-forwarded-for"


@pytest.mark.parametrize(
    ("env", "name", "message"),
    [
        (
            {"CLA_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"},
            "CLA_TRUSTED_PROXIES",
            "CLA_TRUSTED_PROXIES: 'proxy.internal' is not a network like 10.0.0.0/8 or "
            "2001:db8::/32",
        ),
        (
            {"CLA_TRUSTED_PROXIES": "10.0.0.1/8"},
            "CLA_TRUSTED_PROXIES",
            "CLA_TRUSTED_PROXIES: '10.0.0.1/8' is not a network like 10.0.0.0/8 or "
            "2001:db8::/32; did you mean 10.0.0.0/8?",
        ),
        (
            {"CLA_FORWARDED_HEADER": "X-Real-IP"},
            "CLA_FORWARDED_HEADER",
            "CLA_FORWARDED_HEADER: must be X-Forwarded-For or Forwarded",
        ),
    ],
)
def test_a_bad_proxy_setting_stops_start_up_naming_it(
    tmp_path: Path, env: dict[str, str], name: str, message: str
) -> None:
    with pytest.raises(SettingsError) as exc:
        _load(tmp_path, **env)
    assert exc.value.name == name
    assert str(exc.value) == message
