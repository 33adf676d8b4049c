#!/usr/bin/env python3
"""Generate tests/data/scenarios/*.jsonl: CDEvents scenarios for the correlator tests.

Each event is built from the conformance example of its type in tests/data/cdevents-spec
(so it is valid for that spec release), with our ids, times and content. Run from the
repository root:  python3 tests/data/scenarios/gen.py
The output is committed; the tests read the .jsonl files, not this script.
"""
import copy
import json
import os

SPEC = "tests/data/cdevents-spec"
OUT = "tests/data/scenarios"
_templates = {}


def template(version, subject, predicate):
    key = (version, subject, predicate)
    if key not in _templates:
        with open(f"{SPEC}/{version}/conformance/{subject}_{predicate}.json") as f:
            _templates[key] = json.load(f)
    return copy.deepcopy(_templates[key])


def event(version, subject, predicate, eid, ts, subject_id, content, source="/ci/acme",
          chain=None, links=None, subject_source=None):
    ev = template(version, subject, predicate)
    ctx = ev["context"]
    ctx["id"] = eid
    ctx["source"] = source
    ctx["timestamp"] = ts
    for k in ("chainId", "links", "schemaUri"):
        ctx.pop(k, None)
    if chain:
        ctx["chainId"] = chain
    if links:
        ctx["links"] = links
    ev["subject"]["id"] = subject_id
    ev["subject"]["source"] = subject_source or source
    ev["subject"]["content"] = content
    return ev


def repo(rid, src):
    r = {"id": rid}
    if src:
        r["source"] = src
    return r


