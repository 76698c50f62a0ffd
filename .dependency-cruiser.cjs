// The doors and arrows of docs/layout.md (after ARCHITECTURE.md), checked by
// test/house/doors.test.ts. Paths are relative to the folder that holds `src/`: the test cruises the
// compiled tree (`dist/src`, run from `dist/`), because dependency-cruiser 16 cannot read
// TypeScript 7's sources; the same test applies these rules to the TypeScript sources' imports too,
// so a type-only import (erased by the compiler) is held to them as well.
//
// Only src/ is checked: tests and benchmarks may reach into a part's internals.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-is-a-leaf",
      comment: "core is the shared language: pure, it imports no other part",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^src/", pathNot: "^src/core/" },
    },
    {
      name: "runtime-needs-only-core",
      comment: "runtime (process helpers every part may use) depends on core alone",
      severity: "error",
      from: { path: "^src/runtime/" },
      to: { path: "^src/", pathNot: "^src/(core|runtime)/" },
    },
    {
      name: "zdb-needs-only-core",
      comment: "0-db stands alone: core (and runtime) only",
      severity: "error",
      from: { path: "^src/zdb/" },
      to: { path: "^src/", pathNot: "^src/(core|runtime|zdb)/" },
    },
    {
      name: "ledger-not-node-or-kosmos",
      comment: "the ledger knows nothing of the nodes' daemon or of Kosmos",
      severity: "error",
      from: { path: "^src/ledger/" },
      to: { path: "^src/(node|kosmos)/" },
    },
    {
      name: "node-not-kosmos",
      comment: "a node is commanded by the ledger only, never by Kosmos' code",
      severity: "error",
      from: { path: "^src/node/" },
      to: { path: "^src/kosmos/" },
    },
    {
      name: "gateway-needs-only-core",
      comment: "the gateway's config generation depends on core (and runtime) only",
      severity: "error",
      from: { path: "^src/gateway/" },
      to: { path: "^src/", pathNot: "^src/(core|runtime|gateway)/" },
    },
    {
      name: "s3-needs-only-core",
      comment: "S3 depends on core (and runtime) and 0-db's client protocol (its door) only",
      severity: "error",
      from: { path: "^src/s3/" },
      to: { path: "^src/", pathNot: ["^src/(core|runtime|s3)/", "^src/zdb/index\\.(js|ts)$"] },
    },
    {
      name: "explorer-reads-the-ledger-only",
      comment: "the explorer is read-only: core, runtime and the ledger's client (its door) only — never the ledger's internals, a node or Kosmos",
      severity: "error",
      from: { path: "^src/explorer/" },
      to: { path: "^src/", pathNot: ["^src/(core|runtime|explorer)/", "^src/ledger/client/index\\.(js|ts)$"] },
    },
    {
      name: "only-through-the-door",
      comment: "another part is reached through its index (the ledger also through ledger/client/index), never its internals",
      severity: "error",
      from: { path: "^src/([^/]+)/" },
      to: { path: "^src/", pathNot: ["^src/$1/", "^src/[^/]+/index\\.(js|ts)$", "^src/ledger/client/index\\.(js|ts)$"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.map$" },
    moduleSystems: ["es6"],
  },
};
