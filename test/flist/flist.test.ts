import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, symlink, readFile, readlink, rm, stat, readdir, lstat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Redis } from "ioredis";
import { generateKeyPair, sha256Hex } from "../../src/core/index.js";
import {
  buildAndPublish, buildFromImage, buildFlist, FlistCache, HubClient, writeTar, readTar, flistHash, signPublish, type ChunkSink, CHUNK_SIZE, progressMessage,
} from "../../src/flist/index.js";
import { startHubStore, startHub, type Proc, type StoreProc } from "./helpers.js";

let store: StoreProc, hub: Proc, work: string;
const keys = generateKeyPair();
const nullSink: ChunkSink = { put: async () => undefined };

before(async () => {
  store = await startHubStore();
  hub = await startHub(store);
  work = await mkdtemp(join(tmpdir(), "flist-test-"));
});
after(async () => {
  await hub?.stop();
  await store?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test("tar: writer and reader agree, including pax long names", () => {
  const long = `${"d".repeat(120)}/file.txt`;
  const t = writeTar([{ name: "a/", type: "dir" }, { name: long, data: "hi", mode: 0o640, uid: 7 }, { name: "a/l", type: "symlink", linkname: "../x" }]);
  const es = [...readTar(t)];
  assert.deepEqual(es.map((e) => [e.name, e.type]), [["a/", "dir"], [long, "file"], ["a/l", "symlink"]]);
  assert.equal(es[1].data.toString(), "hi");
  assert.equal(es[1].mode, 0o640);
  assert.equal(es[1].uid, 7);
  assert.equal(es[2].linkname, "../x");
  const bad = Buffer.from(t); bad[10] ^= 0xff;
  assert.throws(() => [...readTar(bad)], /checksum/);
});

test("build, upload and fetch a folder: chunks stored once, the tree comes back the same", async () => {
  const src = join(work, "src");
  await mkdir(join(src, "sub/deep"), { recursive: true });
  const big = Buffer.alloc(Math.floor(2.5 * CHUNK_SIZE));
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  await writeFile(join(src, "big1.bin"), big);
  await writeFile(join(src, "sub/big2.bin"), big); // same content: its chunks are stored once
  await writeFile(join(src, "sub/deep/small.txt"), "small\n", { mode: 0o600 });
  await writeFile(join(src, "empty"), "");
  await symlink("sub/deep/small.txt", join(src, "link"));
  const progress: string[] = [];
  const r = await buildAndPublish(src, { hub: hub.url, keys, name: "roundtrip", onProgress: (m) => progress.push(m) });
  assert.equal(r.uploadedChunks, 4, "3 distinct chunks of the big file + the small file");
  assert.ok(r.skippedChunks >= 3);
  assert.ok(progress.some((m) => m.startsWith("done")));
  assert.match(r.address, new RegExp(`^${hub.url}/flists/${keys.publicKey}/roundtrip#${r.hash}$`));
  const again = await buildAndPublish(src, { hub: hub.url, keys, name: "roundtrip-copy" });
  assert.equal(again.uploadedChunks, 0, "a second upload of the same content sends nothing");
  assert.equal(again.hash, r.hash);
  const list = await new HubClient(hub.url).list();
  assert.deepEqual(list.map((x) => x.name).sort(), ["roundtrip", "roundtrip-copy"]);

  const cache = new FlistCache(join(work, "cache"));
  let last: [number, number] = [0, 0];
  const got = await cache.ensure(r.address, { onProgress: (d, t) => { last = [d, t]; } });
  assert.equal(got.hash, r.hash);
  assert.equal(last[1], big.length + 6, "bytes fetched: each distinct chunk once");
  assert.deepEqual(last[0], last[1]);
  assert.deepEqual(await readFile(join(got.lower, "sub/big2.bin")), big);
  assert.equal(await readFile(join(got.lower, "sub/deep/small.txt"), "utf8"), "small\n");
  assert.equal((await stat(join(got.lower, "sub/deep/small.txt"))).mode & 0o777, 0o600);
  assert.equal(await readlink(join(got.lower, "link")), "sub/deep/small.txt");
  assert.equal((await stat(join(got.lower, "empty"))).size, 0);
  // The unpinned name resolves to the same document; nothing more is fetched.
  let fetched = -1;
  const byName = await cache.ensure(r.address.split("#")[0], { onProgress: (d) => { fetched = d; } });
  assert.equal(byName.lower, got.lower);
  assert.equal(fetched, -1, "a cached flist fetches no chunk");
  assert.equal(progressMessage(45, 100), "fetching flist: 45% of 100 B");
});

test("a tampered chunk is refused (by the hub, and by the node if the hub served it) and leaves no tree", async () => {
  const src = join(work, "tamper");
  await mkdir(src);
  await writeFile(join(src, "f.txt"), "original content\n");
  const r = await buildAndPublish(src, { hub: hub.url, keys, name: "tamper" });
  const chunk = r.flist.entries.find((e) => e.type === "file")!;
  assert.equal(chunk.type, "file");
  const h = (chunk as { chunks: string[] }).chunks[0];
  // Someone with the store's password overwrites the chunk: the hub no longer serves it.
  const db = new Redis({ host: "127.0.0.1", port: store.port });
  try { await db.call("SELECT", "default", store.password); await db.set(`c:${h}`, "evil content\n"); } finally { db.disconnect(); }
  const served = await fetch(`${hub.url}/chunks/${h}`);
  assert.equal(served.status, 500);
  assert.equal(((await served.json()) as { error: { code: string } }).error.code, "damaged");
  const cache = new FlistCache(join(work, "cache-tamper"));
  await assert.rejects(cache.ensure(r.address), /does not match its hash/);
  assert.deepEqual(await readdir(join(work, "cache-tamper/trees")).catch(() => []), []);
  assert.equal(await cache.cached(r.hash), null);
  // The hub refuses a chunk whose content does not match its address outright.
  const res = await fetch(`${hub.url}/chunks/${sha256Hex("x")}`, { method: "PUT", body: "y" });
  assert.equal(res.status, 400);
});

test("only the owner's fresh signature publishes; replays and missing chunks are refused", async () => {
  const src = join(work, "auth");
  await mkdir(src);
  await writeFile(join(src, "x"), "x");
  const r = await buildAndPublish(src, { hub: hub.url, keys, name: "auth" });
  const other = generateKeyPair();
  const put = (owner: string, body: unknown) => fetch(`${hub.url}/flists/${owner}/auth`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  // Signed by another key, sent under our name.
  const forged = { ...signPublish(other, "auth", r.hash), owner: keys.publicKey };
  const f = await put(keys.publicKey, { flist: r.flist, request: forged });
  assert.equal(f.status, 401);
  assert.match(((await f.json()) as { error: { message: string } }).error.message, /not signed by/);
  // A replay of an accepted request.
  const req = signPublish(keys, "auth", r.hash);
  assert.equal((await put(keys.publicKey, { flist: r.flist, request: req })).status, 201);
  const replay = await put(keys.publicKey, { flist: r.flist, request: req });
  assert.equal(replay.status, 409);
  assert.match(((await replay.json()) as { error: { message: string } }).error.message, /replayed/);
  // An flist whose chunks the hub lacks.
  const ghost = { ...r.flist, entries: [{ path: "g", type: "file" as const, mode: 0o644, uid: 0, gid: 0, size: 1, chunks: [sha256Hex("never uploaded")] }] };
  const m = await put(keys.publicKey, { flist: ghost, request: signPublish(keys, "auth", flistHash(ghost)) });
  assert.equal(m.status, 409);
  assert.match(((await m.json()) as { error: { message: string } }).error.message, /lacks 1/);
  // The name still points at the accepted version.
  assert.equal((await fetch(`${hub.url}/flists/${keys.publicKey}/auth`)).headers.get("x-flist-hash"), r.hash);
});

function dockerSave(layers: Buffer[], config: object): Buffer {
  const names = layers.map((_, i) => `l${i}/layer.tar`);
  return writeTar([
    { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["t:latest"], Layers: names }]) },
    { name: "cfg.json", data: JSON.stringify(config) },
    ...layers.map((l, i) => ({ name: names[i], data: l })),
  ]);
}

