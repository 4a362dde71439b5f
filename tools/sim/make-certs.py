#!/usr/bin/env python3
"""A private CA and server certificates for TLS tests and the demo (python cryptography).

make-certs.py DIR writes: ca.pem, ca.key, server.pem/server.key (127.0.0.1 and localhost,
valid for 30 days), expired.pem/expired.key (expired yesterday), other-ca.pem (a CA that
signed nothing here).
"""
import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def key():
    return ec.generate_private_key(ec.SECP256R1())


def write_key(path, k):
    with open(path, "wb") as f:
        f.write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def write_cert(path, c):
    with open(path, "wb") as f:
        f.write(c.public_bytes(serialization.Encoding.PEM))


def ca(name):
    k = key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    c = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(k, hashes.SHA256())
    )
    return k, c


def server(ca_key, ca_cert, not_before, not_after):
    k = key()
    c = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "closet-store")]))
        .issuer_name(ca_cert.subject)
        .public_key(k.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return k, c


def main():
    out = sys.argv[1]
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, ca_cert = ca("Closet test CA")
    write_key(f"{out}/ca.key", ca_key)
    write_cert(f"{out}/ca.pem", ca_cert)
    k, c = server(ca_key, ca_cert, now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    write_key(f"{out}/server.key", k)
    write_cert(f"{out}/server.pem", c)
    k, c = server(ca_key, ca_cert, now - datetime.timedelta(days=30), now - datetime.timedelta(days=1))
    write_key(f"{out}/expired.key", k)
    write_cert(f"{out}/expired.pem", c)
    _, other = ca("Some other CA")
    write_cert(f"{out}/other-ca.pem", other)


main()
