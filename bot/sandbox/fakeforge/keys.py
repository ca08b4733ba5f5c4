"""An App's RSA key pair, made once per process: the fake GitHub verifies App JWTs with its
public half, the bot signs them with the private one. The tests share one pair per process;
the sandbox makes its own."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class AppKeyPair:
    private_pem: str
    public_pem: str


def new_app_keypair() -> AppKeyPair:
    """A fresh RSA-2048 key pair for an App (the sandbox makes its own at each start)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # what GitHub hands out
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKeyPair(private_pem=private_pem, public_pem=public_pem)


@functools.cache
def generate_app_keypair() -> AppKeyPair:
    """An RSA-2048 key pair for the fake App; generated once per process (test session)."""
    return new_app_keypair()
