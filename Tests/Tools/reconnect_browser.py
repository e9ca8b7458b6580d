#!/usr/bin/env python3
"""Plays the customer in a real browser: headless Chromium, driven by Selenium, follows a reconnect link.

Usage: reconnect_browser.py URL SCREENSHOT_DIR [--prefix NAME] [--timeout S]
                            [--ca-spki-hash HASH] [--ca-cert PEM] [--no-click]

Opens URL (a link from a reconnect email: <public>/r/<token>), takes `<prefix>-landing.png` and notes the landing
page's `<main id="outcome" data-outcome="...">`, title and `<html lang>`. Unless --no-click, and only when the
landing page really is the landing page (data-outcome="landing"), it clicks `#reconnect` (the form POSTs to rekey,
which redirects to the provider, which auto-approves and redirects to rekey's callback), waits up to --timeout
seconds for a page whose `#outcome` has a data-outcome other than `landing`, and takes `<prefix>-result.png`.

Prints one JSON object:
  landing_outcome   data-outcome of the first page (null when it has no #outcome)
  outcome           data-outcome of the last page (the landing page's with --no-click or when there was nothing to
                    click; null when no outcome page was reached)
  final_url_path    the last page's path: never its query, and /r/<token> printed as the literal `/r/<token>`
  title, lang       the landing page's <title> and <html lang>
  result_title, result_lang   the same for the last page
  headings          the last page's <h1> texts; landing_headings: the landing page's
  screenshots       paths of the PNGs taken
  console_errors    the browser console's SEVERE entries (a blocked resource or a page script error shows there)
  error             set when something went wrong (no #reconnect button, timeout, browser error)
Secrets never reach the output: URLs inside messages lose their query and their /r/ token the same way.
Exit status: 0 when an outcome page was reached (after the click; with --no-click, when the landing page has an
#outcome at all), 1 otherwise.

Trusting a test CA (Tests/Tools/nginx_tls.py prints both values):
  --ca-spki-hash HASH  Chromium's --ignore-certificate-errors-spki-list=HASH (base64 SHA-256 of the server
                       certificate's SubjectPublicKeyInfo): certificate errors are ignored for that key only. The
                       switch needs --user-data-dir, so the browser gets a throwaway profile.
  --ca-cert PEM        trusts the CA for real: a throwaway HOME whose NSS database (~/.pki/nssdb, made with
                       certutil from Debian's libnss3-tools) holds the CA, so the chain, names and dates are checked
                       as for a public CA. Falls back to nothing (with a warning) when certutil is missing.

Uses Debian's `chromium` and `chromium-driver` and Selenium from PyPI; it never downloads a browser.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

TOKEN_PATH = re.compile(r"/r/[^/?#\s\"'<>]+")
URL_IN_TEXT = re.compile(r"(?:https?|wss?)://[^\s\"'<>]+")


def safe_path(url):
    """The path of a URL, without query or fragment, with a reconnect token replaced by `<token>`."""
    try:
        path = urllib.parse.urlsplit(url).path or "/"
    except ValueError:
        return "<unparsable URL>"
    return TOKEN_PATH.sub("/r/<token>", path)


def safe_url(url):
    """A URL without its query, fragment or credentials, and without its reconnect token."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        origin = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return "<unparsable URL>"
    return origin + safe_path(url) + ("?<query>" if parts.query else "")


def scrub(text):
    """Any text we print: URLs lose queries and tokens; a bare /r/<token> path too."""
    text = URL_IN_TEXT.sub(lambda m: safe_url(m.group(0)), str(text))
    return TOKEN_PATH.sub("/r/<token>", text)


