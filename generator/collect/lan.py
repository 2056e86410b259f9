"""Joining from a phone: the machine's address on the local network, and the page's URL as a QR code.

``afro-mnist collect serve --lan`` listens on the address this module finds, and prints the URL and a
QR code in the terminal; the organiser's join page (``/review/join``, behind the review token) shows
both large enough for a projector. The QR codes are drawn by segno, as text for the terminal and as SVG.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import socket
from collections.abc import Iterable

import segno

LAN_WARNING = (
    "warning: --lan serves the drawing page to everyone on this network: anyone who can join it (the "
    "classroom's Wi-Fi, for one) can open the page and draw. Pages and drawings travel unencrypted (plain "
    "HTTP); on a network you do not trust, serve behind a reverse proxy that terminates TLS (HTTPS) instead. "
    "Stop the server (Ctrl-C) when the session ends."
)
# Networks a classroom's router hands out, in the order they are preferred when a machine has several
# (a laptop on Wi-Fi with a virtual machine's 172.17/16 bridge as well, say).
_PRIVATE = [ipaddress.ip_network(n) for n in ("192.168.0.0/16", "10.0.0.0/8", "172.16.0.0/12")]
# An address in TEST-NET-1 (RFC 5737): a UDP socket "connected" to it makes the system pick the
# interface it would route through, and not one packet is sent.
_ROUTE_PROBE = "192.0.2.1"


def choose_address(candidates: Iterable[str]) -> str | None:
    """The address that phones on the same network reach this machine at, of the machine's IPv4 addresses.

    Loopback, link-local (169.254/16, a network without a router), unspecified and malformed addresses
    are passed over; private addresses (192.168/16, then 10/8, then 172.16/12) come before any other.
    None when no address is left.
    """
    usable = []
    for position, text in enumerate(candidates):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        if address.version != 4 or address.is_loopback or address.is_link_local or address.is_unspecified:
            continue
        if address.is_multicast or address.is_reserved:
            continue
        rank = next((i for i, network in enumerate(_PRIVATE) if address in network), len(_PRIVATE))
        usable.append((rank, position, str(address)))
    return min(usable)[2] if usable else None


def machine_addresses() -> list[str]:
    """This machine's IPv4 addresses as the system reports them: the one it routes through first."""
    found = []
    # OSError: no route at all (not on any network), or a host name that does not resolve.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect((_ROUTE_PROBE, 9))
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    return list(dict.fromkeys(found))


def lan_address() -> str | None:
    """The machine's address on its local network, or None when it is on none."""
    return choose_address(machine_addresses())


def join_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _qr(url: str) -> segno.QRCode:
    # Level M survives a projector's glare and a phone held at an angle; a URL of this length stays small.
    return segno.make(url, error="m", micro=False)


def terminal_qr(url: str) -> str:
    """The URL as a QR code in text: two modules a line, drawn with half blocks, for any terminal."""
    out = io.StringIO()
    _qr(url).terminal(out=out, compact=True, border=2)
    return out.getvalue()


def svg_qr(url: str) -> bytes:
    """The URL as a QR code in SVG, with its URL as the title; scaled by the page, black on white."""
    out = io.BytesIO()
    _qr(url).save(out, kind="svg", scale=10, border=4, xmldecl=False, title=url, dark="#000", light="#fff")
    return out.getvalue()
