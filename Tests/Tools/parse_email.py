#!/usr/bin/env python3
"""Parse .eml files with Python's standard `email` package and print what a mail client would see.

Usage: parse_email.py FILE... ; prints one JSON object per file (a JSON list), with the decoded
subject, from, to, reply-to, message-id, the text and HTML parts, the content types, the parser's
defects, and the longest line in octets (RFC 5322 allows at most 998 plus CRLF).

`to_names_rfc2047` decodes the To display names with the RFC 2047 decoder of `email.header` as well:
the `policy.default` parser keeps the white space between adjacent encoded-words in a display name
(Python 3.11), which RFC 2047 §6.2 says to ignore, so a long non-ASCII name split over several
encoded-words reads back with extra spaces there and only there.
"""
import json
import sys
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from email.utils import getaddresses


def unfolded(raw: bytes, name: str) -> str:
    """A header's raw value with its folds removed (RFC 5322 §2.2.3), as the legacy API wants it."""
    value = BytesParser().parsebytes(raw, headersonly=True).get(name, "")
    return str(value).replace("\r\n", "").replace("\n", "")


def describe(path: str) -> dict:
    raw = open(path, "rb").read()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    defects = [type(d).__name__ for d in message.defects]
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
    lines = raw.split(b"\r\n")
    return {
        "file": path,
        "subject": str(message["subject"]),
        "from": str(message["from"]),
        "from_name": message["from"].addresses[0].display_name if message["from"] else None,
        "to": str(message["to"]),
        "to_names": [a.display_name for a in message["to"].addresses] if message["to"] else [],
        "to_names_rfc2047": [str(make_header(decode_header(name)))
                             for name, _ in getaddresses([unfolded(raw, "to")])],
        "to_addresses": [a.addr_spec for a in message["to"].addresses] if message["to"] else [],
        "reply_to": str(message["reply-to"]) if message["reply-to"] else None,
        "message_id": str(message["message-id"]),
        "date": str(message["date"]),
        "list_unsubscribe": str(message["list-unsubscribe"]) if message["list-unsubscribe"] else None,
        "list_unsubscribe_post": str(message["list-unsubscribe-post"]) if message["list-unsubscribe-post"] else None,
        "content_type": message.get_content_type(),
        "parts": [part.get_content_type() for part in message.walk()],
        # Mail clients show CRLF and LF alike; compare text as a reader sees it.
        "text": text.get_content().replace("\r\n", "\n") if text else None,
        "html": html.get_content().replace("\r\n", "\n") if html and html.get_content_type() == "text/html" else None,
        "defects": defects,
        "max_line_octets": max(len(line) for line in lines),
        "longest_line": max(lines, key=len).decode("utf-8", "replace"),
        "bare_lf": b"\n" in raw.replace(b"\r\n", b""),
    }


if __name__ == "__main__":
    print(json.dumps([describe(p) for p in sys.argv[1:]]))
