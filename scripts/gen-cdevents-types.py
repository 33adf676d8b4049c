#!/usr/bin/env python3
"""Generate ingest/cdevents_types.c from the vendored CDEvents JSON schemas.

Why a generator: the CDEvents specification publishes one JSON Schema per event type and
release (39 + 45 + 45 files for 0.3.0, 0.4.1 and 0.5.1). Copying their content fields into
C by hand would drift from the schemas; deriving them here keeps the table and the schemas
provably identical. The build does not run Python: the output is checked in, and this
script is re-run by hand when a release is added (see "When you add a release" below).

Input:  tests/data/cdevents-spec/<release>/schemas/*.json (vendored byte for byte; the
        schemas in links/ are loaded only so that a "$ref" into them could be resolved).
Output: ingest/cdevents_types.c (only the data; the lookup code is hand-written in
        ingest/cdevents_lookup.c and the API in ingest/cdevents_types.h).

What is extracted per schema (see struct cdev_type / struct cdev_field):
  - subject, predicate and type version, from the single value of the "enum" (or "const")
    of properties.context.properties.type, e.g. "dev.cdevents.service.deployed.0.3.0";
  - whether properties.subject.required lists "type" and "content";
  - every property below subject.content, depth first in schema order (so a parent always
    precedes its children), as a JSON pointer without the leading "/", with its JSON type,
    whether its parent requires it, whether the schema rejects "" and its enum values.

Schema keywords and how they are mapped:
  type            a string maps to one CDEV_* kind; an array of types or no type: CDEV_ANY
  anyOf / oneOf   the union of the branches: the kind they all share (else CDEV_ANY),
                  nonempty only if every branch rejects "", the enum only if every
                  branch has one (0.4.1/0.5.1 ticket: "a known value or any string")
  enum / const    string values only (anything else is an error)
  minLength       >= 1 on a string: nonempty
  $ref            resolved: "#/..." within the file, anything else against the "$id"s of
                  the same release's schemas (links/ included); unresolvable, or beside
                  other constraints ("type", "properties", ...), is an error. (No property
                  below subject.content uses $ref in 0.3.0-0.5.1.)
  items           not descended into: the table describes objects, not array elements
  additionalProperties, format, default, example, description, $comment: ignored
                  (cdlens tolerates unknown fields; formats are not checked)
Any other keyword below subject.content stops the script, so a new release that uses,
say, "allOf" or "pattern" fails loudly here instead of producing a weaker table.

Output is deterministic: files are read in sorted order, releases in RELEASES order,
properties in schema order, and enum arrays are named and shared by first appearance.

Usage:  scripts/gen-cdevents-types.py           (re)write ingest/cdevents_types.c
        scripts/gen-cdevents-types.py --check   exit 1 if the checked-in file is stale

When you add a release: vendor it under tests/data/cdevents-spec/<release>/ (see the
README there), append it to RELEASES, run this script, then update the expected counts
in tests/ingest/test_cdevents_types.c and the release list in ingest/cdevents_types.h.
"""

import argparse
import json
import os
import re
import sys
import urllib.parse

