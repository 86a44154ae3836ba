"""Where a department's webhook may be sent, and sending it there (security review, issue 14).

Whoever may register an endpoint makes the worker POST wherever the URL points, so the URL is
checked when it is registered and again before every try, by ``webhook_target``:

- http or https, no user name or password in it;
- its host is one of ``settings.WEBHOOK_ALLOWED_HOSTS``: an exact name, ``.example.gov.cn``
  (the domain and its subdomains), ``*.example.gov.cn`` (its subdomains), ``*`` (any public
  host), or an IP network in CIDR form (``10.20.0.0/16``; a bare address is a network of one);
  empty (the default) allows nothing;
- never the platform itself: ``localhost`` (and ``*.localhost``) or a name or address of
  settings.ALLOWED_HOSTS;
- the host is resolved once (``socket.getaddrinfo``) and EVERY address is checked: loopback,
  link-local, multicast, unspecified, reserved, "this network" and site-local addresses are
  refused whatever is listed (also inside IPv4-mapped, IPv4-compatible, 6to4 and NAT64 IPv6
  forms); an address that is not public (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7,
  documentation and benchmarking ranges) only when a listed network holds it; a public one when
  the name is listed (or a listed network holds it).

The try then connects to one of those checked addresses and to nothing else (``webhook_post``):
the name is not resolved a second time, so a name that answers a public address to the check
and 127.0.0.1 to the connection (DNS rebinding) reaches nothing. The Host header and, for https,
the TLS server name and certificate check still use the URL's name. No proxy of the environment
is used and redirects are never followed (http.client follows none).

What a try records for the department (``WebhookAnswer.error``) is a class, never what the
receiver said: ``HTTP <status>``, ``timeout`` (connected, no answer in time), one text for every
failure to connect (refused, unreachable, no route, TLS, DNS: distinct texts would tell a port
scan which ports are open), and one for an address refused at delivery. The receiver's first
bytes or the exception go to ``WebhookAnswer.detail``, for the administrator only.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a failed try shows the department (WebhookAttempt.error): classes, never the receiver's
# words, and the same text for every way a connection can fail.
ERROR_CONNECT = "could not connect"
ERROR_TIMEOUT = "timeout"
ERROR_REFUSED = "refused: address not allowed (WEBHOOK_ALLOWED_HOSTS)"
# Characters of a failed answer's body kept for the administrator (WebhookAttempt.detail).
DETAIL_BODY_CHARS = 300

# Never a webhook's destination, whatever WEBHOOK_ALLOWED_HOSTS lists. ipaddress's own flags
# cover most; these name what they miss ("this network", site-local) and keep the list readable.
_NEVER = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network" (RFC 791): 0.x.y.z reaches the local host on Linux
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "224.0.0.0/4",
        "240.0.0.0/4",  # reserved, and the broadcast address
        "::/128",
        "::1/128",
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated, still routed by some)
        "ff00::/8",
    )
)
# IPv6 prefixes that carry an IPv4 address a gateway may translate to (NAT64, RFC 6052).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookTargetRefused(ValueError):
    """A URL webhooks may not be sent to. ``message``: for the person registering it (translated);
    ``detail``: what exactly was refused, for the administrator and the logs."""

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class WebhookTarget:
    """A checked URL: where to connect (``addresses``, every one checked) and what to ask."""

    scheme: str
    host: str  # the name (or address) of the URL, for the Host header and TLS
    port: int
    target: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


@dataclass
class WebhookAnswer:
    """The outcome of one try. ``error``: the class shown to the department; ``detail``: for the
    administrator only; ``refused``: the address check refused it and nothing was sent."""

    status_code: int | None = None
    error: str = ""
    detail: str = ""
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- the check ------------------------------------------------------------------------------------


def _host_refused() -> WebhookTargetRefused:
    return WebhookTargetRefused(
        _(
            "Webhooks may not be sent to this host: the administrator must list the "
            "department's host in WEBHOOK_ALLOWED_HOSTS."
        ),
        "host not in WEBHOOK_ALLOWED_HOSTS",
    )


def _address_refused(detail: str) -> WebhookTargetRefused:
    # One message for every address-level refusal, unresolvable names included: distinct
    # messages would tell a caller what the platform's resolver knows of internal names.
    return WebhookTargetRefused(
        _(
            "This host does not resolve to an address webhooks may be sent to: never a "
            "loopback, link-local or reserved address, and a private network only when the "
            "administrator lists it in WEBHOOK_ALLOWED_HOSTS."
        ),
        detail,
    )


def webhook_allowed_hosts() -> tuple[list[str], list[IPNetwork]]:
    """settings.WEBHOOK_ALLOWED_HOSTS as name patterns and IP networks. Raises
    ImproperlyConfigured for an entry that looks like a network and is none (``10.0.0.0/33``)."""
    names: list[str] = []
    networks: list[IPNetwork] = []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            if "/" in entry:
                raise ImproperlyConfigured(
                    f"WEBHOOK_ALLOWED_HOSTS: {entry!r} is no IP network"
                ) from None
        names.append(entry.rstrip("."))
    return names, networks


def _name_listed(host: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern == "*" or host == pattern:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if pattern.startswith(".") and (host == pattern[1:] or host.endswith(pattern)):
            return True
    return False


def _own_hosts() -> tuple[set[str], set[IPAddress]]:
    """The platform's own names and addresses: localhost and settings.ALLOWED_HOSTS but its
    wildcards (``*``, ``.example.cn``)."""
    names, addresses = {"localhost"}, set()
    for entry in settings.ALLOWED_HOSTS:
        entry = entry.strip().lower().rstrip(".")
        if not entry or entry == "*" or entry.startswith("."):
            continue
        try:
            addresses.add(_effective(ipaddress.ip_address(entry.strip("[]"))))
        except ValueError:
            names.add(entry)
    return names, addresses


def _effective(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or IPv4-compatible (::a.b.c.d) IPv6
    address stands for; any other address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, but :: and ::1
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _embedded(address: IPAddress) -> list[IPAddress]:
    """IPv4 addresses a translating gateway could reach through ``address`` (6to4, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = []
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _never(address: IPAddress) -> bool:
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or any(address in network for network in _NEVER if network.version == address.version)
    )


