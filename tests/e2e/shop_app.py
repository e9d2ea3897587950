"""The end-to-end test's app (tests/test_e2e.py): a pretend web shop instrumented with the
Python stub that mcgen generated from tests/e2e/shop.yaml, and nothing else.

    python shop_app.py STUB_DIR [--decoy]

imports `shop_metrics` from STUB_DIR (so its metrics land in a fresh process's default
registry), serves /metrics on 127.0.0.1 at a free port, prints that port on a line of its
own, then produces traffic with the stub's typed helpers until it is told to stop: SIGTERM,
EOF on stdin, or its parent process going away (so it never outlives the test, even when
the test itself is killed).

The traffic, per second (TICK is 0.1 s), against the spec's thresholds:

    ShopRequestSlow          checkout: 20 requests of 2 s (P95 ~2.4 > 1)          fires
                             search: 10 of 2 s (override: > 5), cart: timed, ~0 s  quiet
    ShopOrderErrorRatioHigh  card: 30% errors (> 10%)                             fires
                             invoice: 1% errors                                   quiet
    ShopServerErrorsHigh     POST: 25 5xx/s (> 2/s)                     pending (for: 10m)
                             GET: 0.5 5xx/s                                       quiet
    ShopQueueBacklog         fulfilment: 500 (> 100)                              fires
                             emails: 3                                            quiet
    ShopWorkersLow           8 workers (< 2 would fire)                           quiet
    ShopSyncStale            catalog: synced an hour ago (> 10m)                  fires
                             prices: synced every tick                            quiet
    ShopRefundsAbsent        no refund is ever counted                            fires
    SLO orders               ~15% of orders fail, 150x the 0.1% budget    page and ticket
    SLO cart-latency         every cart request is timed at microseconds (< 1 s)    quiet
    SLO payouts              no payout is ever counted                no-data alert fires

With --decoy it is another job exposing the same metric names (the test scrapes it as
job="shop-decoy"), every series far past every threshold: all requests take 10 s, every
order fails, both methods serve 5xx at 50/s, both queues hold 10000 jobs, no worker is
alive, both sources last synced a day ago, and refunds and payouts are counted. The spec's
`selector: {job: shop}` must keep all of it out of every rule (the no-data alert of
`payouts` fires though the decoy's payouts exist).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from types import FrameType

HOST = "127.0.0.1"
TICK = 0.1  # seconds between two rounds of traffic
STALE_FOR = 3600.0  # how long ago the catalog was last synced


def _exit_on_stdin_eof() -> None:
    """The parent holds our stdin open; when it goes away, so do we. (os.read, not
    sys.stdin: a daemon thread blocked in a buffered read aborts interpreter shutdown.)"""
    try:
        while os.read(0, 4096):
            pass
    finally:
        print("shop_app: stdin closed, exiting", file=sys.stderr, flush=True)
        os._exit(0)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[2:] not in ([], ["--decoy"]):
        print(f"usage: {argv[0]} STUB_DIR [--decoy]", file=sys.stderr)
        return 2
    decoy = argv[2:] == ["--decoy"]
    parent = os.getppid()
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    threading.Thread(target=_exit_on_stdin_eof, name="stdin-eof", daemon=True).start()

    sys.path.insert(0, argv[1])
    import shop_metrics as m  # the generated stub: registers every metric on import
    from prometheus_client import start_http_server

    server, _ = start_http_server(0, addr=HOST)
    print(server.server_port, flush=True)

    synced = time.time() - STALE_FOR
    tick = 0
    next_tick = time.monotonic()

    def hot() -> None:
        """One tick of the decoy: every series of every metric far past its thresholds."""
        for endpoint in ("checkout", "search", "cart"):
            m.observe_shop_request_duration_seconds(10.0, endpoint=endpoint)
            m.observe_shop_cart_items(100.0)
        for payment in ("card", "invoice"):
            m.inc_shop_orders_total(10, status="error", payment=payment)
        for method in ("GET", "POST"):
            m.inc_shop_http_responses_total(5, method=method, code="500")
        for queue in ("emails", "fulfilment"):
            m.set_shop_queue_depth(10_000, queue=queue)
        m.set_shop_workers(0)
        for source in ("catalog", "prices"):
            m.set_shop_catalog_sync_timestamp_seconds(time.time() - 86_400, source=source)
        for provider in ("stripe", "paypal"):
            m.inc_shop_refunds_total(provider=provider)
        for outcome in ("ok", "failed"):  # this job's payouts must not hide the shop's absence
            m.inc_shop_payouts_total(outcome=outcome)

    while not stop.is_set() and os.getppid() == parent and decoy:
        hot()
        next_tick += TICK
        stop.wait(max(0.0, next_tick - time.monotonic()))
    while not stop.is_set() and os.getppid() == parent:
        # Requests: checkout and search are slow, cart is fast and timed for real.
        for _ in range(2):
            m.observe_shop_request_duration_seconds(2.0, endpoint="checkout")
        m.observe_shop_request_duration_seconds(2.0, endpoint="search")
        for _ in range(3):
            with m.time_shop_request_duration_seconds(endpoint="cart"):
                m.observe_shop_cart_items(3.0)
        # Orders: card fails 30% of the time, invoice 1%.
        m.inc_shop_orders_total(7, status="ok", payment="card")
        m.inc_shop_orders_total(3, status="error", payment="card")
        m.inc_shop_orders_total(10, status="ok", payment="invoice")
        if tick % 10 == 0:
            m.inc_shop_orders_total(status="error", payment="invoice")
        # HTTP responses: POST serves many 5xx, GET a few.
        m.inc_shop_http_responses_total(5, method="GET", code="200")
        m.inc_shop_http_responses_total(method="POST", code="201")
        m.inc_shop_http_responses_total(2.5, method="POST", code="503")
        if tick % 20 == 0:
            m.inc_shop_http_responses_total(method="GET", code="500")
        # Gauges.
        m.set_shop_queue_depth(500, queue="fulfilment")
        m.set_shop_queue_depth(3, queue="emails")
        m.set_shop_workers(8)
        m.set_shop_catalog_sync_timestamp_seconds(synced, source="catalog")
        m.set_shop_catalog_sync_timestamp_seconds(time.time(), source="prices")
        # shop_refunds_total: never touched, so it has no series at all.
        tick += 1
        next_tick += TICK
        stop.wait(max(0.0, next_tick - time.monotonic()))
    reason = "stopped by a signal" if stop.is_set() else "parent process gone"
    print(f"shop_app: {reason}, exiting", file=sys.stderr, flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
