// Images bigger than memory should allow: a docker-save archive with a 1 GiB layer file, an OCI
// layout whose gzipped layer unpacks to 1 GiB, and a folder with a 1 GiB file each build in a child
// process whose peak RSS (VmHWM) stays under PEAK_LIMIT. The archives are made on the fly and
// sparse (headers written at their offsets, the zeros left as holes; the gzip stream is 1 MiB of
// zeros compressed once and repeated as concatenated gzip members), so they cost no disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { open, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { sha256Hex } from "../../src/core/index.js";
import { tarHeader, writeTar, CHUNK_SIZE } from "../../src/flist/index.js";
import { tempDir } from "../support.js";
import { ROOT } from "./helpers.js";

const exec = promisify(execFile);
const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const BIG = 1 * GiB;
/** Node alone is ~50 MiB; one build must not come near the size of what it reads. */
const PEAK_LIMIT = 300 * MiB;
const ZERO_CHUNK = sha256Hex(Buffer.alloc(CHUNK_SIZE));

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

/** Writes pieces at increasing offsets, leaving holes for zero runs; the file ends at `end()`. */
class SparseWriter {
  off = 0;
  constructor(private readonly fh: Awaited<ReturnType<typeof open>>) {}
  async put(b: Buffer): Promise<void> { if (b.length) await this.fh.write(b, 0, b.length, this.off); this.off += b.length; }
  skip(n: number): void { this.off += n; }
  /** An outer member whose content is written by `body` (which must advance exactly `size`). */
  async member(name: string, size: number, body: () => Promise<void>): Promise<void> {
    await this.put(tarHeader({ name, size }));
    const start = this.off;
    await body();
    assert.equal(this.off - start, size, `${name}: ${this.off - start} bytes written for ${size}`);
    this.skip(pad(size).length);
  }
  async end(): Promise<void> { this.skip(1024); await this.fh.truncate(this.off); await this.fh.close(); }
}

/** A layer tar (uncompressed) with dir big/, big/zero.bin (BIG zeros), big/after.txt, gone.txt. */
const layer0Size = 512 + 512 + BIG + 512 + 512 + 512 + 512 + 1024;
async function writeLayer0(w: SparseWriter): Promise<void> {
  await w.put(tarHeader({ name: "big/", type: "dir", size: 0 }));
  await w.put(tarHeader({ name: "big/zero.bin", size: BIG }));
  w.skip(BIG);
  await w.put(tarHeader({ name: "big/after.txt", size: 6 })); await w.put(Buffer.concat([Buffer.from("after\n"), pad(6)]));
  await w.put(tarHeader({ name: "gone.txt", size: 2 })); await w.put(Buffer.concat([Buffer.from("x\n"), pad(2)]));
  w.skip(1024);
}

/** A gzipped layer: a whiteout of gone.txt, more/zero2.bin (`size` zeros), more/end.txt. */
function gzLayer(size: number): Buffer[] {
  const head = gzipSync(Buffer.concat([
    tarHeader({ name: ".wh.gone.txt", size: 0 }), tarHeader({ name: "more/", type: "dir", size: 0 }), tarHeader({ name: "more/zero2.bin", size }),
  ]));
  const zeros = gzipSync(Buffer.alloc(MiB));
  const tail = gzipSync(Buffer.concat([tarHeader({ name: "more/end.txt", size: 4 }), Buffer.from("end\n"), pad(4), Buffer.alloc(1024)]));
  return [head, ...Array.from({ length: size / MiB }, () => zeros), tail];
}

async function dockerSave(path: string): Promise<void> {
  const w = new SparseWriter(await open(path, "w"));
  const small = writeTar([
    { name: "manifest.json", data: JSON.stringify([{ Config: "cfg.json", RepoTags: ["big:latest"], Layers: ["l0/layer.tar", "l1/layer.tar.gz"] }]) },
    { name: "cfg.json", data: JSON.stringify({ config: { Entrypoint: ["/big/after.txt"] } }) },
  ]);
  await w.put(small.subarray(0, small.length - 1024)); // without its end-of-archive blocks
  await w.member("l0/layer.tar", layer0Size, () => writeLayer0(w));
  const gz = gzLayer(64 * MiB);
  await w.member("l1/layer.tar.gz", gz.reduce((n, b) => n + b.length, 0), async () => { for (const b of gz) await w.put(b); });
  await w.end();
}

async function ociLayout(path: string): Promise<void> {
  const gz = gzLayer(BIG);
  const gzSize = gz.reduce((n, b) => n + b.length, 0);
  // The layer's digest is not checked by the builder (the flist's own hashes are what count).
  const layerDigest = `sha256:${"ab".repeat(32)}`;
  const cfg = Buffer.from(JSON.stringify({ config: { Cmd: ["/more/end.txt"] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: `sha256:${sha256Hex(cfg)}` }, layers: [{ digest: layerDigest }] }));
  const w = new SparseWriter(await open(path, "w"));
  const small = writeTar([
    { name: "oci-layout", data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: "index.json", data: JSON.stringify({ schemaVersion: 2, manifests: [{ digest: `sha256:${sha256Hex(manifest)}` }] }) },
    { name: `blobs/sha256/${sha256Hex(manifest)}`, data: manifest },
    { name: `blobs/sha256/${sha256Hex(cfg)}`, data: cfg },
  ]);
  await w.put(small.subarray(0, small.length - 1024));
  await w.member(`blobs/sha256/${layerDigest.slice(7)}`, gzSize, async () => { for (const b of gz) await w.put(b); });
  await w.end();
}

