#!/usr/bin/env python3
"""Post a JSON-lines file of CDEvents to cdlens and measure ingest and correlation.

  bench/load_events.py events.jsonl --url http://127.0.0.1:8080 --token SECRET \
      --batch 500 --concurrency 4

Events go as application/cloudevents-batch+json requests of --batch events (structured
CloudEvents whose data is the CDEvent), from --concurrency keep-alive connections. Every
request must answer 202 (the script stops otherwise). Then /readyz is polled until the
correlation queue is empty. Prints events/s for ingest, and the time until the linked model
had caught up (correlation lag after the last 202, and the overall correlated events/s).
"""
import argparse
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse


def batches(path, size):
    batch = []
    with open(path) as f:
        for line in f:
            ev = json.loads(line)
            ctx = ev["context"]
            batch.append({"specversion": "1.0", "id": ctx["id"], "source": ctx["source"],
                          "type": ctx["type"], "datacontenttype": "application/json", "data": ev})
            if len(batch) == size:
                yield json.dumps(batch, separators=(",", ":")).encode(), len(batch)
                batch = []
    if batch:
        yield json.dumps(batch, separators=(",", ":")).encode(), len(batch)


def readyz(host, port):
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", "/readyz")
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    return body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--token", default=None)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    headers = {"Content-Type": "application/cloudevents-batch+json"}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    work = queue.Queue(maxsize=args.concurrency * 4)
    sent = [0]
    errors = []
    lock = threading.Lock()

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
        while True:
            item = work.get()
            if item is None:
                break
            body, n = item
            if errors:
                continue
            c.request("POST", "/api/v1/events", body=body, headers=headers)
            r = c.getresponse()
            text = r.read()
            if r.status != 202:
                errors.append((r.status, text[:300]))
                continue
            with lock:
                sent[0] += n
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    for item in batches(args.file, args.batch):
        if errors:
            break
        work.put(item)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    t1 = time.monotonic()
    if errors:
        print("request failed:", errors[0], file=sys.stderr)
        sys.exit(1)
    while True:
        r = readyz(u.hostname, u.port or 80)
        if r["correlation"]["pending_events"] == 0:
            break
        time.sleep(0.2)
    t2 = time.monotonic()
    n = sent[0]
    print(f"events={n} ingest_s={t1 - t0:.2f} ingest_events_per_s={n / (t1 - t0):.0f} "
          f"correlated_after_last_ack_s={t2 - t1:.2f} end_to_end_events_per_s={n / (t2 - t0):.0f}")


if __name__ == "__main__":
    main()
