"""Generated price pages like a provincial Sở Công Thương portal's, and a server for them.

``generate(directory, count)`` writes ``count`` deterministic (seeded) pages of 60–150 KB: the
boilerplate of a government portal (stylesheets and scripts in the head, a mega menu, a sidebar
of news, a footer) around an article whose price table was pasted from Word (inline styles,
``<p class="MsoNormal"><span>`` in every cell), with section rows, rowspans over the markets of
one commodity, prices such as "86.933" and "64.800 - 64.900", and now and then a "-" price.

``python -m benchmarks.pages serve DIRECTORY PORT`` serves the directory from memory on
127.0.0.1 over HTTP/1.1 with keep-alive (as real portals do), one thread per connection, in a
process of its own so it does not share the measuring interpreter. Standard library only.
"""

from __future__ import annotations

import html
import random
import sys
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SEED = 20260417
TODAY = date(2026, 4, 17)
TABLE_SELECTOR = "div.journal-content-article table.MsoTableGrid"
HEADING_SELECTOR = "h1.title-detail"
HEADERS = ("STT", "Mặt hàng", "Thị trường", "Đơn vị tính", "Giá (đồng)", "Tăng/giảm (+/-)")

# (section, [(commodity, unit, typical price in đồng)]) as Quảng Trị's weekly bulletin lists them.
CATALOGUE: list[tuple[str, list[tuple[str, str, int]]]] = [
    (
        "LƯƠNG THỰC",
        [
            ("Gạo tẻ thường", "đ/kg", 14_500),
            ("Gạo tẻ ngon (Khang Dân)", "đ/kg", 18_000),
            ("Gạo nếp cái hoa vàng", "đ/kg", 32_000),
            ("Lúa tươi tại ruộng", "đ/kg", 7_200),
            ("Ngô hạt khô", "đ/kg", 8_500),
            ("Sắn tươi", "đ/kg", 2_900),
            ("Khoai lang", "đ/kg", 15_000),
        ],
    ),
    (
        "THỰC PHẨM TƯƠI SỐNG",
        [
            ("Thịt lợn hơi", "đ/kg", 62_000),
            ("Thịt lợn nạc thăn", "đ/kg", 115_000),
            ("Thịt lợn ba chỉ", "đ/kg", 125_000),
            ("Thịt bò thăn", "đ/kg", 265_000),
            ("Thịt bò bắp", "đ/kg", 240_000),
            ("Gà ta hơi", "đ/kg", 120_000),
            ("Gà công nghiệp làm sẵn", "đ/kg", 58_000),
            ("Vịt hơi", "đ/kg", 55_000),
            ("Trứng gà công nghiệp", "đ/chục", 32_000),
            ("Trứng vịt", "đ/chục", 36_000),
            ("Cá nục", "đ/kg", 60_000),
            ("Cá thu", "đ/kg", 230_000),
            ("Cá trắm", "đ/kg", 75_000),
            ("Tôm thẻ chân trắng", "đ/kg", 185_000),
            ("Mực ống", "đ/kg", 260_000),
        ],
    ),
    (
        "RAU, CỦ, QUẢ",
        [
            ("Cải xanh", "đ/kg", 18_000),
            ("Bắp cải", "đ/kg", 14_000),
            ("Cà chua", "đ/kg", 22_000),
            ("Khoai tây", "đ/kg", 24_000),
            ("Hành lá", "đ/kg", 30_000),
            ("Bí đao", "đ/kg", 12_000),
            ("Chuối già", "đ/kg", 12_500),
            ("Bưởi da xanh", "đ/kg", 45_000),
            ("Cam sành", "đ/kg", 28_000),
            ("Dưa hấu", "đ/kg", 11_000),
        ],
    ),
    (
        "NÔNG SẢN, VẬT TƯ NÔNG NGHIỆP",
        [
            ("Cà phê nhân xô", "đ/kg", 86_933),
            ("Cà phê chè Khe Sanh (quả tươi)", "đ/kg", 14_500),
            ("Hồ tiêu đen", "đ/kg", 149_000),
            ("Lạc nhân", "đ/kg", 30_000),
            ("Cao su mủ nước", "đ/kg", 13_800),
            ("Gỗ keo nguyên liệu", "đ/tấn", 1_250_000),
            ("Phân urê Phú Mỹ", "đ/kg", 12_400),
            ("Phân NPK 16-16-8", "đ/kg", 14_900),
            ("Thức ăn chăn nuôi hỗn hợp", "đ/kg", 13_200),
        ],
    ),
    (
        "HÀNG HÓA KHÁC",
        [
            ("Đường kính trắng", "đ/kg", 22_000),
            ("Dầu ăn Tường An", "đ/lít", 45_000),
            ("Muối i-ốt", "đ/kg", 8_000),
            ("Xăng RON 95-III", "đ/lít", 23_450),
            ("Dầu diesel 0,05S", "đ/lít", 19_870),
            ("Sữa tươi tiệt trùng", "đ/lít", 32_000),
        ],
    ),
]
MARKETS = [
    "Chợ Đông Hà",
    "Chợ Quảng Trị",
    "Chợ Hồ Xá",
    "Chợ Khe Sanh",
    "Chợ Lao Bảo",
    "Chợ Cam Lộ",
    "Chợ Ái Tử",
    "Chợ Diên Sanh",
    "Chợ Cửa Việt",
]
MENU = [
    "Giới thiệu",
    "Tin tức - Sự kiện",
    "Chỉ đạo điều hành",
    "Văn bản pháp luật",
    "Thủ tục hành chính",
    "Xúc tiến thương mại",
    "Giá cả thị trường",
    "Quản lý thị trường",
    "Công nghiệp - Năng lượng",
    "Khuyến công",
    "Hội nhập kinh tế quốc tế",
    "Hỏi đáp",
]
NEWS = [
    "Hội nghị xúc tiến tiêu thụ nông sản tỉnh Quảng Trị năm 2026",
    "Kiểm tra công tác phòng cháy chữa cháy tại các chợ trên địa bàn",
    "Triển khai chương trình đưa hàng Việt về nông thôn",
    "Tình hình cung cầu hàng hóa dịp Tết Nguyên đán",
    "Hướng dẫn thủ tục cấp giấy chứng nhận đủ điều kiện an toàn thực phẩm",
    "Quảng Trị đẩy mạnh xuất khẩu cà phê Khe Sanh",
    "Phát triển thương mại điện tử cho hợp tác xã nông nghiệp",
    "Kế hoạch bình ổn thị trường các mặt hàng thiết yếu",
    "Thông báo điều chỉnh giá xăng dầu",
    "Hội chợ thương mại Khu kinh tế - thương mại đặc biệt Lao Bảo",
]

