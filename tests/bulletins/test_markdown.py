"""The commentary's Markdown comes out as a safe subset of HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from market.bulletins.markdown import render_markdown, sanitise


class _Elements(HTMLParser):
    """The real elements and attributes of a piece of HTML (escaped text is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.found.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def _assert_safe(html: str) -> None:
    for tag, attrs in _elements(html):
        assert tag not in ("script", "img", "iframe", "svg", "span", "style"), html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name not in ("style", "class", "src"), html
            if name == "href":
                assert (value or "").split(":")[0].lower() in ("http", "https", "mailto"), html


def test_markdown_renders_the_allowed_subset() -> None:
    html = str(
        render_markdown(
            "# Nhận định\n\nGiá **cà phê** tăng *nhẹ*.\n\n- Hồ tiêu\n- Lợn hơi\n\n"
            "[Bộ Công Thương](https://moit.gov.vn)"
        )
    )
    assert "<h2>Nhận định</h2>" in html  # under the bulletin's own h1
    assert "<strong>cà phê</strong>" in html and "<em>nhẹ</em>" in html
    assert "<li>Hồ tiêu</li>" in html
    assert '<a href="https://moit.gov.vn" rel="nofollow noopener noreferrer">' in html


@pytest.mark.parametrize(
    "text",
    [
        "Giá tăng <script>alert('x')</script>",
        "<script src=https://evil.example/x.js></script>",
        "<img src=x onerror=alert(1)>",
        '<a href="#" onclick="steal()">bấm</a>',
        '<p onmouseover="alert(1)">chữ</p>',
        "[bấm vào đây](javascript:alert(1))",
        "[bấm](JaVaScRiPt:alert(document.cookie))",
        "[bấm](<javascript:alert(1)>)",
        "[dữ liệu](data:text/html;base64,PHNjcmlwdD4=)",
        "![ảnh](https://evil.example/track.png)",
        '<span style="position:fixed">che trang</span>',
    ],
)
def test_markdown_never_lets_script_through(text: str) -> None:
    html = str(render_markdown(text))
    _assert_safe(html)
    assert "<script" not in html.lower()


@pytest.mark.parametrize(
    "html, kept, removed",
    [
        ("<p>ok<script>alert(1)</script></p>", "<p>ok</p>", "script"),
        ('<img src="x" onerror="alert(1)">', "", "onerror"),
        ('<a href="https://a.vn" onclick="x()">a</a>', 'href="https://a.vn"', "onclick"),
        ('<a href="javascript:alert(1)">a</a>', ">a</a>", "javascript"),
        ('<p style="color:red" class="x">a</p>', "<p>a</p>", "style"),
        ('<iframe src="https://evil.example"></iframe><p>b</p>', "<p>b</p>", "iframe"),
        ('<svg onload="alert(1)"><circle/></svg>', "", "onload"),
    ],
)
def test_sanitiser_strips_raw_html(html: str, kept: str, removed: str) -> None:
    clean = sanitise(html)
    assert kept in clean
    assert removed not in clean.lower()
    _assert_safe(clean)


def test_empty_commentary_renders_nothing() -> None:
    assert str(render_markdown("")) == "" and str(render_markdown("  \n")) == ""
