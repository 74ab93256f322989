"""Serving the desk: waitress on this machine only, or TLS when other machines may connect.

Passwords and session cookies must never cross a network in clear text, so
listening on anything but loopback needs a certificate and key (or the
README's reverse proxy in front of a loopback desk). Waitress has no TLS of
its own; with a certificate the desk runs on Werkzeug's threaded server with
the standard library's ssl.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from booklet.core import BookletError

DEFAULT_PORT = 8470


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, cert: Path | None, key: Path | None) -> bool:
    """Refuse a non-loopback address without TLS; return True when TLS is used."""
    if bool(cert) != bool(key):
        raise BookletError("--cert and --key go together: give both the certificate and its "
                           "private key (PEM files)")
    for option, path in (("--cert", cert), ("--key", key)):
        if path and not Path(path).is_file():
            raise BookletError(f"{option} {path}: no such file")
    if not is_loopback(host) and not cert:
        raise BookletError(
            f"--host {host}: other machines could reach the desk, so it needs TLS: add "
            "--cert CERT.pem --key KEY.pem, or keep the default 127.0.0.1 behind a reverse "
            "proxy that does TLS (see the README)")
    return bool(cert)


def serve(app, host: str, port: int, *, cert: Path | None = None, key: Path | None = None,
          say: Callable[[str], None] = print) -> None:
    """Serve app until interrupted."""
    tls = check_listen(host, cert, key)
    if tls:
        import ssl

        from werkzeug.serving import make_server

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(cert), str(key))
        server = make_server(host, port, app, threaded=True, ssl_context=context)
        say(f"https://{host}:{server.server_port}/")
        if not is_loopback(host):
            say(f"listening on {host}: other machines can reach this desk (TLS with {cert})")
        server.serve_forever()
        return
    from waitress import create_server

    server = create_server(app, host=host, port=port, threads=8, ident="booklet-desk")
    say(f"http://{host}:{server.effective_port}/")
    say("only this machine can reach the desk (127.0.0.1); press Ctrl-C to stop")
    try:
        server.run()
    finally:
        server.close()