RELEASES = ("0.3.0", "0.4.1", "0.5.1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_DIR = os.path.join(ROOT, "tests", "data", "cdevents-spec")
OUT_REL = os.path.join("ingest", "cdevents_types.c")

TYPE_RE = re.compile(r"^dev\.cdevents\.([a-z]+)\.([a-z]+)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\."
                     r"(0|[1-9][0-9]*)$")

KINDS = {
    "string": "CDEV_STRING",
    "object": "CDEV_OBJECT",
    "array": "CDEV_ARRAY",
    "boolean": "CDEV_BOOLEAN",
    "number": "CDEV_NUMBER",
    "integer": "CDEV_INTEGER",
}

# Keywords that do not change what the table records (see the module docstring).
IGNORED_KEYWORDS = {
    "items", "additionalProperties", "format", "default", "example", "examples",
    "description", "$comment", "title",
}
KNOWN_KEYWORDS = {
    "type", "properties", "required", "enum", "const", "minLength", "anyOf", "oneOf", "$ref",
} | IGNORED_KEYWORDS


class SchemaError(Exception):
    pass


class Release:
    """The schemas of one release, indexed by file and by "$id" for "$ref" resolution."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(SPEC_DIR, name, "schemas")
        self.by_id = {}
        self.events = []  # (relative file name, parsed schema), sorted by file name
        for sub in ("", "links"):
            folder = os.path.join(self.dir, sub)
            if not os.path.isdir(folder):
                continue
            for fname in sorted(os.listdir(folder)):
                if not fname.endswith(".json"):
                    continue
                with open(os.path.join(folder, fname), encoding="utf-8") as f:
                    doc = json.load(f)
                if "$id" in doc:
                    self.by_id[doc["$id"]] = doc
                if not sub:
                    self.events.append((fname, doc))

    def resolve(self, schema, doc, where):
        """Follow "$ref" until a schema without one; returns (schema, its document)."""
        seen = 0
        while "$ref" in schema:
            seen += 1
            if seen > 16:
                raise SchemaError(f"{where}: $ref loop")
            ref = schema["$ref"]
            siblings = set(schema) & (KNOWN_KEYWORDS - IGNORED_KEYWORDS - {"$ref"})
            if siblings:
                raise SchemaError(f"{where}: $ref beside {sorted(siblings)} is not supported")
            target_uri, _, fragment = urllib.parse.urljoin(doc.get("$id", ""), ref).partition("#")
            if not ref.startswith("#"):
                if target_uri not in self.by_id:
                    raise SchemaError(f"{where}: cannot resolve $ref {ref!r}")
                doc = self.by_id[target_uri]
            schema = json_pointer(doc, fragment, where)
        return schema, doc


def json_pointer(doc, pointer, where):
    node = doc
    for part in [p for p in pointer.split("/") if p != ""]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"{where}: $ref pointer {pointer!r} not found")
        node = node[part]
    return node


def pointer_escape(name):
    return name.replace("~", "~0").replace("/", "~1")


def kind_of(schema, rel, doc, where):
    """(kind, nonempty, enum values or None) of one property schema."""
    schema, doc = rel.resolve(schema, doc, where)
    unknown = set(schema) - KNOWN_KEYWORDS
    if unknown:
        raise SchemaError(f"{where}: unsupported keyword(s) {sorted(unknown)}")
    branches = schema.get("anyOf", []) + schema.get("oneOf", [])
    if branches:
        if "type" in schema or "enum" in schema or "const" in schema:
            raise SchemaError(f"{where}: anyOf/oneOf mixed with type/enum/const")
        parts = [kind_of(b, rel, doc, f"{where}/anyOf") for b in branches]
        kinds = {p[0] for p in parts}
        kind = kinds.pop() if len(kinds) == 1 else "CDEV_ANY"
        nonempty = all(p[1] for p in parts)
        enum = None
        if all(p[2] is not None for p in parts):
            enum = []
            for p in parts:
                enum += [v for v in p[2] if v not in enum]
        return kind, nonempty, enum
    t = schema.get("type")
    if isinstance(t, str):
        if t not in KINDS:
            raise SchemaError(f"{where}: unsupported type {t!r}")
        kind = KINDS[t]
    else:
        kind = "CDEV_ANY"  # no type, or an array of types: accept any JSON value
    enum = None
    if "const" in schema:
        enum = [schema["const"]]
    elif "enum" in schema:
        enum = list(schema["enum"])
    if enum is not None and not all(isinstance(v, str) for v in enum):
        raise SchemaError(f"{where}: only string enum values are supported")
    nonempty = (schema.get("minLength", 0) >= 1
                or (enum is not None and "" not in enum))
    nonempty = nonempty and kind == "CDEV_STRING"
    return kind, nonempty, enum


def walk_object(schema, rel, doc, prefix, where, out):
    """Append the fields of the object `schema` (already resolved) to `out`, depth first."""
    props = schema.get("properties", {})
    required = schema.get("required", [])
    names = list(props) + [r for r in required if r not in props]
    for name in names:
        path = prefix + pointer_escape(name)
        sub_where = f"{where}/{name}"
        if name in props:
            kind, nonempty, enum = kind_of(props[name], rel, doc, sub_where)
        else:
            kind, nonempty, enum = "CDEV_ANY", False, None  # required but not described
        out.append({"path": path, "kind": kind, "required": name in required,
                    "nonempty": nonempty, "enum": enum})
        if name in props:
            sub, sub_doc = rel.resolve(props[name], doc, sub_where)
            if "properties" in sub:
                walk_object(sub, rel, sub_doc, path + "/", sub_where, out)


def event_type(rel, fname, doc):
    where = f"{rel.name}/schemas/{fname}"
    try:
        ctx_type = doc["properties"]["context"]["properties"]["type"]
        subject, _ = rel.resolve(doc["properties"]["subject"], doc, where + "#subject")
    except KeyError as e:
        raise SchemaError(f"{where}: missing {e}") from None
    values = [ctx_type["const"]] if "const" in ctx_type else ctx_type.get("enum", [])
    if len(values) != 1:
        raise SchemaError(f"{where}: context.type must have exactly one enum/const value")
    m = TYPE_RE.match(values[0])
    if not m:
        raise SchemaError(f"{where}: unexpected event type {values[0]!r}")
    content, content_doc = rel.resolve(subject["properties"]["content"], doc,
                                       where + "#content")
    fields = []
    walk_object(content, rel, content_doc, "", where + "#content", fields)
    return {
        "type": values[0], "file": where, "release": rel.name,
        "subject": m.group(1), "predicate": m.group(2),
        "version": ".".join(m.group(3, 4, 5)),
        "subject_type_required": "type" in subject.get("required", []),
        "content_required": "content" in subject.get("required", []),
        "fields": fields,
    }


def c_string(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= ord(ch) < 0x7f:
            out.append(ch)
        else:
            out.extend("\\%03o" % b for b in ch.encode("utf-8"))
    return '"' + "".join(out) + '"'


def ident(s):
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def render(types):
    enum_names = {}  # tuple of values -> C name
    used = set()
    lines_enum, lines_fields, lines_table = [], [], []
    for t in types:
        for f in t["fields"]:
            if f["enum"] is None or tuple(f["enum"]) in enum_names:
                continue
            base = "enum_" + ident(f["path"])
            name, n = base, 2
            while name in used:
                name, n = f"{base}_{n}", n + 1
            used.add(name)
            enum_names[tuple(f["enum"])] = name
            lines_enum.append(f"static const char *const {name}[] = {{")
            lines_enum += [f"\t{c_string(v)}," for v in f["enum"]]
            lines_enum += ["\tNULL,", "};"]
    for t in types:
        arr = "NULL"
        if t["fields"]:
            arr = "fields_" + ident(t["release"] + "_" + t["subject"] + "_" + t["predicate"])
            lines_fields.append(f"/* {t['type']} ({t['file']}) */")
            lines_fields.append(f"static const struct cdev_field {arr}[] = {{")
            for f in t["fields"]:
                enum = enum_names[tuple(f["enum"])] if f["enum"] is not None else "NULL"
                req = "true" if f["required"] else "false"
                ne = "true" if f["nonempty"] else "false"
                path = c_string(f["path"])
                lines_fields.append(f"\t{{{path}, {f['kind']}, {req}, {ne}, {enum}}},")
            lines_fields += ["};", ""]
        st = "true" if t["subject_type_required"] else "false"
        ct = "true" if t["content_required"] else "false"
        lines_table.append(f"\t{{{c_string(t['subject'])}, {c_string(t['predicate'])}, "
                           f"{c_string(t['version'])}, {c_string(t['release'])},")
        lines_table.append(f"\t {arr}, {len(t['fields'])}, {st}, {ct}}},")
    return lines_enum, lines_fields, lines_table


HEADER = """\
/*
 * ingest/cdevents_types.c: the CDEvents event types of spec releases {releases} and the
 * fields of their subject.content, as data.
 *
 * GENERATED by scripts/gen-cdevents-types.py from tests/data/cdevents-spec/<release>/schemas.
 * Do not edit by hand: change the generator (or vendor a new release) and re-run it;
 * `scripts/gen-cdevents-types.py --check` tells whether this file is stale.
 *
 * Why generated: the schemas are the specification; a hand-copied table would drift.
 * The lookup functions are hand-written in ingest/cdevents_lookup.c and the meaning of
 * every column is documented in ingest/cdevents_types.h.
 *
 * Counts (event types / content fields):
{counts}
 * Invariants: within a type, a parent field precedes its children; enum arrays end in NULL;
 * types with no content properties have fields == NULL and nfields == 0.
 */
#include "ingest/cdevents_types.h"

#include <stdbool.h>
#include <stddef.h>

/* The layout below is the generator's; clang-format is told to leave it alone. */
/* clang-format off */
"""


def generate():
    types = []
    for name in RELEASES:
        rel = Release(name)
        if not rel.events:
            raise SchemaError(f"no schemas found in {rel.dir}")
        types += [event_type(rel, fname, doc) for fname, doc in rel.events]
    seen = set()
    for t in types:
        if (t["type"], t["release"]) in seen:
            raise SchemaError(f"{t['file']}: {t['type']} defined twice in one release")
        seen.add((t["type"], t["release"]))
    counts = "\n".join(
        f" *   {r}: {sum(1 for t in types if t['release'] == r)} / "
        f"{sum(len(t['fields']) for t in types if t['release'] == r)}"
        for r in RELEASES)
    lines_enum, lines_fields, lines_table = render(types)
    out = [HEADER.format(releases=", ".join(RELEASES), counts=counts)]
    out.append("/* Allowed values, shared between fields with the same list. */")
    out += lines_enum + [""]
    out.append("/* {path, kind, required, nonempty, enum_values} */")
    out += lines_fields
    out.append("/* {subject, predicate, version, release,")
    out.append("    fields, nfields, subject_type_required, content_required} */")
    out.append("const struct cdev_type cdev_types[] = {")
    out += lines_table
    out += ["};", "", "const size_t cdev_ntypes = sizeof cdev_types / sizeof cdev_types[0];",
            "/* clang-format on */", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="Generate ingest/cdevents_types.c")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the checked-in file differs")
    args = ap.parse_args()
    try:
        text = generate()
    except (SchemaError, OSError, json.JSONDecodeError) as e:
        print(f"gen-cdevents-types: {e}", file=sys.stderr)
        return 2
    path = os.path.join(ROOT, OUT_REL)
    if args.check:
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print(f"gen-cdevents-types: {OUT_REL} is stale; run scripts/gen-cdevents-types.py",
                  file=sys.stderr)
            return 1
        return 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
