"""What the benchmarks share: timing (a median of runs, percentiles) and HTTP against a
gunicorn of their own on loopback (its environment, waiting for it, signing in through the
login form as a browser does)."""

from __future__ import annotations

import http.client
import re
import statistics
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

LOOPBACK = "127.0.0.1"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# --- timing ---------------------------------------------------------------------------------


def timed(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of `repeat` runs, in seconds, and the last run's result."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def percentile(samples: list[float], q: float) -> float:
    """The sample at quantile `q` (0..1), nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- data the benchmarks read -------------------------------------------------------------


def plan_with_every_metric(centre, first_year: int, last_year: int, target_year: int):
    """The benchmarks' plan "bench" of `centre`: one indicator per registered metric, each
    with a target of 100 for `target_year`."""
    from indicators import metrics
    from indicators.models import Direction, Indicator, Plan, Target

    plan = Plan.objects.create(
        name="bench", organisation=centre, first_year=first_year, last_year=last_year
    )
    direction = Direction.objects.create(plan=plan, number=1, name="all")
    for i, key in enumerate(metrics.REGISTRY):
        indicator = Indicator.objects.create(
            direction=direction, code=str(i), name=key, unit="件", metric=key
        )
        Target.objects.create(indicator=indicator, fiscal_year=target_year, value=100)
    return plan


def case_with_contacts(user, at_least: int = 200) -> tuple[Any, int]:
    """The case visible to `user` with the fewest contacts from `at_least` up (a busy case
    page), and its number of contacts."""
    from django.db.models import Count

    from casework.models import Case, Contact
    from casework.selectors import visible_cases

    row = (
        Contact.objects.filter(case__in=visible_cases(user))
        .values("case")
        .annotate(n=Count("id"))
        .filter(n__gte=at_least)
        .order_by("n")
        .first()
    )
    return Case.objects.get(pk=row["case"]), row["n"]


# --- a server on loopback -------------------------------------------------------------------


def server_env(values: Mapping[str, str], base: Mapping[str, str]) -> dict[str, str]:
    """The environment of a benchmark's gunicorn: `base` with the database and keys of
    `values`, plain HTTP on loopback, no second factor (a load client cannot pass a TOTP
    code), warnings only in the log."""
    keys = ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
    return {
        **base,
        **{name: values[name] for name in keys},
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_MANIFEST": "false",
        "ALLOWED_HOSTS": LOOPBACK,
        "TWO_FACTOR_ENFORCED": "false",
        "LOG_LEVEL": "WARNING",
    }


def wait_for_health(port: int, seconds: float = 60) -> None:
    """Until /healthz answers 200, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not become healthy")


def _set_cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    pairs = (
        value.split(";")[0].split("=", 1)
        for name, value in response.getheaders()
        if name.lower() == "set-cookie"
    )
    return {pair[0]: pair[1] for pair in pairs}


def sign_in(port: int, username: str, password: str) -> dict[str, str]:
    """Sign in through the login form; returns the cookies a browser then sends
    (`sessionid` and `csrftoken`)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    page = response.read().decode()
    csrf = _set_cookies(response)["csrftoken"]
    body = urllib.parse.urlencode(
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": CSRF_FIELD.search(page).group(1),
        }
    )
    conn.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Referer": f"http://{LOOPBACK}:{port}/accounts/login/",
        },
    )
    response = conn.getresponse()
    response.read()
    cookies = _set_cookies(response)
    if response.status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"sign-in of {username} failed: HTTP {response.status}")
    return {"sessionid": cookies["sessionid"], "csrftoken": cookies.get("csrftoken", csrf)}
