#!/usr/bin/env python3
"""Plays a customer's browser without a browser (urllib with a cookie jar), or a mail scanner, on a reconnect link.

Usage: reconnect_client.py LINK [--cafile PEM] [--scanner] [--tamper-state] [--replay] [--pair]

Customer (default): GET the landing page (keeping its cookie), POST its form with the CSRF field, follow the 303 to
the provider (which auto-approves), take the provider's redirect back to rekey's callback and GET it with the
cookies. --tamper-state changes the OAuth 2.0 `state` on the way back; --replay GETs the same callback again after
the first.

--pair: two browsers each start an authorization from the link and are approved; then both callbacks arrive at
once (two threads). Prints their outcomes.

--scanner: what Safe Links-style scanners do before the customer clicks: HEAD, GET, then a POST of the form with the
CSRF field but without any cookie. Changes nothing but the link's open count.

Prints one JSON object with each step's status and each page's data-outcome. Never prints the link's token or a
callback query.
"""
import argparse
import html
import http.cookiejar
import json
import re
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def opener(cafile, jar):
    context = ssl.create_default_context(cafile=cafile) if cafile else None
    handlers = [NoRedirect(), urllib.request.HTTPSHandler(context=context)]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def fetch(open_, url, method="GET", data=None):
    request = urllib.request.Request(url, method=method, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        response = open_.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    body = response.read().decode("utf-8", "replace")
    return response.status, response.headers, body


def outcome(body):
    match = re.search(r'data-outcome="([^"]+)"', body)
    return match.group(1) if match else None


def approve(args):
    """One browser: landing, form, provider; returns its opener and the callback URL it was sent back to."""
    jar = http.cookiejar.CookieJar()
    browser = opener(args.cafile, jar)
    body = fetch(browser, args.link)[2]
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    location = fetch(browser, args.link, "POST", urllib.parse.urlencode({"csrf": csrf}).encode())[1]["Location"]
    return browser, fetch(opener(None, None), location)[1]["Location"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("link")
    parser.add_argument("--cafile")
    parser.add_argument("--scanner", action="store_true")
    parser.add_argument("--tamper-state", action="store_true")
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--pair", action="store_true")
    args = parser.parse_args()
    result = {}
    if args.pair:
        callbacks = [approve(args) for _ in range(2)]
        outcomes = [None, None]

        def finish(index):
            browser, url = callbacks[index]
            outcomes[index] = outcome(fetch(browser, url)[2])

        threads = [threading.Thread(target=finish, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(json.dumps({"outcomes": sorted(o or "none" for o in outcomes)}))
        return 0
    if args.scanner:
        bare = opener(args.cafile, None)
        result["head"] = fetch(bare, args.link, "HEAD")[0]
        status, _, body = fetch(bare, args.link)
        result["get"], result["get_outcome"] = status, outcome(body)
        csrf = re.search(r'name="csrf" value="([^"]+)"', body)
        status, headers, body = fetch(bare, args.link, "POST", urllib.parse.urlencode({"csrf": csrf.group(1) if csrf else ""}).encode())
        result["post"], result["post_outcome"], result["post_location"] = status, outcome(body), headers.get("Location") is not None
        print(json.dumps(result))
        return 0
    jar = http.cookiejar.CookieJar()
    browser = opener(args.cafile, jar)
    status, _, body = fetch(browser, args.link)
    result["landing"], result["landing_outcome"] = status, outcome(body)
    approve_at = re.search(r"approve access at (.*?)\.</p>", body, re.S)
    result["approve_at"] = html.unescape(approve_at.group(1).strip()) if approve_at else None
    csrf = re.search(r'name="csrf" value="([^"]+)"', body)
    if not csrf:
        print(json.dumps(result))
        return 0
    status, headers, body = fetch(browser, args.link, "POST", urllib.parse.urlencode({"csrf": csrf.group(1)}).encode())
    result["start"], result["start_outcome"] = status, outcome(body)
    location = headers.get("Location")
    if status != 303 or not location:
        print(json.dumps(result))
        return 0
    result["provider"] = urllib.parse.urlsplit(location).netloc
    status, headers, _ = fetch(opener(None, None), location)  # the provider auto-approves
    callback = headers.get("Location")
    result["provider_status"] = status
    if not callback:
        print(json.dumps(result))
        return 0
    result["callback_path"] = urllib.parse.urlsplit(callback).path
    if args.tamper_state:
        callback = re.sub(r"([?&]state=)[^&]*", r"\1forged-state-value", callback)
    status, _, body = fetch(browser, callback)
    result["callback"], result["outcome"] = status, outcome(body)
    result["page_text"] = re.sub(r"<[^>]+>", " ", re.search(r"<main.*?</main>", body, re.S).group(0)) if "<main" in body else ""
    if args.replay:
        status, _, body = fetch(browser, callback)
        result["replay"], result["replay_outcome"] = status, outcome(body)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
