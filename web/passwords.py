"""Secrets at rest as scrypt hashes (hashlib, no extra library): the tablet PIN, SEH staff passwords.

The stored form is ``scrypt$n$r$p$salt_hex$hash_hex``: the parameters travel with the hash,
so they can be raised later without invalidating what is stored. Verification compares in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # ~16 MB and ~50 ms per check: cheap for a sign-in, costly for a guesser
MIN_PIN_DIGITS = 5


class WeakSecret(ValueError):
    """A PIN or password below the minimum."""


def check_pin(pin: str) -> str:
    if not pin.isdigit() or len(pin) < MIN_PIN_DIGITS:
        raise WeakSecret(f"the PIN must be at least {MIN_PIN_DIGITS} digits")
    return pin


def hash_secret(secret: str, n: int = N, r: int = R, p: int = P) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 2**20, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def is_hash(encoded: str) -> bool:
    parts = encoded.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(x.isdigit() for x in parts[1:4])


def verify(secret: str, encoded: str) -> bool:
    if not is_hash(encoded):
        return False
    _, n, r, p, salt, digest = encoded.split("$")
    try:
        got = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 2**20, dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
