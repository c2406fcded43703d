"""Polite fetching against a real HTTP server on 127.0.0.1: retries, robots.txt, delay, size."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from market.prices.fetch import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchError,
    RobotsDisallowed,
    ascii_header,
    decode,
)

VIETNAMESE = (
    "<html><head><title>Giá cà phê</title></head><body>Cà phê nhân xô Đắk Lắk</body></html>"
)


class FakeTime:
    """A clock that moves only when slept on (or told to), recording every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def server(httpserver_ipv4: HTTPServer) -> HTTPServer:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("", status=404)
    return httpserver_ipv4


@pytest.fixture
def fetcher(fake_time: FakeTime) -> Iterator[Fetcher]:
    with Fetcher(sleep=fake_time.sleep, clock=fake_time.clock, delay=0) as fetcher:
        yield fetcher


def counting(responses: list[Response]):
    """A handler replying with *responses* in turn (the last one repeats), counting calls."""
    calls: list[Request] = []

    def handler(request: Request) -> Response:
        calls.append(request)
        return responses[min(len(calls), len(responses)) - 1]

    return handler, calls


# ---------------------------------------------------------------------------
# Retries
# ---------------------------------------------------------------------------


def test_retries_a_503_then_succeeds(server: HTTPServer, fetcher: Fetcher, fake_time) -> None:
    handler, calls = counting(
        [Response("busy", status=503), Response("busy", status=503), Response("ok")]
    )
    server.expect_request("/gia").respond_with_handler(handler)
    page = fetcher.get(server.url_for("/gia"))
    assert (page.status, page.text, len(calls)) == (200, "ok", 3)
    assert fake_time.sleeps == [0.5, 1.0]  # backoff * 2**attempt


