"""The REST service: compatibility routes, ``/api/v1``, auth, TLS, OpenAPI.

A thin face over ``repotrack.state`` (and the tracker): routes parse, call one core
function, and render. Build the app with ``create_app(settings)``; run it with
``serve(settings, ...)``.
"""

from repotrack.service.app import create_app
from repotrack.service.server import check_transport, serve, uvicorn_config
from repotrack.service.tls import CertPair, generate_self_signed

__all__ = [
    "CertPair",
    "check_transport",
    "create_app",
    "generate_self_signed",
    "serve",
    "uvicorn_config",
]
