#!/usr/bin/env node
// Validates Kubernetes manifests against the Kubernetes OpenAPI schemas (as compiled by
// kubernetes-models; prometheus-operator's CRDs by @kubernetes-models/prometheus-operator).
//   node validate.js MANIFESTS.json     # a JSON array of objects (tests/charts converts helm's YAML)
// Prints one line per object; exits 1 if any object is invalid or of a kind it has no schema for.
// The OpenAPI schemas allow unknown fields (the API server drops or warns about them), so a
// misspelt field would pass them: a strict check walks each object against the field lists of
// the typed models (their .d.ts declarations), as `kubectl --validate=strict` would.
"use strict";
const fs = require("fs");
const path = require("path");

// Field lists of the typed models, from their .d.ts declarations. A type is a map of field name
// to field; a field may be {one: TYPE}, {list: TYPE} (arrays) or {} (scalars, maps: not walked).
// TYPE is a reference {file, name} resolved lazily, or an inline type (the CRDs' nested objects).
const nodeModules = path.dirname(path.dirname(require.resolve("kubernetes-models/package.json")));
const parsedFiles = new Map();

function parseFile(file) {
  if (parsedFiles.has(file)) return parsedFiles.get(file);
  const text = fs.readFileSync(file, "utf8");
  const imports = new Map();
  for (const m of text.matchAll(/^import \{ ([^}]*) \} from "([^"]+)";$/gm)) {
    const target = m[2].startsWith(".") ? path.join(path.dirname(file), `${m[2]}.d.ts`)
                                        : path.join(nodeModules, `${m[2]}.d.ts`);
    for (const n of m[1].split(",")) imports.set(n.trim(), target);
  }
  const aliases = new Map();
  const exported = /^export \{ (.*) \};$/m.exec(text);
  if (exported) {
    for (const pair of exported[1].split(",")) {
      const [local, long] = pair.trim().split(" as ");
      if (long) aliases.set(long, local);
    }
  }
  const interfaces = new Map();
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    const m = /^export interface (\w+) (?:extends [\w, ]+ )?\{$/.exec(line);
    if (m) interfaces.set(m[1], parseBody(lines, i + 1, 4, file).fields);
  });
  const parsed = { file, imports, aliases, interfaces };
  parsedFiles.set(file, parsed);
  return parsed;
}

// Parses the fields at `indent` from line `i` until the closing line; returns {fields, next}.
function parseBody(lines, i, indent, file) {
  const pad = " ".repeat(indent);
  const fields = {};
  let map = false;
  while (i < lines.length && lines[i].startsWith(pad)) {
    const line = lines[i];
    if (line[indent] === " ") { i++; continue; }  // deeper lines of a skipped type
    if (line.slice(indent).startsWith("[key: string]")) map = true;
    const m = /^"([^"]+)"\??: (.*)$/.exec(line.slice(indent));
    if (!m) { i++; continue; }
    const type = m[2];
    if (type === "{" || type === "Array<{") {
      const inner = parseBody(lines, i + 1, indent + 4, file);
      const ref = inner.map ? null : { inline: inner.fields };
      fields[m[1]] = !ref ? {} : type === "{" ? { one: ref } : { list: ref };
      i = inner.next + 1;
      continue;
    }
    const bare = type.replace(/;$/, "");
    const array = /^Array<(I\w+)>$/.exec(bare);
    const named = /^(I\w+)$/.exec(bare);
    fields[m[1]] = array ? { list: { file, name: array[1] } } : named ? { one: { file, name: named[1] } } : {};
    i++;
  }
  return { fields, map, next: i };
}

// The fields of a type reference; null where it is not an interface (strings, quantities, ...).
function fieldsOf(ref) {
  if (ref.inline) return ref.inline;
  let parsed = parseFile(ref.file);
  let name = ref.name;
  if (!parsed.interfaces.has(name) && parsed.imports.has(name)) {
    if (!fs.existsSync(parsed.imports.get(name))) return null;
    parsed = parseFile(parsed.imports.get(name));
  }
  if (!parsed.interfaces.has(name) && parsed.aliases.has(name)) name = parsed.aliases.get(name);
  return parsed.interfaces.get(name) || null;
}

// Unknown fields of obj as the type `ref`, with their paths.
function unknownFields(ref, obj, where, out) {
  const fields = fieldsOf(ref);
  if (!fields || obj === null || typeof obj !== "object" || Array.isArray(obj)) return out;
  for (const [key, value] of Object.entries(obj)) {
    const field = fields[key];
    if (!field) {
      out.push(`${where}/${key}`);
      continue;
    }
    if (field.one) unknownFields(field.one, value, `${where}/${key}`, out);
    if (field.list && Array.isArray(value))
      value.forEach((item, i) => unknownFields(field.list, item, `${where}/${key}/${i}`, out));
  }
  return out;
}

function modelFor(apiVersion, kind) {
  const module = apiVersion === "v1" ? "kubernetes-models/v1"
    : apiVersion.startsWith("monitoring.coreos.com/") ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
  try {
    const Model = require(module)[kind];
    if (Model) Model.declarations = path.join(nodeModules, module, `${kind}.d.ts`);
    return Model || null;
  } catch (e) {
    if (e.code !== "MODULE_NOT_FOUND") throw e;
    return null;
  }
}

const docs = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let failures = 0;
for (const doc of docs) {
  const name = `${doc.kind}/${doc.metadata && doc.metadata.name}`;
  const Model = modelFor(String(doc.apiVersion), String(doc.kind));
  if (!Model) {
    console.log(`FAIL ${name}: no schema for ${doc.apiVersion} ${doc.kind}`);
    failures++;
    continue;
  }
  try {
    new Model(doc).validate();
    const root = { file: Model.declarations, name: `I${doc.kind}` };
    if (!fieldsOf(root)) throw new Error(`no field list for ${doc.apiVersion} ${doc.kind}`);
    const unknown = unknownFields(root, doc, "", []);
    if (unknown.length > 0) throw new Error(`unknown fields: ${unknown.join(", ")}`);
    console.log(`ok   ${name} (${doc.apiVersion})`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    failures++;
  }
}
if (docs.length === 0) {
  console.log("FAIL: no objects to validate");
  failures++;
}
process.exit(failures === 0 ? 0 : 1);
