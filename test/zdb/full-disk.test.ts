// Issue 9 item 3: a full disk. A write that cannot be made whole is refused with an error reply,
// the files are cut back to the last whole entry, nothing acknowledged is lost (also after a
// kill -9 and restart), and writes work again once there is space.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Redis } from "ioredis";
import * as os from "node:os";
import { startZdbProc } from "./helpers.js";

test("full disk (2 MiB tmpfs): refused writes, no acknowledged key lost, service resumes with space", async (t) => {
  // Teardown in one hook, in order: clients, servers, the mount, the folder (hooks run in the
  // order they are registered, so the servers' own kill hooks are reached through `stops`).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zdb-fulldisk-"));
  const mnt = path.join(dir, "mnt");
  const clients: Redis[] = [];
  const stops: Array<() => Promise<void>> = [];
  t.after(async () => {
    for (const c of clients) c.disconnect();
    for (const s of stops) await s();
    try { execFileSync("umount", [mnt]); } catch { try { execFileSync("umount", ["-l", mnt]); } catch { /* not mounted */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.mkdirSync(mnt);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]);
  const filler = path.join(mnt, "filler");
  fs.writeFileSync(filler, Buffer.alloc(512 * 1024, 1)); // space to give back later

  const args = ["--datasize", String(256 * 1024)]; // rotations happen too, and can fail
  const z = await startZdbProc(t, path.join(mnt, "z"), args);
  stops.push(z.kill9);
  const r = new Redis({ port: z.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  r.on("error", () => {});
  clients.push(r);
  const acked = new Map<string, Buffer>();
  let refused = 0;
  for (let round = 0; round < 60 && refused < 20; round++) {
    const p = r.pipeline();
    const batch: Array<[string, Buffer]> = [];
    for (let i = 0; i < 10; i++) {
      const k = `k${round}-${i}`, v = Buffer.alloc(6000 + ((round * 7 + i) % 5) * 1000, (round + i) & 0xff);
      batch.push([k, v]); p.call("SET", k, v);
    }
    const res = await p.exec();
    res!.forEach(([err, val], i) => {
      if (err) { assert.match(err.message, /No space left/); refused++; }
      else { assert.equal(String(val), batch[i][0]); acked.set(batch[i][0], batch[i][1]); }
    });
  }
  assert.ok(refused > 0, "the disk filled up");
  assert.ok(acked.size > 50, `writes were acknowledged before (${acked.size})`);
  assert.equal(await r.ping(), "PONG", "the server is still up");
  for (const [k, v] of acked) assert.ok((await r.getBuffer(k))?.equals(v), `${k} reads back while the disk is full`);

  // Space comes back: writes are accepted again without a restart.
  fs.rmSync(filler);
  assert.equal(await r.call("SET", "after", "space"), "after");
  acked.set("after", Buffer.from("space"));

  // kill -9 and restart: every acknowledged key is on disk, nothing half-written is read back.
  await z.kill9();
  r.disconnect();
  const z2 = await startZdbProc(t, path.join(mnt, "z"), args);
  stops.push(z2.kill9);
  const r2 = new Redis({ port: z2.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  clients.push(r2);
  let missing = 0;
  for (const [k, v] of acked) if (!(await r2.getBuffer(k))?.equals(v)) missing++;
  assert.equal(missing, 0, `acknowledged keys lost: ${missing} of ${acked.size}`);
  assert.equal(await r2.call("DBSIZE"), acked.size, "no refused write came back either");
  assert.doesNotMatch(z2.stderr(), /torn entry|damaged/, "the files were left whole");
  await z2.stop();
});
