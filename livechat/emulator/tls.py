"""TLS material for the emulator: a throw-away CA and a server certificate it signs.

The SDK always dials ``wss://`` when it holds an API key, so the emulator must
speak TLS; clients trust it through ``ca.pem`` (never by disabling
verification). The CA's private key lives only in memory while signing and is
never written to disk, so a leaked ``ca.pem`` cannot mint other certificates.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Short on purpose: the material is regenerated at every start.
DEFAULT_VALIDITY = dt.timedelta(days=7)
_CLOCK_SKEW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class TlsMaterial:
    """Paths of the generated PEM files (``ca_file`` is the one clients need)."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def generate_tls_material(key_dir: Path, ca_dir: Path | None = None, *,
                          hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
                          validity: dt.timedelta = DEFAULT_VALIDITY) -> TlsMaterial:
    """Create a CA and a server certificate for ``hosts``; write them as PEM.

    ``key_dir`` receives the server certificate and its key (mode 0600);
    ``ca_dir`` (default ``key_dir``) receives ``ca.pem``. IP literals become
    IP SANs, names become DNS SANs; 127.0.0.1 and localhost are always present.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    ca_dir = ca_dir or key_dir
    ca_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    not_before, not_after = now - _CLOCK_SKEW, now + validity

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Live Data Chat emulator CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = []
    for host in dict.fromkeys(("127.0.0.1", "localhost") + tuple(hosts)):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = ca_dir / "ca.pem"
    cert_file = key_dir / "server.pem"
    key_file = key_dir / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = server_key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return TlsMaterial(ca_file=ca_file, cert_file=cert_file, key_file=key_file)


def server_ssl_context(material: TlsMaterial) -> ssl.SSLContext:
    """A server-side context (TLS 1.2+, HTTP/1.1 only) for uvicorn."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(material.cert_file), str(material.key_file))
    # uvicorn's h11 protocol speaks HTTP/1.1 only; never offer h2.
    context.set_alpn_protocols(["http/1.1"])
    return context
