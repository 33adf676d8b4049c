#!/usr/bin/env python3
"""Generate a realistic CDEvents stream (JSON lines) for benchmarks and demos.

  bench/gen_events.py --events 1000000 --services 20 --days 90 --seed 1 > events.jsonl

Each service lives in its own repository and works trunk-based: changes are created,
reviewed and merged; every merge runs a pipeline (queued, started, build and test task runs,
finished), a build and an artifact.packaged naming its change; the artifact is deployed to
staging, and production takes the newest artifact a few times a day (so one production
deployment ships several changes: commit-range attribution). Some production deployments
cause an incident; some of those are rolled back; incidents get resolved. Events use the
0.5.1 schema, with a share in 0.4.1 form, and carry chainIds for the change's flow.
The stream is in time order; shuffle it (e.g. `shuf`) to test out-of-order delivery.
Deterministic for a given --seed.
"""
import argparse
import hashlib
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "cdevents-spec")


def type_versions(subject, predicate):
    """(0.5.1 type version, 0.4.1 type version) from the vendored conformance examples."""
    out = []
    for release in ("0.5.1", "0.4.1"):
        with open(os.path.join(SPEC, release, "conformance", f"{subject}_{predicate}.json")) as f:
            out.append(json.load(f)["context"]["type"].rsplit(".", 3)[-3:])
    return tuple(".".join(v) for v in out)


TYPE_VERSIONS = {k: type_versions(*k) for k in (
    ("change", "created"), ("change", "reviewed"), ("change", "merged"),
    ("pipelinerun", "queued"), ("pipelinerun", "started"), ("pipelinerun", "finished"),
    ("taskrun", "started"), ("taskrun", "finished"), ("build", "started"), ("build", "finished"),
    ("artifact", "packaged"), ("service", "deployed"), ("service", "upgraded"),
    ("service", "rolledback"), ("incident", "detected"), ("incident", "resolved"),
    ("environment", "created"))}
SUBJECT_TYPE = {"change": "change", "pipelinerun": "pipelineRun", "taskrun": "taskRun",
                "build": "build", "artifact": "artifact", "service": "service",
                "incident": "incident", "environment": "environment"}


