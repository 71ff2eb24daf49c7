"""Mail HTML made safe to show in our pages, and read as text.

nh3 (ammonia) keeps an allow-list of tags and attributes: no scripts, styles, forms, frames
or event handlers, and only http/https/mailto/cid links. Remote images are a tracking pixel
until the user asks for them: their `src` becomes `data-blocked-src`, which loads nothing;
`show_remote_images` puts it back on the page where the user asked.
"""

import re
from html import unescape
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "del", "div", "em",
    "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li", "ol", "p",
    "pre", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "tt", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "table": {"summary"},
    "p": {"align"},
    "div": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "cid"}

# nh3 serialises every attribute as name="value" with quotes escaped, so this matches only
# real src attributes of img tags.
REMOTE_IMAGE = re.compile(r'(<img\b[^>]*?\s)src="((?:https?:)?//[^"]*)"', re.IGNORECASE)
BLOCKED_IMAGE = re.compile(r'(<img\b[^>]*?\s)data-blocked-src="((?:https?:)?//[^"]*)"', re.I)


def sanitise_html(html: str) -> str:
    """Safe to put in a page as it is; remote images blocked."""
    if not html.strip():
        return ""
    cleaned = nh3.clean(
        html.replace("\x00", ""),
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        # A relative URL would be fetched from our own origin with the viewer's cookies
        # (an <img src="/m/o/...">): a message has no business pointing inside the CRM.
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return REMOTE_IMAGE.sub(r'\1data-blocked-src="\2"', cleaned)


def has_blocked_images(html: str) -> bool:
    return bool(BLOCKED_IMAGE.search(html))


def show_remote_images(html: str) -> str:
    """The sanitised HTML with its remote images' src back (the user asked for them)."""
    return BLOCKED_IMAGE.sub(r'\1src="\2"', html)


BLOCK_TAGS = {
    "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote",
    "hr", "pre", "ul", "ol",
}  # fmt: skip
SKIPPED_TAGS = {"script", "style", "head", "title"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.chunks.append("\n")
        elif tag in ("td", "th"):
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an HTML body: blocks on their own lines, no scripts or styles."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
        text = "".join(collector.chunks)
    except Exception:  # HTMLParser is lenient, but never let a page of mail stop a parse
        text = unescape(re.sub(r"<[^>]*>", " ", html))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
