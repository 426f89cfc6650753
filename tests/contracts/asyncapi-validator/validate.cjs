#!/usr/bin/env node
// Validates AsyncAPI documents with the official AsyncAPI parser (its schema and rule set).
//
//   node validate.cjs [--modules DIR] DOCUMENT...
//
// DIR holds the node_modules installed by `npm ci` from this folder's package-lock.json
// (default: this folder). Prints every diagnostic; exits 1 if any document has one of error
// severity or cannot be parsed, 2 on bad usage.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { createRequire } = require("node:module");

function usage(message) {
  process.stderr.write(`${message}\nusage: node validate.cjs [--modules DIR] DOCUMENT...\n`);
  process.exit(2);
}

function parseArgs(argv) {
  let modules = __dirname;
  const documents = [];
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === "--modules") {
      modules = argv[i + 1];
      if (!modules) usage("--modules needs a directory");
      i += 1;
    } else {
      documents.push(argv[i]);
    }
  }
  if (documents.length === 0) usage("no document given");
  return { modules: path.resolve(modules), documents };
}

function where(diagnostic) {
  const at = diagnostic.path && diagnostic.path.length ? diagnostic.path.join(".") : "(root)";
  const line = diagnostic.range ? `:${diagnostic.range.start.line + 1}` : "";
  return { at, line };
}

async function main() {
  const { modules, documents } = parseArgs(process.argv.slice(2));
  const load = createRequire(path.join(modules, "package.json"));
  const { Parser, DiagnosticSeverity } = load("@asyncapi/parser");
  const names = Object.fromEntries(
    Object.entries(DiagnosticSeverity).filter(([, v]) => typeof v === "number").map(([k, v]) => [v, k.toLowerCase()]),
  );
  const parser = new Parser();
  let failed = false;
  for (const file of documents) {
    const source = path.resolve(file);
    let result;
    try {
      result = await parser.parse(fs.readFileSync(source, "utf8"), { source });
    } catch (error) {
      failed = true;
      process.stdout.write(`${file}: error: cannot be parsed: ${error && error.message}\n`);
      continue;
    }
    const errors = result.diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    for (const diagnostic of result.diagnostics) {
      const { at, line } = where(diagnostic);
      const severity = names[diagnostic.severity] || String(diagnostic.severity);
      process.stdout.write(
        `${file}${line}: ${severity}: ${diagnostic.code}: ${diagnostic.message} at ${at}\n`,
      );
    }
    if (errors.length > 0 || !result.document) {
      failed = true;
      process.stdout.write(`${file}: INVALID (${errors.length} error(s))\n`);
    } else {
      process.stdout.write(`${file}: valid AsyncAPI ${result.document.version()}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  process.stderr.write(`${(error && error.stack) || error}\n`);
  process.exit(1);
});