def checkout():
    """One service's trunk-based flow across 0.3, 0.4 and 0.5 events (see test_correlate_http.c).

    shop in prod: d-prod-1 ships 101 (artifact A1, built from 101 by reference); d-prod-2
    ships 103 (A3 is in chain B with change 103, and names "acme/shop" 103) and, by commit
    range, 102; inc-1 is attributed to d-prod-2 (service rule); d-prod-3 rolls back to A1.
    """
    A1 = "pkg:oci/shop@sha256:aaa1?arch=amd64&repository_url=ghcr.io%2Facme%2Fshop"
    A1b = "pkg:oci/shop@sha256%3Aaaa1?repository_url=ghcr.io/acme/shop&arch=amd64"
    A1c = "pkg:OCI/shop@sha256%3Aaaa1?arch=amd64&repository_url=ghcr.io/acme/shop"
    A3 = "pkg:oci/shop@sha256%3Accc3?repository_url=ghcr.io/acme/shop"
    day = "2026-03-02T"
    evs = [
        # changes: three spellings of one repository
        event("0.3.0", "change", "created", "c101-created", day + "09:00:00Z", "101",
              {"repository": repo("acme/shop", "https://github.com")}, source="https://github.com/acme/shop"),
        event("0.4.1", "change", "merged", "c101-merged", day + "10:00:00Z", "101",
              {"repository": repo("acme/shop", "https://github.com/")}, source="https://github.com/acme/shop"),
        event("0.5.1", "change", "created", "c102-created", day + "09:30:00Z", "102",
              {"repository": repo("https://github.com/acme/shop.git", None)}),
        event("0.5.1", "change", "reviewed", "c102-reviewed", day + "10:15:00Z", "102",
              {"repository": repo("git@github.com:acme/shop.git", None)}),
        event("0.5.1", "change", "merged", "c102-merged", day + "10:30:00Z", "102",
              {"repository": repo("acme/shop", "https://GitHub.com")}),
        event("0.5.1", "change", "created", "c103-created", day + "10:40:00Z", "103",
              {"repository": repo("acme/shop", "https://github.com")}),
        event("0.5.1", "change", "merged", "c103-merged", day + "11:00:00Z", "103",
              {"repository": repo("acme/shop", "https://github.com")}, chain="chain-B"),
        # pipeline run for change 101 with two task runs, chain A
        event("0.4.1", "pipelinerun", "queued", "pr1-queued", day + "10:01:00Z", "pr-1",
              {"pipelineName": "shop-ci", "url": "https://ci.acme/pr-1"}, chain="chain-A"),
        event("0.4.1", "pipelinerun", "started", "pr1-started", day + "10:02:00Z", "pr-1",
              {"pipelineName": "shop-ci", "url": "https://ci.acme/pr-1"}, chain="chain-A"),
        event("0.5.1", "taskrun", "started", "tr1-started", day + "10:03:00Z", "tr-1",
              {"taskName": "build", "pipelineRun": {"id": "pr-1"}}, chain="chain-A"),
        event("0.5.1", "taskrun", "finished", "tr1-finished", day + "10:10:00Z", "tr-1",
              {"taskName": "build", "pipelineRun": {"id": "pr-1"}, "outcome": "success"}, chain="chain-A"),
        event("0.3.0", "taskrun", "started", "tr2-started", day + "10:11:00Z", "tr-2",
              {"taskName": "test", "pipelineRun": {"id": "pr-1"}}),
        event("0.3.0", "taskrun", "finished", "tr2-finished", day + "10:19:00Z", "tr-2",
              {"taskName": "test", "pipelineRun": {"id": "pr-1"}, "outcome": "success"}),
        event("0.5.1", "pipelinerun", "finished", "pr1-finished", day + "10:20:00Z", "pr-1",
              {"pipelineName": "shop-ci", "uri": "https://ci.acme/pr-1", "outcome": "success"}, chain="chain-A"),
        event("0.4.1", "build", "started", "b1-started", day + "10:03:00Z", "b-1", {}, chain="chain-A"),
        event("0.4.1", "build", "finished", "b1-finished", day + "10:10:00Z", "b-1",
              {"artifactId": A1b}, chain="chain-A"),
        event("0.3.0", "artifact", "packaged", "a1-packaged", day + "10:11:00Z", A1,
              {"change": {"id": "101", "source": "github.com/acme/shop"}}),
        event("0.4.1", "artifact", "published", "a1-published", day + "10:12:00Z", A1c, {}),
        # tests of A1 in staging: a suite run and two case runs (0.3 "fail" vs 0.5 outcomes)
        event("0.5.1", "testsuiterun", "started", "ts1-started", day + "10:26:00Z", "ts-1",
              {"environment": {"id": "staging"}, "testSuite": {"id": "smoke", "name": "Smoke"}},
              source="/testkube", chain="chain-A"),
        event("0.3.0", "testcaserun", "finished", "tc1-finished", day + "10:27:00Z", "tc-1",
              {"outcome": "fail", "reason": "timeout", "environment": {"id": "staging"},
               "testSuiteRun": {"id": "ts-1"}, "testCase": {"id": "login", "name": "Login"}},
              source="/testkube"),
        event("0.5.1", "testcaserun", "finished", "tc2-finished", day + "10:28:00Z", "tc-2",
              {"outcome": "success", "environment": {"id": "staging"},
               "testSuiteRun": {"id": "ts-1", "source": "/testkube"},
               "testCase": {"id": "cart", "name": "Cart"}}, source="/testkube"),
        event("0.4.1", "testsuiterun", "finished", "ts1-finished", day + "10:29:00Z", "ts-1",
              {"outcome": "fail", "environment": {"id": "staging"},
               "testSuite": {"id": "smoke", "name": "Smoke"}}, source="/testkube"),
        # environments
        event("0.5.1", "environment", "created", "env-prod", day + "08:00:00Z", "prod",
              {"name": "Production", "uri": "https://k8s.acme/prod"}, source="/k8s"),
        # renamed later: the latest name wins whatever the arrival order
        event("0.4.1", "environment", "modified", "env-prod-renamed", day + "12:00:00Z", "prod",
              {"name": "Production EU"}, source="/k8s"),
        event("0.3.0", "environment", "created", "env-staging", day + "08:00:00Z", "staging",
              {"name": "Staging"}, source="/k8s"),
        # deployments of A1
        event("0.4.1", "service", "deployed", "d-staging-1", day + "10:25:00Z", "shop",
              {"environment": {"id": "staging"}, "artifactId": A1c}, source="/argocd"),
        event("0.5.1", "service", "deployed", "d-prod-1", day + "10:40:00Z", "shop",
              {"environment": {"id": "prod"}, "artifactId": A1b}, source="/argocd"),
        # change 103's build, chain B: the artifact does not name its change
        event("0.5.1", "build", "finished", "b2-finished", day + "11:05:00Z", "b-2",
              {"artifactId": A3}, chain="chain-B"),
        event("0.5.1", "artifact", "packaged", "a3-packaged", day + "11:06:00Z", A3,
              {"change": {"id": "103", "source": "acme/shop"}}, chain="chain-B"),
        event("0.5.1", "service", "upgraded", "d-prod-2", day + "11:30:00Z", "shop",
              {"environment": {"id": "prod"}, "artifactId": A3}, source="/argocd",
              links=[{"linkType": "PATH", "from": {"contextId": "a3-packaged"}}]),
        # another service in prod, unknown artifact
        event("0.4.1", "service", "deployed", "d-cart-1", day + "11:00:00Z", "cart",
              {"environment": {"id": "prod"}, "artifactId": "pkg:oci/cart@sha256%3Aeee"}, source="/argocd"),
        # an incident on shop in prod, then a rollback and the resolution
        event("0.4.1", "incident", "detected", "inc1-detected", day + "11:45:00Z", "inc-1",
              {"description": "checkout <b>errors</b>", "environment": {"id": "prod"},
               "service": {"id": "shop"}}, source="/monitoring"),
        event("0.5.1", "service", "rolledback", "d-prod-3", day + "11:50:00Z", "shop",
              {"environment": {"id": "prod"}, "artifactId": A1}, source="/argocd"),
        event("0.5.1", "incident", "resolved", "inc1-resolved", day + "12:10:00Z", "inc-1",
              {"description": "fixed", "environment": {"id": "prod"}, "service": {"id": "shop"},
               "artifactId": A1}, source="/monitoring"),
    ]
    return evs


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(f"{OUT}/checkout.jsonl", "w") as f:
        for ev in checkout():
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