test("image archives: layers in order, whiteouts honoured, entrypoint/env/workdir kept (docker save and OCI layout)", async () => {
  const l1 = writeTar([
    { name: "etc/", type: "dir" }, { name: "etc/a", data: "a" }, { name: "etc/b", data: "b" },
    { name: "d/", type: "dir" }, { name: "d/x", data: "x" }, { name: "d/y", data: "y" },
    { name: "bin/", type: "dir" }, { name: "bin/tool", data: "#!tool", mode: 0o755 }, { name: "bin/alias", type: "hardlink", linkname: "bin/tool" },
  ]);
  const l2 = writeTar([
    { name: "etc/.wh.a", data: "" }, { name: "d/", type: "dir" }, { name: "d/z", data: "z" }, { name: "d/.wh..wh..opq", data: "" },
    { name: "etc/b", data: "b2" }, { name: "usr/bin/", type: "dir" }, { name: "usr/bin/tool", type: "symlink", linkname: "/bin/tool" },
  ]);
  const config = { config: { Entrypoint: ["/bin/tool"], Cmd: ["--serve"], Env: ["PATH=/bin", "MODE=prod"], WorkingDir: "/d" } };
  const check = async (archive: Buffer, file: string) => {
    await writeFile(join(work, file), archive);
    const f = await buildFromImage(join(work, file), nullSink);
    const paths = f.entries.map((e) => e.path);
    assert.ok(!paths.includes("etc/a"), "etc/a was whited out");
    assert.ok(!paths.includes("d/x") && !paths.includes("d/y"), "d/ was made opaque");
    assert.ok(paths.includes("d/z") && paths.includes("etc/b") && paths.includes("bin/alias"));
    assert.ok(!paths.some((p) => p.includes(".wh.")));
    const b = f.entries.find((e) => e.path === "etc/b");
    assert.ok(b?.type === "file" && b.chunks[0] === sha256Hex("b2"), "the upper layer's etc/b wins");
    const alias = f.entries.find((e) => e.path === "bin/alias");
    assert.ok(alias?.type === "file" && alias.chunks[0] === sha256Hex("#!tool") && alias.mode === 0o755);
    assert.deepEqual(f.config, { entrypoint: ["/bin/tool"], cmd: ["--serve"], env: ["PATH=/bin", "MODE=prod"], workdir: "/d" });
    assert.ok(paths.indexOf("usr") < paths.indexOf("usr/bin") && paths.indexOf("usr/bin") < paths.indexOf("usr/bin/tool"), "parents first");
  };
  await check(dockerSave([l1, gzipSync(l2)], config), "image-docker.tar");
  const blob = (b: Buffer) => ({ digest: `sha256:${sha256Hex(b)}`, b });
  const cfg = blob(Buffer.from(JSON.stringify(config))), L1 = blob(gzipSync(l1)), L2 = blob(l2);
  const manifest = blob(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: cfg.digest }, layers: [{ digest: L1.digest }, { digest: L2.digest }] })));
  const oci = writeTar([
    { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: "index.json", data: JSON.stringify({ schemaVersion: 2, manifests: [{ digest: manifest.digest }] }) },
    ...[cfg, L1, L2, manifest].map((x) => ({ name: `blobs/sha256/${x.digest.slice(7)}`, data: x.b })),
  ]);
  await check(gzipSync(oci), "image-oci.tar.gz");
});

