#!/usr/bin/env python3
"""Plays the security team in a real browser: headless Chromium, driven by Selenium, watches rekey's dashboard.

Usage: dashboard_browser.py URL STAGE_ID SCREENSHOT_DIR [--timeout SECONDS] [--ready-file PATH]

Opens URL, notes the stage's "sent" figure, and marks the page's window (a JavaScript property) so that a reload
would show. Takes `dashboard-during.png`, then waits until the figure has changed while the mark survives (the
page updated live, over its event stream, not by reloading) and the stage reads `finished`; takes
`dashboard-after.png`. With --ready-file it creates that file once the page is loaded and marked, so the caller can
start the work to watch only then (a slow browser start must not miss it). Prints one JSON object: the figures seen, whether the page reloaded, the browser console's
errors (a blocked script or style shows there), and the screenshots' paths. Exits 1 when the page never moved.

Uses Debian's `chromium` and `chromium-driver` and Selenium from PyPI; it never downloads a browser.
"""
import argparse
import json
import os
import shutil
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("stage")
    parser.add_argument("screenshots")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--ready-file")
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    driver = browser()
    result = {"screenshots": []}
    try:
        driver.get(args.url)
        sent_id, state_id = f"stage-{args.stage}-sent", f"stage-{args.stage}-state"
        driver.execute_script("window.rekeyMark = 'still the same page';")
        first = driver.find_element(By.ID, sent_id).text
        result["sent_first"] = first
        if args.ready_file:
            open(args.ready_file, "w").close()
        result["title"] = driver.title
        during = os.path.join(args.screenshots, "dashboard-during.png")
        deadline = time.time() + args.timeout
        moved = False
        while time.time() < deadline:
            if driver.find_element(By.ID, sent_id).text != first:
                moved = True
                break
            time.sleep(0.1)
        driver.save_screenshot(during)
        result["screenshots"].append(during)
        result["sent_moved_to"] = driver.find_element(By.ID, sent_id).text
        result["live_label"] = driver.find_element(By.ID, "live").text
        while time.time() < deadline and driver.find_element(By.ID, state_id).text != "finished":
            time.sleep(0.2)
        time.sleep(1.5)  # one more update after the end
        result["state_last"] = driver.find_element(By.ID, state_id).text
        result["sent_last"] = driver.find_element(By.ID, sent_id).text
        result["reloaded"] = driver.execute_script("return window.rekeyMark !== 'still the same page';")
        after = os.path.join(args.screenshots, "dashboard-after.png")
        driver.save_screenshot(after)
        result["screenshots"].append(after)
        result["console_errors"] = [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        result["moved"] = moved
    finally:
        driver.quit()
    print(json.dumps(result))
    return 0 if result.get("moved") else 1


if __name__ == "__main__":
    sys.exit(main())
