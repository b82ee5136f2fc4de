"""Which push endpoints the server will call, and which keys it takes."""

import pytest

from switchboard.hub.notifications.endpoints import check_endpoint, check_subscription
from switchboard.hub.registry import HubError
from switchboard.protocol.push import PushKeys, PushSubscriptionInfo
from tests.support.push_service import Browser


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/abc",
    ],
)
def test_the_browsers_push_services_are_taken(endpoint: str) -> None:
    check_endpoint(endpoint, allow_http=False)


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://push.example.org/x", "must be https"),
        ("ftp://push.example.org/x", "must be an https URL"),
        ("https:///x", "must be an https URL"),
        ("https://10.0.0.1/x", "not an address"),
        ("https://[::1]/x", "not an address"),
        ("https://localhost/x", "localhost"),
        ("https://a.localhost/x", "localhost"),
        ("https://u:p@push.example.org/x", "user name or password"),
        ("https://push.example.org:99999/x", "not a URL"),
        ("https://push.example.org/x#frag", "fragment"),
    ],
)
def test_other_endpoints_are_refused(endpoint: str, why: str) -> None:
    with pytest.raises(HubError) as refused:
        check_endpoint(endpoint, allow_http=False)
    assert refused.value.code == "endpoint_not_allowed" and why in refused.value.message


def test_allow_http_takes_a_local_push_service_but_still_no_credentials() -> None:
    for endpoint in ("http://127.0.0.1:8080/x", "http://localhost/x", "https://[::1]/x"):
        check_endpoint(endpoint, allow_http=True)
    for endpoint in ("ftp://127.0.0.1/x", "http://u@127.0.0.1/x"):
        with pytest.raises(HubError):
            check_endpoint(endpoint, allow_http=True)


def test_keys_must_be_a_p256_point_and_a_16_byte_secret() -> None:
    good = PushSubscriptionInfo.model_validate(Browser().subscription("https://p.example.org/x"))
    check_subscription(good, allow_http=False)
    off_curve = "BA" + "A" * 85  # 65 bytes, but not on the curve
    short_auth = "A" * 20  # 15 bytes
    for keys, why in (
        (PushKeys(p256dh=off_curve, auth=good.keys.auth), "P-256"),
        (PushKeys(p256dh=good.keys.p256dh, auth=short_auth), "16 bytes"),
    ):
        bad = good.model_copy(update={"keys": keys})
        with pytest.raises(HubError) as refused:
            check_subscription(bad, allow_http=False)
        assert why in refused.value.message