interface Built { hwmKiB: number; puts: number; entries: Array<{ path: string; type: string; size?: number; chunks?: string[] }>; config: Record<string, unknown> }

/** Builds `source` in a child process (its own peak RSS) with a sink that checks and drops chunks. */
async function buildInChild(source: string): Promise<Built> {
  const script = `
    import { buildFlist } from ${JSON.stringify(join(ROOT, "dist/src/flist/index.js"))};
    import { createHash } from "node:crypto";
    import { readFileSync } from "node:fs";
    let puts = 0;
    const sink = { put: async (h, d) => { puts++; if (createHash("sha256").update(d).digest("hex") !== h) throw new Error("bad chunk " + h); } };
    const f = await buildFlist(${JSON.stringify(source)}, sink);
    const hwmKiB = Number(/VmHWM:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
    const entries = f.entries.map((e) => e.type === "file" ? { path: e.path, type: e.type, size: e.size, chunks: [...new Set(e.chunks)], n: e.chunks.length } : { path: e.path, type: e.type });
    process.stdout.write(JSON.stringify({ hwmKiB, puts, entries, config: f.config }));
  `;
  const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script], { maxBuffer: 16 * MiB, timeout: 120_000 });
  return JSON.parse(stdout) as Built;
}

function file(b: Built, path: string): { size?: number; chunks?: string[]; n?: number } {
  const e = b.entries.find((x) => x.path === path);
  assert.ok(e && e.type === "file", `${path} is a file of the flist`);
  return e as { size?: number; chunks?: string[]; n?: number };
}

test("a docker-save archive with a 1 GiB layer file builds in flat memory (streamed layers, whiteouts across layers)", { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t, "large-image");
  const path = join(dir, "big-docker.tar");
  await dockerSave(path);
  const started = Date.now();
  const b = await buildInChild(path);
  const ms = Date.now() - started;
  t.diagnostic(`docker save, ${(layer0Size / GiB).toFixed(2)} GiB layer + 64 MiB gzipped layer: peak RSS ${(b.hwmKiB / 1024).toFixed(0)} MiB, ${ms} ms`);
  assert.ok(b.hwmKiB * 1024 < PEAK_LIMIT, `peak RSS ${b.hwmKiB} KiB stays under ${PEAK_LIMIT / MiB} MiB`);
  const big = file(b, "big/zero.bin");
  assert.equal(big.size, BIG);
  assert.equal(big.n, BIG / CHUNK_SIZE);
  assert.deepEqual(big.chunks, [ZERO_CHUNK]);
  assert.deepEqual(file(b, "big/after.txt").chunks, [sha256Hex("after\n")], "the entry after the big one is read right");
  assert.equal(file(b, "more/zero2.bin").size, 64 * MiB);
  assert.deepEqual(file(b, "more/end.txt").chunks, [sha256Hex("end\n")]);
  assert.ok(!b.entries.some((e) => e.path === "gone.txt"), "the upper layer's whiteout removed gone.txt");
  assert.deepEqual(b.config.entrypoint, ["/big/after.txt"]);
  assert.equal(b.puts, BIG / CHUNK_SIZE + 64 + 2, "every chunk of the surviving files went to the sink once, nothing of gone.txt");
});

test("an OCI layout whose gzipped layer unpacks to 1 GiB, and a folder with a 1 GiB file, build in flat memory", { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t, "large-oci");
  const path = join(dir, "big-oci.tar");
  await ociLayout(path);
  const o = await buildInChild(path);
  t.diagnostic(`OCI layout, 1 GiB gzipped layer: peak RSS ${(o.hwmKiB / 1024).toFixed(0)} MiB`);
  assert.ok(o.hwmKiB * 1024 < PEAK_LIMIT, `peak RSS ${o.hwmKiB} KiB stays under ${PEAK_LIMIT / MiB} MiB`);
  assert.equal(file(o, "more/zero2.bin").size, BIG);
  assert.deepEqual(file(o, "more/zero2.bin").chunks, [ZERO_CHUNK]);
  assert.deepEqual(o.config.cmd, ["/more/end.txt"]);

  const folder = join(dir, "folder");
  await mkdir(folder);
  const fh = await open(join(folder, "zero.bin"), "w");
  await fh.truncate(BIG);
  await fh.close();
  const f = await buildInChild(folder);
  t.diagnostic(`folder with a 1 GiB file: peak RSS ${(f.hwmKiB / 1024).toFixed(0)} MiB`);
  assert.ok(f.hwmKiB * 1024 < PEAK_LIMIT, `peak RSS ${f.hwmKiB} KiB stays under ${PEAK_LIMIT / MiB} MiB`);
  assert.equal(file(f, "zero.bin").size, BIG);
});
