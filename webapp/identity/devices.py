"""Device cookies, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies".

A successful log-in gives the browser a signed cookie naming the account and a random nonce. Its
failed log-ins to that account then count against that nonce alone (identity/throttle.py), so an
attacker who guesses from elsewhere, however many addresses they use, locks out only browsers that
never logged in to the account, never the owner's. The cookie proves nothing by itself: the
password is still required; it only selects which count a failure goes to.

Why a cookie rather than remembering (account, address) pairs: addresses change (mobile networks,
DHCP, IPv6 privacy addresses), and one address is shared by everyone behind the same NAT, attacker
and owner alike; a cookie follows the browser and cannot be had without logging in. One cookie holds
the last few accounts logged in on that browser, newest first, signed with the site's secret key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta

from itsdangerous import BadData, URLSafeTimedSerializer

DEVICE_COOKIE_AGE = timedelta(days=180)  # from the last successful log-in on that browser
ACCOUNTS_PER_BROWSER = 5
_SALT = "rehearse.device-cookie"


def read_device_cookie(value: str | None, *, secret: str) -> dict[int, str]:
    """The device ids a cookie holds, by user id; empty when it is missing, forged, damaged or too old."""
    if not value:
        return {}
    try:
        entries = URLSafeTimedSerializer(secret, salt=_SALT).loads(
            value, max_age=int(DEVICE_COOKIE_AGE.total_seconds())
        )
    except BadData:
        return {}
    devices: dict[int, str] = {}
    if isinstance(entries, list):
        for entry in entries[:ACCOUNTS_PER_BROWSER]:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and isinstance(entry[1], str):
                devices.setdefault(entry[0], f"{entry[0]}.{entry[1]}")
    return devices


def device_cookie_after_login(devices: Mapping[int, str], *, user_id: int, secret: str) -> str:
    """The cookie to set after ``user_id`` logged in: a fresh nonce for them, first, then the others it held."""
    entries: list[list[int | str]] = [[user_id, secrets.token_urlsafe(16)]]
    for other, device in devices.items():
        if other != user_id and len(entries) < ACCOUNTS_PER_BROWSER:
            entries.append([other, device.split(".", 1)[1]])
    return URLSafeTimedSerializer(secret, salt=_SALT).dumps(entries)