def trusted_ca_home(ca_cert, workdir):
    """A HOME whose NSS database trusts ca_cert (Chromium on Linux reads $HOME/.pki/nssdb); None without certutil."""
    certutil = shutil.which("certutil")
    if not certutil:
        print("reconnect_browser: --ca-cert needs certutil (Debian package libnss3-tools); the CA is not trusted",
              file=sys.stderr)
        return None
    home = os.path.join(workdir, "home")
    db = os.path.join(home, ".pki", "nssdb")
    os.makedirs(db)
    subprocess.run([certutil, "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run([certutil, "-A", "-d", f"sql:{db}", "-n", "rekey test CA", "-t", "C,,", "-i", ca_cert], check=True,
                   capture_output=True)
    return home


def browser(workdir, spki_hash=None, home=None) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400", "--disable-dev-shm-usage",
                 f"--user-data-dir={os.path.join(workdir, 'profile')}", "--no-first-run", "--disable-sync",
                 "--disable-background-networking"):
        options.add_argument(flag)
    if spki_hash:
        options.add_argument(f"--ignore-certificate-errors-spki-list={spki_hash}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = dict(os.environ, HOME=home) if home else None
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver", env=env)
    return webdriver.Chrome(service=service, options=options)


def page_state(driver):
    """(data-outcome or None, title, lang, [h1 texts]) of the current page, read in one script."""
    state = driver.execute_script("""
        const o = document.getElementById('outcome');
        return [o ? o.getAttribute('data-outcome') : null, document.title,
                document.documentElement.getAttribute('lang'),
                Array.from(document.querySelectorAll('h1')).map(h => h.textContent.trim())];""")
    return state[0], state[1], state[2], state[3]


def console_errors(driver):
    try:
        return [scrub(e.get("message", "")) for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    except WebDriverException:
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description="follow a reconnect link in headless Chromium")
    parser.add_argument("url")
    parser.add_argument("screenshots")
    parser.add_argument("--prefix", default="reconnect")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for the outcome page (default 30)")
    parser.add_argument("--ca-spki-hash", help="ignore certificate errors for this base64 SHA-256 SPKI hash")
    parser.add_argument("--ca-cert", help="trust this CA certificate (PEM) through a throwaway NSS database")
    parser.add_argument("--no-click", action="store_true", help="only open the landing page")
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)

    result = {"landing_outcome": None, "outcome": None, "final_url_path": None, "title": None, "lang": None,
              "result_title": None, "result_lang": None, "headings": [], "landing_headings": [], "screenshots": [],
              "console_errors": []}
    errors = []
    workdir = tempfile.mkdtemp(prefix="reconnect-browser-")
    driver = None
    reached = False
    try:
        home = trusted_ca_home(args.ca_cert, workdir) if args.ca_cert else None
        driver = browser(workdir, args.ca_spki_hash, home)
        driver.set_page_load_timeout(args.timeout)
        driver.get(args.url)
        landing, title, lang, headings = page_state(driver)
        result.update(landing_outcome=landing, outcome=landing, title=title, lang=lang, result_title=title,
                      result_lang=lang, headings=headings, landing_headings=headings,
                      final_url_path=safe_path(driver.current_url))
        shot = os.path.join(args.screenshots, f"{args.prefix}-landing.png")
        driver.save_screenshot(shot)
        result["screenshots"].append(shot)

        if args.no_click or landing != "landing":
            reached = landing is not None
            if landing is None:
                errors.append("the page has no #outcome element")
        else:
            buttons = driver.find_elements(By.ID, "reconnect")
            if not buttons:
                errors.append("the landing page has no #reconnect button")
            else:
                buttons[0].click()
                deadline = time.time() + args.timeout
                outcome = None
                while time.time() < deadline:
                    try:
                        outcome, title, lang, headings = page_state(driver)
                    except WebDriverException:
                        outcome = None          # mid-navigation
                    if outcome and outcome != "landing":
                        break
                    time.sleep(0.1)
                else:
                    errors.append(f"no outcome page within {args.timeout:g} s")
                try:
                    result.update(final_url_path=safe_path(driver.current_url))
                    if not outcome or outcome == "landing":
                        outcome, title, lang, headings = page_state(driver)
                except WebDriverException as e:
                    errors.append(f"cannot read the last page: {e.msg or type(e).__name__}")
                reached = bool(outcome) and outcome != "landing"
                result.update(outcome=outcome if reached else None, result_title=title, result_lang=lang,
                              headings=headings)
                shot = os.path.join(args.screenshots, f"{args.prefix}-result.png")
                driver.save_screenshot(shot)
                result["screenshots"].append(shot)
        result["console_errors"] = console_errors(driver)
    except WebDriverException as e:
        errors.append(f"browser: {(e.msg or type(e).__name__).splitlines()[0]}")
        reached = False
    finally:
        if driver is not None:
            try:
                driver.quit()
            except WebDriverException:
                pass
        shutil.rmtree(workdir, ignore_errors=True)
    if errors:
        result["error"] = "; ".join(errors)
    # Every string printed goes through scrub (titles and headings too, in case a page ever echoes a URL); the
    # screenshot paths are ours.
    print(json.dumps({k: v if k == "screenshots" else scrub_json(v) for k, v in result.items()}), flush=True)
    return 0 if reached else 1


def scrub_json(value):
    """value with every string in it scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub_json(x) for x in value]
    if isinstance(value, dict):
        return {k: scrub_json(x) for k, x in value.items()}
    return value


if __name__ == "__main__":
    sys.exit(main())