def test_gives_up_after_the_retries(server: HTTPServer, fake_time: FakeTime) -> None:
    handler, calls = counting([Response("down", status=502)])
    server.expect_request("/gia").respond_with_handler(handler)
    with (
        Fetcher(retries=2, delay=0, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher,
        pytest.raises(FetchError, match=r"gave up after 3 attempts.*HTTP 502") as error,
    ):
        fetcher.get(server.url_for("/gia"))
    assert len(calls) == 3
    assert error.value.url == server.url_for("/gia")
    assert error.value.status == 502


def test_no_retry_on_404(server: HTTPServer, fetcher: Fetcher, fake_time: FakeTime) -> None:
    handler, calls = counting([Response("gone", status=404)])
    server.expect_request("/gia").respond_with_handler(handler)
    with pytest.raises(FetchError, match="HTTP 404") as error:
        fetcher.get(server.url_for("/gia"))
    assert (len(calls), error.value.status, fake_time.sleeps) == (1, 404, [])


def test_429_honours_retry_after_up_to_a_minute(
    server: HTTPServer, fetcher: Fetcher, fake_time: FakeTime
) -> None:
    handler, _ = counting(
        [
            Response("slow down", status=429, headers={"Retry-After": "7"}),
            Response("slow down", status=429, headers={"Retry-After": "3600"}),
            Response("ok"),
        ]
    )
    server.expect_request("/gia").respond_with_handler(handler)
    assert fetcher.get(server.url_for("/gia")).text == "ok"
    assert fake_time.sleeps == [7.0, 60.0]


def test_connection_errors_are_retried(fake_time: FakeTime) -> None:
    unused = HTTPServer(host="127.0.0.1", port=0)
    unused.start()
    url = unused.url_for("/gia")
    unused.stop()  # nothing listens there any more
    with (
        Fetcher(retries=1, delay=0, respect_robots=False, sleep=fake_time.sleep) as fetcher,
        pytest.raises(FetchError, match=r"gave up after 2 attempts.*ConnectionError"),
    ):
        fetcher.get(url)
    assert fake_time.sleeps == [0.5]


def test_timeouts_are_retried_then_reported(server: HTTPServer, fake_time: FakeTime) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("late")

    server.expect_request("/gia").respond_with_handler(slow)
    with (
        Fetcher(timeout=(1, 0.05), retries=1, delay=0, sleep=fake_time.sleep) as fetcher,
        pytest.raises(FetchError, match="Timeout"),
    ):
        fetcher.get(server.url_for("/gia"))


# ---------------------------------------------------------------------------
# robots.txt
# ---------------------------------------------------------------------------


def test_robots_disallow(httpserver_ipv4: HTTPServer, fake_time: FakeTime) -> None:
    handler, robots_calls = counting(
        [Response("User-agent: QuangTriMarketBot\nDisallow: /rieng\n\nUser-agent: *\nAllow: /\n")]
    )
    httpserver_ipv4.expect_request("/robots.txt").respond_with_handler(handler)
    httpserver_ipv4.expect_request("/rieng/gia").respond_with_data("secret")
    httpserver_ipv4.expect_request("/cong-khai").respond_with_data("public")
    with (
        Fetcher(delay=0, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher,
        pytest.raises(RobotsDisallowed, match="disallows this URL") as error,
    ):
        fetcher.get(httpserver_ipv4.url_for("/rieng/gia"))
        assert error.value.url == httpserver_ipv4.url_for("/rieng/gia")
        assert fetcher.get(httpserver_ipv4.url_for("/cong-khai")).text == "public"
    assert len(robots_calls) == 1  # cached per host
    with Fetcher(delay=0, respect_robots=False) as fetcher:
        assert fetcher.get(httpserver_ipv4.url_for("/rieng/gia")).text == "secret"


def test_missing_robots_allows_all(server: HTTPServer, fetcher: Fetcher) -> None:
    server.expect_request("/gia").respond_with_data("ok")
    assert fetcher.get(server.url_for("/gia")).text == "ok"


def test_robots_server_error_means_try_later(
    httpserver_ipv4: HTTPServer, fake_time: FakeTime
) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data("oops", status=500)
    httpserver_ipv4.expect_request("/gia").respond_with_data("ok")
    with (
        Fetcher(retries=0, delay=0, sleep=fake_time.sleep) as fetcher,
        pytest.raises(FetchError, match="unavailable, try later"),
    ):
        fetcher.get(httpserver_ipv4.url_for("/gia"))


def test_robots_crawl_delay_lengthens_the_delay(
    httpserver_ipv4: HTTPServer, fake_time: FakeTime
) -> None:
    httpserver_ipv4.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nCrawl-delay: 5\n"
    )
    httpserver_ipv4.expect_request("/gia").respond_with_data("ok")
    with Fetcher(delay=1, sleep=fake_time.sleep, clock=fake_time.clock) as fetcher:
        fetcher.get(httpserver_ipv4.url_for("/gia"))
    assert fake_time.sleeps == [5.0]  # robots.txt, then the page 5 s later


# ---------------------------------------------------------------------------
# Politeness delay, headers, POST
# ---------------------------------------------------------------------------


def test_delay_between_requests_to_the_same_host(server: HTTPServer, fake_time: FakeTime) -> None:
    server.expect_request("/a").respond_with_data("a")
    server.expect_request("/b").respond_with_data("b")
    other = HTTPServer(host="127.0.0.1", port=0)
    other.expect_request("/c").respond_with_data("c")
    other.start()
    try:
        with Fetcher(
            delay=1.0, respect_robots=False, sleep=fake_time.sleep, clock=fake_time.clock
        ) as fetcher:
            fetcher.get(server.url_for("/a"))
            fake_time.now += 0.25  # time passes while the caller works
            fetcher.get(server.url_for("/b"))
            fetcher.get(other.url_for("/c"))  # another host does not wait
            fetcher.get(server.url_for("/a"))
    finally:
        other.stop()
    assert fake_time.sleeps == [0.75, 1.0]


def test_user_agent_is_sent_in_ascii(server: HTTPServer, fetcher: Fetcher) -> None:
    expected = "QuangTriMarketBot/1.0 (+https://sct.quangtri.gov.vn; So Cong Thuong Quang Tri)"
    assert ascii_header(DEFAULT_USER_AGENT) == expected
    server.expect_request("/gia", headers={"User-Agent": expected}).respond_with_data("ok")
    assert fetcher.get(server.url_for("/gia")).text == "ok"


def test_query_parameters(server: HTTPServer, fetcher: Fetcher) -> None:
    server.expect_request("/gia", query_string={"ngay": "17/04/2026"}).respond_with_data("ok")
    page = fetcher.get(server.url_for("/gia"), params={"ngay": "17/04/2026"})
    assert page.text == "ok"


def test_post_form(server: HTTPServer, fetcher: Fetcher) -> None:
    def handler(request: Request) -> Response:
        assert request.form["ctl00$maincontent$Ngành_hàng"] == "Cà phê"
        assert request.form["__VIEWSTATE"] == "/wEPDw=="
        return Response("posted")

    server.expect_request("/form", method="POST").respond_with_handler(handler)
    page = fetcher.post(
        server.url_for("/form"),
        data={"__VIEWSTATE": "/wEPDw==", "ctl00$maincontent$Ngành_hàng": "Cà phê"},
    )
    assert page.text == "posted"
    assert page.fetched_at.tzinfo is not None


def test_only_http_urls(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="only http"):
        fetcher.get("file:///etc/passwd")


# ---------------------------------------------------------------------------
# Size limit
# ---------------------------------------------------------------------------


def test_declared_size_over_the_limit(server: HTTPServer, fake_time: FakeTime) -> None:
    server.expect_request("/big").respond_with_data("x" * 2000)
    with (
        Fetcher(max_bytes=1000, delay=0, sleep=fake_time.sleep) as fetcher,
        pytest.raises(FetchError, match="larger than 1000"),
    ):
        fetcher.get(server.url_for("/big"))


def test_streamed_size_over_the_limit(server: HTTPServer, fake_time: FakeTime) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"y" * 100

    server.expect_request("/big").respond_with_response(Response(chunks()))
    with (
        Fetcher(max_bytes=1000, delay=0, sleep=fake_time.sleep) as fetcher,
        pytest.raises(FetchError, match="larger than 1000 bytes"),
    ):
        fetcher.get(server.url_for("/big"))
        server.expect_request("/small").respond_with_response(Response(iter([b"ok"])))
        assert fetcher.get(server.url_for("/small")).text == "ok"


# ---------------------------------------------------------------------------
# Charsets
# ---------------------------------------------------------------------------


def test_utf8_page_served_as_latin1_is_decoded_right(server: HTTPServer, fetcher: Fetcher) -> None:
    server.expect_request("/gia").respond_with_data(
        VIETNAMESE.encode("utf-8"), content_type="text/html; charset=iso-8859-1"
    )
    page = fetcher.get(server.url_for("/gia"))
    assert "Cà phê nhân xô Đắk Lắk" in page.text
    assert page.encoding == "utf-8"
    assert page.content == VIETNAMESE.encode("utf-8")


def test_meta_charset_is_used_when_the_header_has_none(
    server: HTTPServer, fetcher: Fetcher
) -> None:
    html = '<html><head><meta charset="windows-1258"></head><body>Giá</body></html>'
    server.expect_request("/gia").respond_with_data(html.encode("cp1258"), content_type="text/html")
    page = fetcher.get(server.url_for("/gia"))
    assert page.encoding == "cp1258"
    assert "Giá" in page.text


@pytest.mark.parametrize(
    ("content", "content_type", "text", "encoding"),
    [
        (VIETNAMESE.encode(), "text/html; charset=ISO-8859-1", "Cà phê", "utf-8"),
        (VIETNAMESE.encode(), "text/html; charset=windows-1252", "Đắk Lắk", "utf-8"),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            + "Cà phê".encode(),
            "text/html",
            "Cà phê",
            "utf-8",
        ),
        ("Café olé".encode("latin-1"), "text/html; charset=iso-8859-1", "Café olé", "iso8859-1"),
        ("\ufeffCà phê".encode(), "text/html; charset=iso-8859-1", "Cà phê", "utf-8-sig"),
        ("Cà phê".encode("utf-16"), None, "Cà phê", "utf-16"),
        ("Cà phê".encode(), "text/html; charset=unknown-charset", "Cà phê", "utf-8"),
        ("Cà phê".encode(), "text/html; charset=utf-8", "Cà phê", "utf-8"),
        (b"plain ascii", "text/html; charset=iso-8859-1", "plain ascii", "iso8859-1"),
    ],
)
def test_decode(content: bytes, content_type: str | None, text: str, encoding: str) -> None:
    decoded, used = decode(content, content_type)
    assert text in decoded
    assert used == encoding


def test_decode_falls_back_to_the_apparent_encoding() -> None:
    content = "Giá cà phê".encode("cp1258")  # invalid UTF-8, nothing declared
    decoded, used = decode(content, "text/html", apparent=lambda: "cp1258")
    assert (decoded, used) == ("Giá cà phê", "cp1258")


def test_binary_content_is_kept_undecoded(server: HTTPServer, fetcher: Fetcher) -> None:
    data = b"PK\x03\x04" + bytes(range(256))
    server.expect_request("/gia.xlsx").respond_with_data(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    page = fetcher.get(server.url_for("/gia.xlsx"))
    assert (page.content, page.text, page.encoding) == (data, "", None)
