"""Upstream discovery figures (issue #2).

1. Parse and resolve a 10,000-entry listing: target < 100 ms.
2. Second poll of an unchanged listing: one conditional request per listing, 0 body bytes,
   against a CDN-like mirror (ETag and Last-Modified) and a plain static server
   (Last-Modified only).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.synth import synthetic_listing
from bot.http import make_session
from bot.upstream.listing import parse_listing
from bot.upstream.report import newest_installers
from bot.upstream.source import HttpUpstream
from tests.support.mirror import Mirror
from tests.support.upstream_data import current_documents


def bench_parse(entries: int = 10_000, runs: int = 15) -> None:
    documents = synthetic_listing(entries)
    count = sum(len(d) for d in documents.values())
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        listing = parse_listing(documents, "https://repo.anaconda.com")
        newest_installers(listing)
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    verdict = "ok" if median < 100 else "OVER TARGET"
    print(f"parse+resolve {count} entries: median {median:.1f} ms, min {min(times):.1f} ms "
          f"(target < 100 ms: {verdict})")  # fmt: skip


def bench_second_poll(etags: bool) -> None:
    kind = "ETag + Last-Modified" if etags else "Last-Modified only"
    mirror = Mirror(etags=etags)
    mirror.start()
    mirror.publish_listings(current_documents())
    with tempfile.TemporaryDirectory() as cache:
        HttpUpstream(mirror.url, make_session(Path(cache))).listing()
        first = (len(mirror.requests()), mirror.body_bytes())
        mirror.hits.clear()
        HttpUpstream(mirror.url, make_session(Path(cache))).listing()
        statuses = [h.status for h in mirror.requests()]
        ok = statuses == [304, 304] and mirror.body_bytes() == 0
        print(f"mirror with {kind}: first poll {first[0]} requests, {first[1]} body bytes; "
              f"second poll {len(statuses)} requests {statuses}, {mirror.body_bytes()} body bytes "
              f"(target: 2 conditional requests, 0 bytes: {'ok' if ok else 'MISSED'})")  # fmt: skip
    mirror.stop()


if __name__ == "__main__":
    bench_parse()
    bench_second_poll(etags=True)
    bench_second_poll(etags=False)
