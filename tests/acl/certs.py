"""Throw-away X.509 material for the TLS tests: a CA and a server certificate it signs.

Uses the ``cryptography`` package when installed, else the ``openssl`` command line. The
extensions are the ones Python 3.13's default ``VERIFY_X509_STRICT`` demands: key usage on
the CA, key identifiers on both.
"""

from __future__ import annotations

import datetime
import subprocess
from pathlib import Path


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA; return (certificate, key) paths."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    try:
        _ca_with_cryptography(cert, key, name)
    except ImportError:
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert),
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    return cert, key


def make_server_cert(directory: Path, ca: tuple[Path, Path], dns_name: str) -> tuple[Path, Path]:
    """A certificate for ``dns_name`` only (no IP address), signed by ``ca``."""
    cert, key = directory / "server.crt", directory / "server.key"
    try:
        _leaf_with_cryptography(cert, key, ca, dns_name)
    except ImportError:
        csr, ext = directory / "server.csr", directory / "san.ext"
        ext.write_text(
            f"subjectAltName=DNS:{dns_name}\nauthorityKeyIdentifier=keyid\n"
            "subjectKeyIdentifier=hash\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
        )
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={dns_name}",
                 "-keyout", str(key), "-out", str(csr))  # fmt: skip
        signing = ["-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial", "-days", "2"]
        _openssl("x509", "-req", "-in", str(csr), *signing, "-extfile", str(ext), "-out", str(cert))
    return cert, key


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca_with_cryptography(cert_path: Path, key_path: Path, name: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    usage = x509.KeyUsage(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        _builder(subject, subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write(cert_path, key_path, cert, key)


def _leaf_with_cryptography(
    cert_path: Path, key_path: Path, ca: tuple[Path, Path], dns_name: str
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate(ca[0].read_bytes())
    ca_key = serialization.load_pem_private_key(ca[1].read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_name)])
    cert = (
        _builder(subject, ca_cert.subject, key.public_key())
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    _write(cert_path, key_path, cert, key)


def _builder(subject, issuer, public_key):  # type: ignore[no-untyped-def]
    from cryptography import x509

    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


def _write(cert_path, key_path, cert, key) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
