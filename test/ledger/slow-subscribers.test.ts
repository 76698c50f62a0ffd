// Clients that make the ledger hold memory for them: event subscribers that never read, and
// GET /blocks over many blocks. Each subscriber's unsent output is bounded (past the bound it is
// fed from the event log as it drains) and one that stalls is closed with a code it resumes from;
// /blocks answers are paged by bytes. Measured: the ledger's RSS with stalled subscribers, and a
// bystander's latency meanwhile.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { canonicalJson, generateKeyPair, signTx } from "../../src/core/index.js";
import { Chain } from "../../src/ledger/index.js";
import { BCDB, startBcdb, tempDir, fundedTwin } from "./helpers.js";

/**
 * Inside the test's network namespace (where the kernel keeps at most 64 KiB per socket, so what
 * a subscriber is sent and does not read stays in the ledger's memory, where it can be measured):
 * N WebSocket subscribers (from=0) that never read a byte, then a bystander asking /status, then
 * the ledger's metrics; one JSON line, then the same once the stalled ones are closed.
 */
const STALLED_PY = `
import socket, sys, time, base64, os, json, http.client
port, n = int(sys.argv[1]), int(sys.argv[2])
def metrics():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", "/metrics")
    out = {}
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith("ledger_event_subscribers") and " " in line:
            k, v = line.split(" ", 1); out[k] = float(v)
    return out
socks = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /events?from=0 HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
               "Sec-WebSocket-Key: " + key + "\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n").encode())
    socks.append(s)
time.sleep(1.5)
lat = []
c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
for i in range(60):
    t0 = time.perf_counter(); c.request("GET", "/status"); r = c.getresponse(); r.read()
    assert r.status == 200
    lat.append((time.perf_counter() - t0) * 1000); time.sleep(0.02)
lat.sort()
print(json.dumps({"metrics": metrics(), "p50": lat[30], "p99": lat[59]}), flush=True)
end = time.time() + 20
while time.time() < end and metrics().get("ledger_event_subscribers_closed_slow_total", 0) < n: time.sleep(0.2)
print(json.dumps({"metrics": metrics()}), flush=True)
time.sleep(60)
`;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
}

/** A chain of `blocks` blocks of `perBlock` transfers each, made in this process (fast). */
async function makeChain(dir: string, blocks: number, perBlock: number): Promise<number> {
  const chain = await Chain.open({ dir, billingPeriod: 3600, gracePeriod: 7200, reportInterval: 10, snapshotBlocks: 1_000_000 });
  try {
    const keys = generateKeyPair();
    const created = await chain.submit(signTx({ type: "twin.create", signer: keys.publicKey, nonce: 1, payload: {} }, keys.privateKey));
    const twinId = (created.events![0] as { twinId: number }).twinId;
    await chain.faucet(twinId, 10 ** 9);
    let nonce = 2;
    for (let b = 0; b < blocks; b++) {
      // Signed but queued with admit(): the test's own transactions need no second check here.
      const batch = Array.from({ length: perBlock }, () => {
        const tx = signTx({ type: "transfer", signer: keys.publicKey, nonce: nonce++, payload: { to: 1, amount: 1 } }, keys.privateKey);
        return chain.admit({ tx, raw: tx, canon: canonicalJson(tx) });
      });
      await Promise.all(batch);
    }
    return chain.height;
  } finally { await chain.close(); }
}

