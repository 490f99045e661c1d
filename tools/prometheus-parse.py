#!/usr/bin/env python3
"""Parse a Prometheus text exposition with prometheus_client's own parser (PyPI).

Reads the exposition from the URL given as the only argument (or stdin) and prints one JSON
document: {"families": [{"name", "type", "help", "samples": [{"name", "labels", "value"}]}]}.
Anything the parser refuses exits 1 with its message: the tests use this to check that
vectortd's /metrics is valid Prometheus text, read by a real parser rather than our own.
"""
import json
import math
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    if len(sys.argv) > 1:
        with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
            content_type = response.headers.get("Content-Type", "")
            text = response.read().decode("utf-8")
    else:
        content_type = ""
        text = sys.stdin.read()
    families = []
    try:
        for family in text_string_to_metric_families(text):
            families.append({
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "samples": [
                    {"name": s.name, "labels": dict(s.labels),
                     "value": None if math.isnan(s.value) else (str(s.value) if math.isinf(s.value) else s.value)}
                    for s in family.samples
                ],
            })
    except Exception as error:  # the parser's refusal is the finding
        print(f"prometheus_client refused the exposition: {error}", file=sys.stderr)
        return 1
    json.dump({"content_type": content_type, "families": families}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
