#!/usr/bin/env node
// Builds the example flist (busybox httpd serving one page, from Debian's busybox-static) and
// publishes it to a hub. Prints {"address","hash","entrypoint",...} on stdout; progress on stderr.
// Usage: node scripts/build-example-flist.mjs --hub http://127.0.0.1:PORT [--name hello-httpd] [--key-seed HEX]
import { publishExampleFlist } from "../dist/src/flist/index.js";
import { generateKeyPair, keyPairFromSeed } from "../dist/src/core/index.js";

const args = process.argv.slice(2);
const opt = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
if (args.includes("--help") || !opt("--hub")) {
  console.error("usage: build-example-flist.mjs --hub URL [--name NAME] [--key-seed HEX (32-byte ed25519 seed; default: a fresh key)]");
  process.exit(args.includes("--help") ? 0 : 2);
}
const keys = opt("--key-seed") ? keyPairFromSeed(opt("--key-seed")) : generateKeyPair();
const r = await publishExampleFlist({ hub: opt("--hub"), keys, name: opt("--name"), onProgress: (m) => process.stderr.write(`${m}\n`) });
const { flist: _f, ...rest } = r;
process.stdout.write(`${JSON.stringify({ ...rest, owner: keys.publicKey })}\n`);