_CELL = (
    '<td width="{w}" valign="top" style="width:{pt}pt;border:solid windowtext 1.0pt;'
    'border-top:none;padding:0cm 5.4pt 0cm 5.4pt"{span}><p class="MsoNormal" align="{align}" '
    'style="margin-bottom:0cm;text-align:{align}"><span style="font-size:13.0pt;'
    'font-family:&quot;Times New Roman&quot;">{text}</span></p></td>'
)
_PLAIN_CELL = '<td class="{cls}"{span}>{text}</td>'
_WIDTHS = (40, 210, 150, 80, 120, 100)


def _dots(value: int) -> str:
    """86933 → "86.933", the Vietnamese way."""
    return f"{value:,}".replace(",", ".")


def _price(rng: random.Random, base: int) -> tuple[str, int, int]:
    """A printed price and its low/high in đồng: "86.933", "64.800 - 64.900" or a round one."""
    value = base * rng.uniform(0.85, 1.15)
    coffee_like = base % 1000 and base < 100_000  # printed to the đồng
    low = round(value) if coffee_like else round(value / 100) * 100
    if rng.random() < 0.18:
        high = low + rng.choice((100, 200, 500, 1000, 2000))
        return f"{_dots(low)} - {_dots(high)}", low, high
    return _dots(low), low, low


