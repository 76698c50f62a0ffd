// The etcd client turns every way etcd can go away into UnavailableError, which the replica
// retries (a broken watch catches up again, a proposal is retried then refused as unavailable);
// any other error stops the replica. A connection cut in the middle of an answer is such a way:
// etcd killed while it writes. Here a loopback server sends the start of an answer and cuts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { UnavailableError } from "../../src/core/index.js";
import { EtcdClient } from "../../src/ledger/index.js";

test("an etcd answer cut off mid-body is an UnavailableError (the replica retries), not a crash", async (t) => {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.once("data", () => {
      sock.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"header\":{\"revision\":");
      setImmediate(() => sock.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => { for (const s of sockets) s.destroy(); server.close(); });
  const { port } = server.address() as { port: number };
  const etcd = new EtcdClient(`http://127.0.0.1:${port}`);
  await assert.rejects(etcd.range("/k"), (e: unknown) => e instanceof UnavailableError && /etcd at .* is unreachable/.test((e as Error).message));
  await assert.rejects(etcd.createIfAbsent([{ key: "/k", value: Buffer.from("v") }]), UnavailableError);
});
