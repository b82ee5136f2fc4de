import pytest

from switchboard.exceptions import ConfigError
from switchboard.server.security import FULL, Grant, Refusal, SecurityPolicy, split_host

TOKEN = "s3cret-token"


def policy(
    bind: str = "127.0.0.1", hosts: tuple[str, ...] = (), origins: tuple[str, ...] = ()
) -> SecurityPolicy:
    return SecurityPolicy(TOKEN, bind, hosts, origins)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:9876", ("127.0.0.1", 9876)),
        ("LOCALHOST", ("localhost", None)),
        ("[::1]:80", ("::1", 80)),
        ("[::1]", ("::1", None)),
        ("example.org:x", ("example.org", -1)),
    ],
)
def test_split_host(value: str, expected: tuple[str, int | None]) -> None:
    assert split_host(value) == expected


@pytest.mark.parametrize("host", ["127.0.0.1:9876", "localhost:9876", "[::1]:9876", "localhost"])
def test_loopback_names_are_accepted(host: str) -> None:
    assert policy().host_ok(host)


@pytest.mark.parametrize("host", ["evil.example:9876", "192.168.1.5:9876", "", None, "localhost:x"])
def test_other_hosts_are_refused_on_a_loopback_bind(host: str | None) -> None:
    assert not policy().host_ok(host)


def test_configured_host_names_are_accepted() -> None:
    assert policy(hosts=("Box.Lan",)).host_ok("box.lan:9876")


def test_wildcard_bind_accepts_ip_literals_but_not_names() -> None:
    wildcard = policy(bind="0.0.0.0")
    assert wildcard.host_ok("10.1.2.3:9876")
    assert not wildcard.host_ok("rebind.attacker.example:9876")


def test_star_disables_the_host_check() -> None:
    assert policy(hosts=("*",)).host_ok("anything.example")


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (None, "127.0.0.1:9876"),  # not a browser
        ("http://127.0.0.1:9876", "127.0.0.1:9876"),
        ("http://localhost:80", "localhost"),
        ("https://localhost", "localhost:443"),
    ],
)
def test_same_origin_is_allowed(origin: str | None, host: str) -> None:
    assert policy().origin_ok(origin, host)


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "http://127.0.0.1:9999", "null", "file://", "http://localhost:9876"],
)
def test_foreign_origins_are_refused(origin: str) -> None:
    assert not policy().origin_ok(origin, "127.0.0.1:9876")


def test_scheme_is_not_compared_so_tls_terminating_proxies_work() -> None:
    assert policy().origin_ok("https://127.0.0.1:9876", "127.0.0.1:9876")


def test_configured_origins_are_allowed() -> None:
    configured = policy(origins=("https://App.Example/",))
    assert configured.origin_ok("https://app.example", "127.0.0.1:9876")
    assert policy(origins=("*",)).origin_ok("http://evil.example", "127.0.0.1:9876")


def test_token_from_query_or_bearer_header() -> None:
    p = policy()
    assert p.token_ok(b"token=s3cret-token", None)
    assert p.token_ok(b"a=1&token=s3cret-token", None)
    assert p.token_ok(b"", "Bearer s3cret-token")
    assert p.token_ok(b"", "bearer  s3cret-token ")
    assert not p.token_ok(b"", None)
    assert not p.token_ok(b"token=wrong", "Bearer nope")
    assert not p.token_ok(b"token=", "Basic s3cret-token")


def test_token_from_a_websocket_subprotocol() -> None:
    p = policy()
    assert p.token_ok(b"", None, "switchboard, bearer.s3cret-token")
    assert p.token_ok(b"", None, "bearer.s3cret-token")
    assert not p.token_ok(b"", None, "switchboard")
    assert not p.token_ok(b"", None, "switchboard, bearer.wrong")
    assert not p.token_ok(b"", None, "s3cret-token")  # only as bearer.TOKEN
    assert not p.token_ok(b"", None, "bearer.")


def scope(path: str, kind: str = "http", **headers: str) -> dict[str, object]:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return {"type": kind, "path": path, "headers": raw, "query_string": b""}


def test_check_order_and_statuses() -> None:
    p = policy()
    bad_host = p.check(scope("/ws/claude", "websocket", host="evil:1", origin="http://evil"))
    assert isinstance(bad_host, Refusal) and bad_host.status == 400
    bad_origin = p.check(scope("/ws/claude", "websocket", host="127.0.0.1:1", origin="http://evil"))
    assert isinstance(bad_origin, Refusal) and bad_origin.status == 403
    no_token = p.check(scope("/ws/claude", "websocket", host="127.0.0.1:1"))
    assert isinstance(no_token, Refusal) and no_token.status == 401
    ok = p.check(
        scope("/ws/claude", "websocket", host="127.0.0.1:1", authorization=f"Bearer {TOKEN}")
    )
    assert ok is FULL


def test_the_subprotocol_token_counts_only_on_websocket_upgrades() -> None:
    offer = {"host": "127.0.0.1:1", "sec-websocket-protocol": f"switchboard, bearer.{TOKEN}"}
    assert policy().check(scope("/ws", "websocket", **offer)) is FULL
    plain = policy().check(scope("/ws-demo.html", "http", **offer))
    assert isinstance(plain, Refusal) and plain.status == 401


def test_origin_is_only_checked_on_websockets() -> None:
    http = scope(
        "/ws-demo.html", host="127.0.0.1:1", origin="http://evil", authorization=f"Bearer {TOKEN}"
    )
    assert policy().check(http) is FULL


def test_healthz_is_exempt() -> None:
    assert policy().check(scope("/healthz", host="evil.example")) is None


def test_an_empty_token_is_refused_at_start() -> None:
    with pytest.raises(ConfigError):
        SecurityPolicy("  ", "127.0.0.1")


@pytest.mark.parametrize("header", ["Bearer ", "Bearer \u00a0", "Bearer\ts3cret-token"])
def test_empty_or_odd_bearer_values_never_match(header: str) -> None:
    assert not policy().token_ok(b"token=", header)


def test_a_scoped_token_opens_only_the_hub_endpoint() -> None:
    producer = Grant("produce", "ci-bot", "t1", ("p1",))
    p = SecurityPolicy(TOKEN, "127.0.0.1", scoped={"sbp_abc": producer}.get)
    bearer = "Bearer sbp_abc"
    assert p.check(scope("/ws", "websocket", host="127.0.0.1:1", authorization=bearer)) is producer
    for path, kind in (("/ws/claude", "websocket"), ("/ws-demo.html", "http")):
        refused = p.check(scope(path, kind, host="127.0.0.1:1", authorization=bearer))
        assert isinstance(refused, Refusal) and refused.status == 403, path
    unknown = p.check(scope("/ws", "websocket", host="127.0.0.1:1", authorization="Bearer sbp_x"))
    assert isinstance(unknown, Refusal) and unknown.status == 401
    assert not p.token_ok(b"token=sbp_abc", None)  # the server token's check stays strict


def test_the_web_ui_needs_no_token_but_a_good_host() -> None:
    p = policy()
    for path in ("/", "/assets/index-abc.js", "/api/token/check"):
        assert p.check(scope(path, host="127.0.0.1:1")) is None, path
        refused = p.check(scope(path, host="evil.example"))
        assert isinstance(refused, Refusal) and refused.status == 400, path
    upgrade = p.check(scope("/", "websocket", host="127.0.0.1:1"))  # only pages are open
    assert isinstance(upgrade, Refusal) and upgrade.status == 401
    other = p.check(scope("/assetsX", host="127.0.0.1:1"))
    assert isinstance(other, Refusal) and other.status == 401
