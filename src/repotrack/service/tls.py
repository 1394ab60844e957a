"""Self-signed certificates for the service, like the original's ``openssl req -x509`` recipe.

The original's documentation has users run
``openssl req -x509 -days 3650 -subj "/CN=self-signed" -nodes -newkey rsa:4096``.
``generate_self_signed`` makes the same kind of pair with ``cryptography``, and adds
what verifying clients need today: subjectAltName entries for ``localhost``,
``127.0.0.1`` and ``::1`` (plus the CN and any extra host given), so a client can trust
the certificate file as its CA and still check the host name. The key file is
created with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from repotrack.errors import ConflictError, InputError

__all__ = ["CERT_NAME", "KEY_NAME", "CertPair", "generate_self_signed"]

CERT_NAME = "self-signed.crt"
KEY_NAME = "self-signed.key"
_DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class CertPair:
    certfile: Path
    keyfile: Path


def generate_self_signed(
    out_dir: Path,
    *,
    common_name: str = "self-signed",
    days: int = 3650,
    key_size: int = 4096,
    hosts: tuple[str, ...] = (),
    overwrite: bool = False,
) -> CertPair:
    """Write ``self-signed.crt`` and ``self-signed.key`` into ``out_dir``."""
    if days < 1:
        raise InputError("must be at least 1", field="days")
    if key_size not in (2048, 3072, 4096):
        raise InputError("RSA key size must be 2048, 3072 or 4096", field="key_size")
    if not common_name or len(common_name) > 64:
        raise InputError("common name must be 1 to 64 characters", field="cn")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError("is not a directory", path=str(out_dir))
    if not out_dir.exists() and not out_dir.parent.is_dir():
        raise InputError(f"directory {out_dir.parent} does not exist", path=str(out_dir))
    pair = CertPair(out_dir / CERT_NAME, out_dir / KEY_NAME)
    for path in (pair.certfile, pair.keyfile):
        if path.exists() and not overwrite:
            raise ConflictError(f"{path} already exists; use --force to replace it")
    key_pem, cert_pem = _make_pair(common_name, days, key_size, (*_DEFAULT_HOSTS, *hosts))
    out_dir.mkdir(exist_ok=True)
    _write_private(pair.keyfile, key_pem)
    pair.certfile.write_bytes(cert_pem)
    return pair


def _make_pair(
    common_name: str, days: int, key_size: int, hosts: tuple[str, ...]
) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    public = key.public_key()
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_alt_names(common_name, hosts)), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _alt_names(common_name: str, hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for host in (*hosts, common_name):
        if host in seen:
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            if _looks_like_dns(host):
                names.append(x509.DNSName(host))
    return names


def _looks_like_dns(host: str) -> bool:
    labels = host.rstrip(".").split(".")
    return all(
        0 < len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
        for label in labels
    )


def _write_private(path: Path, data: bytes) -> None:
    """Create or replace ``path`` with mode 0600 before any byte of the key is written."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(data)
