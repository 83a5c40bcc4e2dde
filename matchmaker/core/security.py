"""Security headers on every response, and the check that keeps ``next`` redirects on this site."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def is_safe_redirect(target: str | None) -> bool:
    """True for a path on this host; false for other hosts, schemes and protocol-relative URLs."""
    if not target:
        return False
    if target.startswith(("//", "\\")) or "\\" in target:
        return False
    host_url = urlsplit(request.host_url)
    resolved = urlsplit(urljoin(request.host_url, target))
    return resolved.scheme in ("http", "https") and resolved.netloc == host_url.netloc


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