def webhook_address_refusal(
    address: IPAddress, *, name_listed: bool, networks: list[IPNetwork]
) -> str:
    """Why ``address`` may not receive a webhook (empty when it may): never an address of
    ``_NEVER``'s kinds, nor one of the platform's; a non-public one only inside a listed network;
    a public one when the host's name is listed or a listed network holds it."""
    address = _effective(address)
    for candidate in [address, *_embedded(address)]:
        if _never(candidate):
            return f"{candidate} is loopback, link-local, multicast, unspecified or reserved"
    if address in _own_hosts()[1]:
        return f"{address} is an address of the platform (ALLOWED_HOSTS)"
    in_network = any(
        address in network for network in networks if network.version == address.version
    )
    for candidate in _embedded(address):
        if not candidate.is_global and not any(
            candidate in network for network in networks if network.version == 4
        ):
            return f"{address} translates to {candidate}, which is not public"
    if in_network:
        return ""
    if not address.is_global:
        return f"{address} is not public and no network of WEBHOOK_ALLOWED_HOSTS holds it"
    if not name_listed:
        return f"{address} is in no network of WEBHOOK_ALLOWED_HOSTS"
    return ""


def webhook_resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``, as the worker would connect to them (socket.getaddrinfo, TCP).
    Raises OSError (socket.gaierror) when it does not resolve."""
    return list(
        dict.fromkeys(
            info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        )
    )


def webhook_target(url: str) -> WebhookTarget:
    """``url`` checked as the module's docstring says, with the addresses to connect to.
    Resolves the host (a DNS query). Raises WebhookTargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        raise WebhookTargetRefused(
            _("Only http and https URLs can receive webhooks."), "not a URL"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        raise WebhookTargetRefused(
            _("Only http and https URLs can receive webhooks."), f"scheme {scheme!r}"
        )
    if "@" in parts.netloc:
        raise WebhookTargetRefused(
            _("A webhook URL may not hold a user name or password."), "userinfo in the URL"
        )
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _host_refused() from None
    port = port or (443 if scheme == "https" else 80)
    own_names, _own_addresses = _own_hosts()
    if host in own_names or host.endswith(".localhost"):
        raise WebhookTargetRefused(
            _("Webhooks may not be sent to the platform's own hosts."), f"{host} is the platform"
        )

    names, networks = webhook_allowed_hosts()
    try:
        literal = _effective(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    if literal is not None:
        # An address in the URL: listed by a network, or public under "*".
        name_listed = "*" in names
        listed = name_listed or any(
            literal in network for network in networks if network.version == literal.version
        )
    else:
        name_listed = _name_listed(host, names)
        # A name no pattern lists may still be one whose every address a listed network holds.
        listed = name_listed or bool(networks)
    if not listed:
        raise _host_refused()

    try:
        addresses = webhook_resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise _address_refused(f"{host} does not resolve: {exc}") from None
    if not addresses:
        raise _address_refused(f"{host} does not resolve")
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise _address_refused(f"{host} resolved to {text!r}") from None
        refusal = webhook_address_refusal(address, name_listed=name_listed, networks=networks)
        if refusal:
            raise _address_refused(f"{host}: {refusal}")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return WebhookTarget(
        scheme=scheme, host=host, port=port, target=target, addresses=tuple(addresses)
    )


# --- sending --------------------------------------------------------------------------------------


def webhook_socket_open(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the IP ``address`` itself (never a name: nothing is resolved here)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _Pinned:
    """http.client connects with ``self._create_connection((host, port), …)``, which resolves the
    name again; this one connects to the checked addresses instead, in order."""

    addresses: tuple[str, ...] = ()

    def _connect_checked(self, _host_port, timeout, source_address=None):
        error: OSError | None = None
        for address in self.addresses:
            try:
                return webhook_socket_open(address, self.port, timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def __init__(self, target: WebhookTarget, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses = target.addresses
        self._create_connection = self._connect_checked


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    # The TLS layer is given the URL's name (server_hostname = self.host), so SNI and the
    # certificate's name check are those of the name, not of the address connected to.
    def __init__(self, target: WebhookTarget, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self.addresses = target.addresses
        self._create_connection = self._connect_checked


def webhook_connection(target: WebhookTarget, timeout: float) -> http.client.HTTPConnection:
    """An unopened connection to ``target`` pinned to its checked addresses."""
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout)
    return _PinnedHTTPConnection(target, timeout)


def webhook_post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float
) -> WebhookAnswer:
    """Check ``url`` (``webhook_target``) and POST ``body`` once to a checked address. Every
    outcome is an answer, never an exception; a refused URL is answered without connecting."""
    try:
        target = webhook_target(url)
    except WebhookTargetRefused as exc:
        return WebhookAnswer(error=ERROR_REFUSED, detail=exc.detail, refused=True)
    except Exception as exc:  # a broken setting: nothing is sent, the next try sees it again
        return WebhookAnswer(error=ERROR_CONNECT, detail=f"{type(exc).__name__}: {exc}"[:2000])
    connection = webhook_connection(target, timeout)
    try:
        try:
            connection.connect()  # TCP and, for https, TLS: every failure here reads the same
        except Exception as exc:
            return WebhookAnswer(error=ERROR_CONNECT, detail=f"{type(exc).__name__}: {exc}"[:2000])
        try:
            connection.request(
                "POST", target.target, body=body, headers={**headers, "Connection": "close"}
            )
            response = connection.getresponse()
            status = response.status
            text = ""
            if not 200 <= status < 300:
                try:
                    raw = response.read(DETAIL_BODY_CHARS * 4)
                    text = raw.decode("utf-8", "replace").strip()[:DETAIL_BODY_CHARS]
                except Exception:  # the body is only a hint; losing it loses nothing
                    text = ""
            return WebhookAnswer(
                status_code=status,
                error="" if 200 <= status < 300 else f"HTTP {status}",
                detail=text,
            )
        except TimeoutError as exc:
            return WebhookAnswer(error=ERROR_TIMEOUT, detail=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # reset, not HTTP …: as good as no connection
            return WebhookAnswer(error=ERROR_CONNECT, detail=f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        connection.close()
