"""Test and pilot certificates for the broker's TLS listener, made with the openssl tool.

One CA; one server certificate for the broker; one client certificate per vehicle and per
SEH whose CN is its id (mosquitto ``use_identity_as_username``), and the ACL file that gives
each exactly its topics from the MQTT contract. Production uses the region's own CA; the
layout and the ACL stay the same.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from edge.wire.contract import TOPIC_ROOT

VALID_DAYS = 825


class CertError(RuntimeError):
    pass


@dataclass(frozen=True)
class ClientFiles:
    cert: Path
    key: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise CertError(f"openssl {args[0]} failed: {result.stderr.strip().splitlines()[-1:]}")


def _key(path: Path) -> None:
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path), cwd=path.parent)
    path.chmod(0o600)


def make_ca(folder: Path, name: str = "ritlink test CA") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _key(folder / "ca.key")
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", str(VALID_DAYS), "-subj", f"/CN={name}",
             "-out", "ca.crt", cwd=folder)
    return folder / "ca.crt"


def _signed(folder: Path, name: str, cn: str, extensions: str) -> ClientFiles:
    key, csr, cert, ext = (folder / f"{name}.{suffix}" for suffix in ("key", "csr", "crt", "ext"))
    _key(key)
    _openssl("req", "-new", "-key", key.name, "-subj", f"/CN={cn}", "-out", csr.name, cwd=folder)
    ext.write_text(extensions)
    _openssl("x509", "-req", "-in", csr.name, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", str(VALID_DAYS), "-sha256", "-extfile", ext.name, "-out", cert.name, cwd=folder)
    csr.unlink()
    ext.unlink()
    return ClientFiles(cert, key)


def make_server_cert(folder: Path, host: str = "localhost") -> ClientFiles:
    return _signed(folder, "broker", host,
                   f"subjectAltName=DNS:{host},DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")


def make_client_cert(folder: Path, client_id: str) -> ClientFiles:
    return _signed(folder, client_id, client_id, "extendedKeyUsage=clientAuth\n")


def acl_text(vehicles: list[str], sehs: list[str]) -> str:
    """Per-client rules: a vehicle writes only its own feed (form, live, receipts, messages) and
    reads only its own receipts, feedback and messages, plus every SEH's status; an SEH reads
    only its own feed, writes receipts/feedback/messages only as itself, and writes (and reads
    back) only its own status."""
    root = TOPIC_ROOT
    lines = ["# ritlink broker ACL: one block per client certificate CN", ""]
    for vehicle in vehicles:
        lines += [
            f"user {vehicle}",
            f"topic write {root}/seh/+/from/{vehicle}/#",
            f"topic read {root}/vehicle/{vehicle}/receipt/+",
            f"topic read {root}/vehicle/{vehicle}/feedback/+",
            f"topic read {root}/vehicle/{vehicle}/message/+",
            f"topic read {root}/seh/+/status",
            "",
        ]
    for seh in sehs:
        lines += [
            f"user {seh}",
            f"topic read {root}/seh/{seh}/from/#",
            f"topic write {root}/vehicle/+/receipt/{seh}",
            f"topic write {root}/vehicle/+/feedback/{seh}",
            f"topic write {root}/vehicle/+/message/{seh}",
            f"topic readwrite {root}/seh/{seh}/status",
            "",
        ]
    return "\n".join(lines)


def make_all(folder: Path, vehicles: list[str], sehs: list[str], host: str = "localhost") -> dict[str, ClientFiles]:
    """CA, broker certificate, one certificate per client, and ``ritlink.acl``."""
    make_ca(folder)
    make_server_cert(folder, host)
    clients = {client_id: make_client_cert(folder, client_id) for client_id in [*vehicles, *sehs]}
    (folder / "ritlink.acl").write_text(acl_text(vehicles, sehs))
    return clients


def broker_tls_config(folder: Path, port: int, bind: str = "127.0.0.1") -> str:
    """The mosquitto listener for production: TLS only, certificate required, CN = username."""
    return "\n".join([
        f"listener {port} {bind}",
        f"cafile {folder / 'ca.crt'}",
        f"certfile {folder / 'broker.crt'}",
        f"keyfile {folder / 'broker.key'}",
        "require_certificate true",
        "use_identity_as_username true",
        "tls_version tlsv1.2",
        "allow_anonymous false",
        f"acl_file {folder / 'ritlink.acl'}",
        "",
    ])
