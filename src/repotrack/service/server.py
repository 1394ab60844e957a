"""Running the app under uvicorn: where to listen and whether TLS is on.

The original served HTTPS only. Here TLS is on whenever a certificate and key are
given (``--certfile/--keyfile`` or ``service.certfile/keyfile``). Plain HTTP is
allowed on a loopback address (development, or a TLS-terminating proxy on the same
host); on any other address it is refused unless ``insecure_http`` is set
explicitly, because Basic-auth passwords would then cross the network in clear.
"""

from __future__ import annotations

import errno
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.config import Listen, Settings, parse_listen
from repotrack.errors import ConfigError, ConflictError

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

__all__ = ["bind_listen_socket", "check_transport", "serve", "uvicorn_config"]

log = logging.getLogger(__name__)

#: Seconds open requests get to finish after SIGTERM/SIGINT before they are cut off;
#: then the load runner gets its own bounded stop (``jobs.STOP_GRACE``).
GRACEFUL_SHUTDOWN = 10


def check_transport(
    listen: Listen, certfile: Path | None, keyfile: Path | None, *, insecure_http: bool = False
) -> bool:
    """Whether TLS is on; raises ConfigError for half a pair, a missing file or unsafe HTTP."""
    if (certfile is None) != (keyfile is None):
        raise ConfigError("give both a certificate and a key file, or neither", key="certfile")
    if certfile is not None and keyfile is not None:
        for key, path in (("certfile", certfile), ("keyfile", keyfile)):
            if not path.is_file():
                raise ConfigError(f"{path} does not exist or is not a file", key=key)
        return True
    if listen.is_loopback:
        return False
    if insecure_http:
        log.warning("serving plain HTTP on %s: credentials travel unencrypted", listen)
        return False
    raise ConfigError(
        f"refusing to serve plain HTTP on non-loopback address {listen}; give "
        "--certfile/--keyfile (`repotrack gen-cert` makes a self-signed pair), listen on "
        "127.0.0.1, or pass --insecure-http if a TLS proxy sits in front",
        key="listen",
    )


def uvicorn_config(
    app: FastAPI,
    *,
    listen: Listen,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    log_level: str = "info",
    access_log: bool = True,
    configure_logging: bool = True,
) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        log_level=log_level.lower(),
        access_log=access_log,
        log_config=uvicorn.config.LOGGING_CONFIG if configure_logging else None,
        proxy_headers=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


def serve(
    settings: Settings,
    *,
    listen: str | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    insecure_http: bool = False,
    scheduler: bool = True,
) -> None:
    """Serve until interrupted: check the transport, build the app, run uvicorn."""
    import uvicorn

    from repotrack.service.app import create_app

    address = parse_listen(listen) if listen else settings.service.listen_address
    cert = certfile or settings.service.certfile
    key = keyfile or settings.service.keyfile
    tls = check_transport(address, cert, key, insecure_http=insecure_http)
    # Bind before the app exists: its lifespan starts the tracker, which must not scan
    # (and the store must not be opened) when the port is taken.
    sock = bind_listen_socket(address)
    app = create_app(settings, scheduler=scheduler)
    scheme = "https" if tls else "http"
    log.info("serving on %s://%s (state: %s)", scheme, address, _redact(settings.state_url))
    config = uvicorn_config(
        app, listen=address, certfile=cert, keyfile=key, log_level=settings.log_level
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def bind_listen_socket(address: Listen) -> socket.socket:
    """A socket bound to ``address``; a taken port or an unusable address is one clear error."""
    try:
        family, kind, proto, _name, sockaddr = socket.getaddrinfo(
            address.host, address.port, type=socket.SOCK_STREAM
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve {address.host!r}: {exc.strerror}", key="listen") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
    except OSError as exc:
        sock.close()
        hint = "; is another repotrack serve running?" if exc.errno == errno.EADDRINUSE else ""
        raise ConflictError(f"cannot listen on {address}: {exc.strerror}{hint}") from exc
    sock.set_inheritable(True)
    return sock


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:********@{host}"
