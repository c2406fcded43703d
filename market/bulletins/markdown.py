"""The commentary officials write: Markdown rendered to HTML, then sanitised to a safe subset.

Two locks, so that one mistake is not enough: markdown-it-py runs without raw HTML (``<script>``
typed into the commentary comes out as text) and refuses ``javascript:`` links; nh3 (ammonia)
then keeps only the tags and attributes below. Allowed: paragraphs, line breaks, emphasis,
headings h2–h4 (a ``#`` heading becomes h2, under the bulletin's own h1), lists, quotes, code,
rules, tables, and links to http, https and mailto addresses. No images (``![x](url)`` stays
a plain link, so no reader's phone fetches anything from elsewhere), no ``style`` or
``class``, no event handlers, no other URL schemes.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "a",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True, "typographer": False})
    parser.enable(["table", "strikethrough"])
    # An image from elsewhere would be fetched by every reader's phone: write it as a link.
    parser.disable("image")

    def heading(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        token = tokens[idx]
        token.tag = f"h{min(int(token.tag[1]) + 1, 4)}"
        return renderer.renderToken(tokens, idx, options, env)

    parser.add_render_rule("heading_open", heading)
    parser.add_render_rule("heading_close", heading)
    return parser


def sanitise(html: str) -> str:
    """Keep only the safe subset of ``html``."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for ``text`` (Markdown), ready to put in a page, an e-mail, a feed or a PDF."""
    if not text or not text.strip():
        return Markup("")
    return Markup(sanitise(_parser().render(text)))
