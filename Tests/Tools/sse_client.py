#!/usr/bin/env python3
"""Reads a Server-Sent Events stream as a browser's EventSource would, and prints what it received.

Usage: sse_client.py URL SECONDS
Prints a JSON list of the events received within SECONDS: {"event": name, "data": parsed JSON or text}.
Lines are parsed per the WHATWG "event stream" rules (field:value, blank line ends an event, ':' is a comment).
"""
import json
import sys
import time
import urllib.request


def main() -> int:
    url, seconds = sys.argv[1], float(sys.argv[2])
    deadline = time.time() + seconds
    events, name, data = [], "message", []
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/event-stream"}), timeout=seconds + 5) as response:
        if not response.headers.get("Content-Type", "").startswith("text/event-stream"):
            print(json.dumps({"error": "not an event stream: " + response.headers.get("Content-Type", "")}))
            return 1
        while time.time() < deadline:
            line = response.readline()
            if not line:
                break
            line = line.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    text = "\n".join(data)
                    try:
                        payload = json.loads(text)
                    except ValueError:
                        payload = text
                    events.append({"event": name, "data": payload})
                name, data = "message", []
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
    print(json.dumps(events))
    return 0


if __name__ == "__main__":
    sys.exit(main())