test("slow subscribers: unsent output is bounded per subscriber, RSS stays flat, stalled ones are closed", async (t) => {
  const N = 30, BUFFER = 64 * 1024;
  // Teardown in this order: the processes, then the namespace they ran in, then the folder.
  const procs: ChildProcess[] = [];
  t.after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) { const gone = new Promise((r) => p.once("exit", r)); p.kill("SIGKILL"); await gone; }
  });
  const ns = `bcdbslow${randomBytes(3).toString("hex")}`;
  sh("ip", ["netns", "add", ns]);
  t.after(() => { spawnSync("ip", ["netns", "del", ns]); });
  sh("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
  sh("ip", ["netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.tcp_wmem=4096 16384 65536"]);
  const dir = tempDir(t, "bcdb-slow-");
  // ~3.3 MB of events in 500 small blocks; each subscriber asks for all of it (the old code held
  // all of it for each: ~100 MB for 30).
  const t0 = Date.now();
  const head = await makeChain(dir, 500, 60);
  t.diagnostic(`chain of ${head} blocks made in ${Date.now() - t0} ms`);

  const bcdb = spawn("ip", ["netns", "exec", ns, process.execPath, BCDB, "--data", dir, "--port", "0", "--log-level", "warn", "--block-interval", "100",
    "--subscriber-buffer", String(BUFFER), "--subscriber-stall", "3000"], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(bcdb);
  const first = await new Promise<string>((resolve) => createInterface({ input: bcdb.stdout! }).once("line", resolve));
  const port = Number(new URL((JSON.parse(first) as { url: string }).url).port);
  // `ip netns exec` execs node: the ledger is the process we spawned.
  const pid = bcdb.pid!;
  const rss0 = rssMiB(pid);

  const py = spawn("ip", ["netns", "exec", ns, "python3", "-c", STALLED_PY, String(port), String(N)], { stdio: ["ignore", "pipe", "inherit"] });
  procs.push(py);
  const lines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
  const during = JSON.parse((await lines.next()).value as string) as { metrics: Record<string, number>; p50: number; p99: number };
  const rss1 = rssMiB(pid);
  const buffered = during.metrics.ledger_event_subscribers_buffered_bytes;
  t.diagnostic(`${N} stalled subscribers over a ${head}-block chain: unsent ${(buffered / 1024).toFixed(0)} KiB in all, ledger RSS ${rss0.toFixed(0)} → ${rss1.toFixed(0)} MiB; bystander /status p50 ${during.p50.toFixed(1)} ms, p99 ${during.p99.toFixed(1)} ms`);
  assert.equal(during.metrics.ledger_event_subscribers, N);
  // Each holds at most its bound plus one block's events — the old code held the whole stream.
  assert.ok(buffered > 0, "the subscribers really are stalled");
  assert.ok(buffered <= N * (BUFFER + 32 * 1024), `unsent bytes ${buffered} within ${N} × bound`);
  assert.ok(rss1 - rss0 < 60, `RSS grew ${(rss1 - rss0).toFixed(1)} MiB with ${N} stalled subscribers`);
  assert.ok(during.p99 < 500, `bystander p99 ${during.p99} ms`);

  // Stalled past --subscriber-stall: closed (code 4008, resumable), their memory given back.
  const after = JSON.parse((await lines.next()).value as string) as { metrics: Record<string, number> };
  assert.equal(after.metrics.ledger_event_subscribers_closed_slow_total, N);
  assert.equal(bcdb.exitCode, null, "the ledger is still running");
});

test("GET /blocks pages by bytes: every answer under the cap (or one block), X-Next-From walks the whole chain", async (t) => {
  const PAGE = 4096;
  const b = await startBcdb(tempDir(t, "bcdb-page-"), ["--faucet", "--block-interval", "600000", "--blocks-page-bytes", String(PAGE)]);
  t.after(() => b.stop());
  const a = await fundedTwin(b.client, 10 ** 6);
  for (let i = 0; i < 30; i++) await a.signer.send("transfer", { to: 1, amount: 1 });
  const head = (await b.client.status()).height;
  const heights: number[] = [];
  let from: number | undefined = 0, pages = 0;
  while (from !== undefined && pages < 100) {
    const res: Response = await fetch(`${b.url}/blocks?from=${from}&limit=1000`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const blocks = JSON.parse(text) as { height: number }[];
    assert.ok(text.length <= PAGE || blocks.length === 1, `page of ${text.length} bytes`);
    heights.push(...blocks.map((x) => x.height));
    const next = res.headers.get("x-next-from");
    from = next === null ? undefined : Number(next);
    pages++;
  }
  assert.ok(pages > 1, "the chain took several pages");
  assert.deepEqual(heights, Array.from({ length: head + 1 }, (_, i) => i));
  // The client's blocks() reads one page and is still an array of whole blocks.
  const first = await b.client.blocks(0, 1000);
  assert.ok(first.length > 0 && first.length < head + 1 && first[0].height === 0);
  // blocksPage() follows the cursor to the same blocks.
  const viaClient: number[] = [];
  for (let f: number | undefined = 0, n = 0; f !== undefined && n < 100; n++) {
    const page: { blocks: { height: number }[]; next?: number } = await b.client.blocksPage(f, 1000);
    viaClient.push(...page.blocks.map((x) => x.height));
    f = page.next;
  }
  assert.deepEqual(viaClient, heights);
});