class Stream:
    def __init__(self, rng, old_share):
        self.rng, self.old_share, self.events, self.n = rng, old_share, [], 0

    def emit(self, t, subject, predicate, sid, content, source, chain=None):
        self.n += 1
        old = self.rng.random() < self.old_share
        v51, v41 = TYPE_VERSIONS[(subject, predicate)]
        ctx = {"id": f"ev-{self.n}", "source": source,
               "type": f"dev.cdevents.{subject}.{predicate}.{v41 if old else v51}",
               "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        ctx["version" if old else "specversion"] = "0.4.1" if old else "0.5.1"
        if chain:
            ctx["chainId"] = chain
        subj = {"id": sid, "source": source, "content": content}
        if old:
            subj["type"] = SUBJECT_TYPE[subject]
            for k in ("uri",):
                if k in content:
                    content["url"] = content.pop(k)
        self.events.append((t, json.dumps({"context": ctx, "subject": subj}, separators=(",", ":"))))


def digest(*parts):
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def service_flow(s, name, args, rng, out, t0, t_end):
    repo = f"acme/{name}"
    scm = f"https://git.acme.example/{repo}"
    argo = "/argocd/cluster-1"
    latest_artifact = None     # newest artifact built (staging has it)
    prod_artifact = None
    open_incident = None
    t = t0
    next_prod = t0 + timedelta(hours=rng.uniform(2, 8))
    change_no = 0
    while t < t_end:
        t += timedelta(minutes=rng.expovariate(1 / args.change_gap_min))
        change_no += 1
        cid = f"{s * 100000 + change_no}"
        chain = f"chain-{name}-{change_no}"
        created = t - timedelta(hours=rng.uniform(0.5, 30))
        out.emit(created, "change", "created", cid, {"repository": {"id": repo, "source": "https://git.acme.example"}}, scm)
        out.emit(t - timedelta(minutes=rng.uniform(5, 120)), "change", "reviewed", cid,
                 {"repository": {"id": repo, "source": "https://git.acme.example"}}, scm)
        out.emit(t, "change", "merged", cid, {"repository": {"id": repo, "source": "https://git.acme.example"}}, scm, chain)
        ci = f"/ci/{name}"
        pr = f"pr-{name}-{change_no}"
        q = t + timedelta(seconds=rng.uniform(5, 60))
        st = q + timedelta(seconds=rng.uniform(5, 300))
        out.emit(q, "pipelinerun", "queued", pr, {"pipelineName": f"{name}-ci", "uri": f"https://ci.acme.example/{pr}"}, ci, chain)
        out.emit(st, "pipelinerun", "started", pr, {"pipelineName": f"{name}-ci", "uri": f"https://ci.acme.example/{pr}"}, ci, chain)
        b_end = st + timedelta(seconds=rng.uniform(60, 600))
        for task, start, end in (("build", st, b_end), ("test", b_end, b_end + timedelta(seconds=rng.uniform(30, 900)))):
            tr = f"{pr}-{task}"
            out.emit(start, "taskrun", "started", tr, {"taskName": task, "pipelineRun": {"id": pr}}, ci, chain)
            ok = rng.random() > 0.03
            out.emit(end, "taskrun", "finished", tr, {"taskName": task, "pipelineRun": {"id": pr},
                                                      "outcome": "success" if ok else "failure"}, ci, chain)
        fin = b_end + timedelta(seconds=rng.uniform(30, 900))
        failed = rng.random() < args.pipeline_fail
        out.emit(fin, "pipelinerun", "finished", pr, {"pipelineName": f"{name}-ci", "uri": f"https://ci.acme.example/{pr}",
                                                      "outcome": "failure" if failed else "success"}, ci, chain)
        if failed:
            continue
        build = f"b-{name}-{change_no}"
        purl = f"pkg:oci/{name}@sha256%3A{digest(name, change_no)}?repository_url=registry.acme.example/{name}"
        out.emit(st, "build", "started", build, {}, ci, chain)
        out.emit(b_end, "build", "finished", build, {"artifactId": purl}, ci, chain)
        out.emit(b_end + timedelta(seconds=5), "artifact", "packaged", purl,
                 {"change": {"id": cid, "source": f"git.acme.example/{repo}"}}, ci, chain)
        latest_artifact = purl
        out.emit(fin + timedelta(minutes=rng.uniform(1, 10)), "service", "deployed", name,
                 {"environment": {"id": "staging"}, "artifactId": purl}, argo, chain)
        # production: at the scheduled times, ship whatever is newest
        while next_prod < t and latest_artifact:
            kind = "upgraded" if prod_artifact else "deployed"
            out.emit(next_prod, "service", kind, name, {"environment": {"id": "prod"}, "artifactId": latest_artifact}, argo)
            previous, prod_artifact = prod_artifact, latest_artifact
            if open_incident is None and rng.random() < args.incident_rate:
                inc = f"inc-{name}-{change_no}"
                det = next_prod + timedelta(minutes=rng.uniform(2, 90))
                out.emit(det, "incident", "detected", inc, {"description": f"{name} error rate above SLO",
                                                            "environment": {"id": "prod"}, "service": {"id": name}}, "/monitoring")
                resolved = det + timedelta(minutes=rng.uniform(10, 600))
                if previous and rng.random() < 0.5:
                    rb = det + timedelta(minutes=rng.uniform(2, 30))
                    out.emit(rb, "service", "rolledback", name, {"environment": {"id": "prod"}, "artifactId": previous}, argo)
                    prod_artifact = previous
                    resolved = rb + timedelta(minutes=rng.uniform(1, 20))
                out.emit(resolved, "incident", "resolved", inc, {"environment": {"id": "prod"}, "service": {"id": name}}, "/monitoring")
            next_prod += timedelta(hours=rng.uniform(2, 12))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=100000, help="approximate number of events")
    ap.add_argument("--services", type=int, default=20)
    ap.add_argument("--days", type=float, default=90)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", default="2026-01-01T00:00:00Z")
    ap.add_argument("--old-share", type=float, default=0.2, help="share of events in 0.4.1 form")
    ap.add_argument("--pipeline-fail", type=float, default=0.05)
    ap.add_argument("--incident-rate", type=float, default=0.08, help="per production deployment")
    args = ap.parse_args()
    # about 14.5 events per merged change: size the change rate to reach --events
    per_service_changes = max(1.0, args.events / 14.5 / args.services)
    args.change_gap_min = args.days * 24 * 60 / per_service_changes
    rng = random.Random(args.seed)
    out = Stream(rng, args.old_share)
    t0 = datetime.strptime(args.start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    for env, name in (("staging", "Staging"), ("prod", "Production")):
        out.emit(t0 - timedelta(days=1), "environment", "created", env, {"name": name}, "/argocd/cluster-1")
    for s in range(args.services):
        service_flow(s, f"svc{s:02d}", args, rng, out, t0, t0 + timedelta(days=args.days))
    out.events.sort(key=lambda e: e[0])
    w = sys.stdout.write
    for _, line in out.events:
        w(line + "\n")


if __name__ == "__main__":
    main()