def _change(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return "-"
    if roll < 0.45:
        return ""
    amount = rng.choice((100, 200, 300, 500, 1000, 1200, 1500, 2000, 3000))
    return ("+" if rng.random() < 0.55 else "-") + _dots(amount)


def _table(rng: random.Random, word: bool) -> tuple[str, int]:
    """The price table and how many rows hold a readable price."""
    target = rng.randint(40, 80)
    out: list[str] = []

    def row(cells: list[tuple[str, int, str]], height: float = 15.0) -> None:
        parts = []
        for text, column, span in cells:
            if word:
                parts.append(
                    _CELL.format(
                        w=_WIDTHS[column],
                        pt=_WIDTHS[column] * 3 // 4,
                        span=span,
                        align="center" if column in (0, 3, 4, 5) else "left",
                        text=text,
                    )
                )
            else:
                cls = ("stt", "ten", "cho", "dvt", "gia", "tg")[column]
                parts.append(_PLAIN_CELL.format(cls=cls, span=span, text=text))
        style = f' style="height:{height}pt"' if word else ""
        out.append(f"<tr{style}>" + "".join(parts) + "</tr>")

    header = [(f"<b>{html.escape(h)}</b>", i, "") for i, h in enumerate(HEADERS)]
    row(header, 30.0)
    data_rows = priced = number = 0
    sections = rng.sample(range(len(CATALOGUE)), k=len(CATALOGUE))
    roman = ("I", "II", "III", "IV", "V", "VI")
    for n, index in enumerate(sorted(sections)):
        if data_rows >= target:
            break
        title, items = CATALOGUE[index]
        row([(f"<b>{roman[n]}. {html.escape(title)}</b>", 0, ' colspan="6"')])
        for commodity, unit, base in items:
            if data_rows >= target:
                break
            number += 1
            markets = rng.sample(MARKETS, k=rng.choice((1, 1, 1, 2, 3, 4)))
            span = f' rowspan="{len(markets)}"' if len(markets) > 1 else ""
            for k, market in enumerate(markets):
                if rng.random() < 0.02:
                    printed = "-"  # not surveyed this week: no price, a rejected row
                else:
                    printed, _, _ = _price(rng, base)
                    priced += 1
                cells = [
                    (html.escape(market), 2, ""),
                    (printed, 4, ""),
                    (_change(rng), 5, ""),
                ]
                if k == 0:
                    cells = [
                        (str(number), 0, span),
                        (html.escape(commodity), 1, span),
                        *cells[:1],
                        (html.escape(unit), 3, span),
                        *cells[1:],
                    ]
                row(cells)
                data_rows += 1
    if word:
        table = (
            '<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0" '
            'width="700" style="width:525.0pt;border-collapse:collapse;border:none;'
            'mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184">'
        )
    else:
        table = '<table class="MsoTableGrid table table-bordered" border="1">'
    return table + "<tbody>" + "".join(out) + "</tbody></table>", priced


def _head(rng: random.Random, title: str) -> str:
    links = "".join(
        f'<link rel="stylesheet" href="/o/portal-theme/css/{name}.css?v={rng.randint(1, 99999)}">'
        for name in ("main", "clay", "font-awesome", "swiper", "aui", "portal", "custom")
    )
    scripts = "".join(
        f'<script src="/o/frontend-js-web/{name}.js?browserId=other&amp;languageId=vi_VN"'
        f' type="text/javascript"></script>'
        for name in ("jquery.min", "liferay", "everything", "aui_deprecated", "bootstrap")
    )
    config = ",".join(f'"key{i}":"{rng.getrandbits(64):x}"' for i in range(rng.randint(40, 90)))
    inline = (
        "<script>var Liferay={Browser:{},ThemeDisplay:{getLanguageId:function(){return"
        f' "vi_VN"}}}};var themeConfig={{{config}}};</script>'
    )
    style = "<style>" + "".join(
        f".portlet-{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{rng.getrandbits(24):06x}}}"
        for i in range(rng.randint(60, 160))
    )
    return (
        '<!DOCTYPE html><html class="ltr" dir="ltr" lang="vi-VN"><head>'
        f'<meta charset="utf-8"><title>{html.escape(title)} - Sở Công Thương Quảng Trị</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="description" content="{html.escape(title)}">'
        + links
        + scripts
        + inline
        + style
        + "</style></head>"
    )


def _menu(rng: random.Random) -> str:
    items = []
    for name in MENU:
        sub = "".join(
            f'<li class="nav-item"><a class="nav-link" href="/web/sct/{i}-{rng.randint(1, 999)}"'
            f' title="{html.escape(name)} {i}"><span>{html.escape(name)} mục {i}</span></a></li>'
            for i in range(rng.randint(3, 9))
        )
        items.append(
            f'<li class="dropdown"><a href="/web/sct/{rng.randint(1, 9999)}">'
            f'{html.escape(name)}</a><ul class="dropdown-menu">{sub}</ul></li>'
        )
    return (
        '<header id="banner"><div class="top-bar"><span>Thứ Sáu, ngày 17/04/2026</span>'
        '<a href="/c/portal/login">Đăng nhập</a></div><div class="logo"><a href="/">'
        '<img src="/logo.png" alt="Sở Công Thương tỉnh Quảng Trị"></a><h2 class="site-name">'
        "SỞ CÔNG THƯƠNG TỈNH QUẢNG TRỊ</h2></div>"
        '<table class="layout-search"><tr><td><form action="/tim-kiem"><input name="q"></form>'
        '</td><td><a href="/en">English</a></td></tr></table>'
        '<nav id="navigation"><ul class="nav navbar-nav">' + "".join(items) + "</ul></nav></header>"
    )


def _sidebar(rng: random.Random, count: int) -> str:
    items = "".join(
        f'<div class="news-item"><a href="/tin-tuc/{rng.randint(10_000, 99_999)}">'
        f'<img src="/documents/{rng.randint(1, 9999)}/thumb.jpg" alt="" loading="lazy"></a>'
        f'<h3 class="news-title"><a href="/tin-tuc/{rng.randint(10_000, 99_999)}">'
        f"{html.escape(rng.choice(NEWS))}</a></h3>"
        f'<p class="news-date">{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2026</p>'
        f'<p class="news-sapo">{html.escape(rng.choice(NEWS))}. '
        f"{html.escape(rng.choice(NEWS))}.</p></div>"
        for _ in range(count)
    )
    return f'<aside class="col-md-4"><div class="portlet-title">Tin mới</div>{items}</aside>'


def _footer() -> str:
    return (
        '<footer id="footer"><div class="container"><p><strong>CỔNG THÔNG TIN ĐIỆN TỬ SỞ CÔNG'
        " THƯƠNG TỈNH QUẢNG TRỊ</strong></p><p>Địa chỉ: 204 Hùng Vương, phường Đông Hà, tỉnh"
        " Quảng Trị</p><p>Điện thoại: 0233.3852.631 - Email: sct@quangtri.gov.vn</p><p>Chịu"
        " trách nhiệm chính: Giám đốc Sở Công Thương</p><p>Ghi rõ nguồn khi phát hành lại"
        " thông tin từ website này.</p></div>"
        "<script>(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;})(window,document,"
        "'script','https://www.google-analytics.com/analytics.js','ga');</script></footer>"
    )


def page(number: int) -> tuple[str, int]:
    """Page *number* (0-based) and how many of its rows hold a readable price."""
    rng = random.Random(SEED + number)
    day = TODAY - timedelta(days=number)
    stamp = f"{day.day}/{day.month}/{day.year}"
    title = f"Giá cả thị trường một số mặt hàng thiết yếu trên địa bàn tỉnh ngày {stamp}"
    word = rng.random() < 0.75
    table, priced = _table(rng, word)
    article = (
        '<div class="journal-content-article">'
        f'<h1 class="title-detail">{html.escape(title)}</h1>'
        f'<p class="date-detail">Cập nhật: {day:%d/%m/%Y} 08:{rng.randint(0, 59):02d}</p>'
        '<p class="sapo"><strong>Phòng Quản lý Thương mại tổng hợp giá cả một số mặt hàng'
        " thiết yếu tại các chợ trên địa bàn tỉnh như sau:</strong></p>"
        '<p class="MsoNormal" align="right" style="text-align:right"><i>Đơn vị tính: đồng'
        "</i></p>"
        f"{table}"
        '<p class="MsoNormal"><i>Ghi chú: Giá có tính chất tham khảo; "-" là không thay'
        ' đổi.</i></p><p style="text-align:right"><b>Phòng Quản lý Thương mại</b></p>'
        "</div>"
    )
    before = (
        '<body class="controls-visible guest-site"><div id="wrapper">'
        + _menu(rng)
        + '<div id="content" class="container"><div class="row"><div class="col-md-8">'
        + '<ul class="breadcrumb"><li><a href="/">Trang chủ</a></li><li>Giá cả thị trường'
        + "</li></ul>"
        + article
        + "</div>"
    )
    after = "</div></div>" + _footer() + "</div></body></html>"
    head = _head(rng, title)
    # A sidebar of news long enough to bring the page to its size (60–150 KB).
    size = len((head + before + after).encode())
    items = max(5, (rng.randint(60_000, 150_000) - size) // 520)
    return head + before + _sidebar(rng, items) + after, priced


def generate(directory: Path, count: int) -> tuple[list[str], int]:
    """Write *count* pages into *directory*; return their paths (URL form) and the priced rows."""
    paths: list[str] = []
    priced = 0
    for number in range(count):
        text, rows = page(number)
        name = f"gia-ca-thi-truong-{number:03d}.html"
        (directory / name).write_text(text, encoding="utf-8")
        paths.append("/" + name)
        priced += rows
    return paths, priced


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the portals we collect from
    pages: dict[str, bytes] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path.split("?")[0])
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(directory: Path, port: int) -> None:
    """Serve every file of *directory* from memory on 127.0.0.1:*port* until killed."""
    _Handler.pages = {"/" + p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        raise SystemExit("usage: python -m benchmarks.pages serve DIRECTORY PORT")
    serve(Path(sys.argv[2]), int(sys.argv[3]))
