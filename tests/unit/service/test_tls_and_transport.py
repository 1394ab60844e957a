"""Self-signed certificates (gen-cert) and the plain-HTTP policy of ``serve``."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest
from cryptography import x509
from typer.testing import CliRunner

from repotrack.cli.main import app
from repotrack.config import parse_listen
from repotrack.errors import ConfigError, ConflictError, InputError
from repotrack.service import check_transport, generate_self_signed


def test_generated_pair(tmp_path: Path) -> None:
    pair = generate_self_signed(
        tmp_path / "tls", common_name="tracker.example", days=30, key_size=2048, hosts=("10.0.0.5",)
    )
    assert stat.S_IMODE(pair.keyfile.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(pair.certfile.read_bytes())
    assert cert.subject.rfc4514_string() == "CN=tracker.example"
    assert cert.issuer == cert.subject
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 30
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "tracker.example"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address(a) for a in ("127.0.0.1", "::1", "10.0.0.5")
    }
    with pytest.raises(ConflictError, match="--force"):
        generate_self_signed(tmp_path / "tls", key_size=2048)
    again = generate_self_signed(tmp_path / "tls", key_size=2048, overwrite=True)
    assert stat.S_IMODE(again.keyfile.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "kwargs", [{"days": 0}, {"key_size": 1024}, {"common_name": ""}, {"common_name": "x" * 65}]
)
def test_bad_generation_input(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError):
        generate_self_signed(tmp_path / "tls", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "tls").exists()


def test_gen_cert_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["gen-cert", "--out", str(tmp_path), "--bits", "2048", "--cn", "svc", "--days", "10"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "self-signed.crt").is_file()
    assert "repotrack serve --certfile" in result.output
    again = CliRunner().invoke(app, ["gen-cert", "--out", str(tmp_path), "--bits", "2048"])
    assert again.exit_code == 1
    assert "ConflictError" in again.output
    bad = CliRunner().invoke(app, ["gen-cert", "--out", str(tmp_path / "x"), "--bits", "512"])
    assert bad.exit_code == 2


def test_transport_policy(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("x")
    assert check_transport(parse_listen("0.0.0.0:5001"), cert, key) is True
    assert check_transport(parse_listen("127.0.0.1:5001"), None, None) is False
    assert check_transport(parse_listen("[::1]:5001"), None, None) is False
    assert check_transport(parse_listen("localhost:5001"), None, None) is False
    with pytest.raises(ConfigError, match="refusing to serve plain HTTP"):
        check_transport(parse_listen("0.0.0.0:5001"), None, None)
    assert check_transport(parse_listen("10.1.2.3:5001"), None, None, insecure_http=True) is False
    with pytest.raises(ConfigError, match="both"):
        check_transport(parse_listen("127.0.0.1:5001"), cert, None)
    with pytest.raises(ConfigError, match="does not exist"):
        check_transport(parse_listen("127.0.0.1:5001"), cert, tmp_path / "missing.pem")


def test_serve_refuses_plain_http_on_public_address() -> None:
    result = CliRunner().invoke(app, ["serve", "--listen", "0.0.0.0:5999", "--no-tracker"])
    assert result.exit_code == 2
    assert "refusing to serve plain HTTP" in result.output