test("archives and folders that escape the root are refused", async () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ["dotdot", writeTar([{ name: "ok", data: "1" }, { name: "../../etc/evil", data: "x" }]), /escapes the root/],
    ["symlink-out", writeTar([{ name: "a/", type: "dir" }, { name: "a/l", type: "symlink", linkname: "../../../etc/passwd" }]), /points outside the root/],
    ["abs-symlink-out", writeTar([{ name: "l", type: "symlink", linkname: "/../../etc" }]), /points outside the root/],
    ["through-symlink", writeTar([{ name: "etc", type: "symlink", linkname: "/etc" }, { name: "etc/passwd", data: "x" }]), /lies under the symlink etc/],
    ["hardlink-out", writeTar([{ name: "h", type: "hardlink", linkname: "../../etc/shadow" }]), /escapes the root/],
  ];
  // Damaged or unsupported layers: a clear refusal, never a crash or a half-built flist.
  const full = writeTar([{ name: "a", data: "x".repeat(5000) }, { name: "b", data: "y" }]);
  cases.push(
    ["zstd", Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3, 4]), /zstd-compressed/],
    ["bad-gzip", Buffer.concat([gzipSync(full).subarray(0, 40), Buffer.alloc(100, 7)]), /layer .* is not a readable tar/],
    ["truncated", full.subarray(0, 2048), /layer .* is not a readable tar|holds \d+ bytes, its header says/],
  );
  for (const [name, layer, re] of cases) {
    await writeFile(join(work, `${name}.tar`), dockerSave([layer], { config: {} }));
    const put: string[] = [];
    await assert.rejects(buildFlist(join(work, `${name}.tar`), { put: async (h) => { put.push(h); } }), re, name);
    assert.deepEqual(put, [], `${name}: nothing uploaded`);
  }
  const dir = join(work, "escape-dir");
  await mkdir(dir);
  await symlink("../../../../etc", join(dir, "out"));
  await assert.rejects(buildFlist(dir, nullSink), /out -> \.\.\/\.\.\/\.\.\/\.\.\/etc points outside the root/);
  assert.ok((await lstat(join(dir, "out"))).isSymbolicLink());
  await assert.rejects(buildFlist(join(work, "nope"), nullSink), /does not exist/);
  await writeFile(join(work, "junk.tar"), writeTar([{ name: "x", data: "1" }]));
  await assert.rejects(buildFlist(join(work, "junk.tar"), nullSink), /not an image archive/);
});
