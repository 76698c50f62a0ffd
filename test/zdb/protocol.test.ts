import { test } from "node:test";
import assert from "node:assert/strict";
import {
  FrameParser, RequestReader, ReplyWriter, decodeReply, encodeCommand, RespError, PARSE_ERROR, PARSE_ERROR_SOFT, PARSE_INCOMPLETE,
  MAX_BULK, MAX_REQUEST,
} from "../../src/zdb/resp.js";
import {
  DATA_HEADER_SIZE, FLAG_DELETED, crc32, dataEntrySize, indexRecordSize, readDataEntry, readIndexRecord,
  writeDataEntry, writeIndexRecord, encodeLocation, decodeLocation,
} from "../../src/zdb/format.js";
import { KeyTable } from "../../src/zdb/keytable.js";

function all(reader: RequestReader): string[][] | "error" {
  const out: string[][] = [];
  for (;;) {
    const r = reader.next();
    if (r === 0) return out;
    if (r < 0) return "error";
    out.push(reader.frame.args.slice(0, reader.frame.argc).map((b) => b.toString("latin1")));
  }
}

test("parser: multibulk, inline and pipelined requests", () => {
  const r = new RequestReader();
  r.feed(Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\nPING\r\n*3\r\n$3\r\nSET\r\n$0\r\n\r\n$2\r\nab\r\n"));
  assert.deepEqual(all(r), [["GET", "foo"], ["PING"], ["SET", "", "ab"]]);
});

test("parser: every split point of a frame yields the same requests", () => {
  const frame = encodeCommand(["SET", Buffer.from([0, 1, 2, 13, 10]), "x".repeat(300)]);
  const stream = Buffer.concat([frame, frame, Buffer.from("PING\r\n")]);
  for (let cut = 1; cut < stream.length; cut++) {
    const r = new RequestReader();
    const got: string[][] = [];
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      r.feed(part);
      const x = all(r);
      assert.notEqual(x, "error");
      got.push(...(x as string[][]));
    }
    assert.equal(got.length, 3, `cut ${cut}`);
    assert.equal(got[0][1], "\x00\x01\x02\r\n");
    assert.equal(got[1][2].length, 300);
    assert.deepEqual(got[2], ["PING"]);
  }
});

test("parser: random chunking fuzz matches whole-buffer parsing", () => {
  let seed = 42;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const frames: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const args: Buffer[] = [];
    const n = 1 + rnd(4);
    for (let j = 0; j < n; j++) { const b = Buffer.alloc(rnd(2000)); for (let k = 0; k < b.length; k++) b[k] = rnd(256); args.push(b); }
    frames.push(encodeCommand(args));
  }
  const stream = Buffer.concat(frames);
  const r = new RequestReader();
  let count = 0;
  for (let p = 0; p < stream.length;) {
    const step = 1 + rnd(3000);
    r.feed(stream.subarray(p, p + step)); p += step;
    const x = all(r);
    assert.notEqual(x, "error");
    count += (x as string[][]).length;
  }
  assert.equal(count, 200);
});

test("parser: a borrowed read buffer, overwritten after every read, loses nothing", () => {
  // The server reads every socket into one shared buffer: what the reader keeps of a partial
  // request must be its own copy, since the next read (of any connection) overwrites the buffer.
  let seed = 9;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const frames: Buffer[] = [];
  const expected: string[] = [];
  for (let i = 0; i < 300; i++) {
    const value = Buffer.alloc(rnd(3000)); for (let k = 0; k < value.length; k++) value[k] = rnd(256);
    frames.push(encodeCommand(["SET", `key${i}`, value]));
    expected.push(`key${i}:${crc32(value)}:${value.length}`);
  }
  const stream = Buffer.concat(frames);
  const shared = Buffer.alloc(1024);
  const r = new RequestReader();
  const got: string[] = [];
  for (let p = 0; p < stream.length;) {
    const n = Math.min(1 + rnd(shared.length), stream.length - p);
    stream.copy(shared, 0, p, p + n); p += n;
    r.feed(shared, true, n);
    for (let st = r.next(); st !== 0; st = r.next()) {
      assert.equal(st, 1);
      const [, key, value] = r.frame.args;
      got.push(`${key.toString("latin1")}:${crc32(value)}:${value.length}`);
    }
    r.release();
    shared.fill(0x2a); // the next read lands here
  }
  assert.deepEqual(got, expected);
});

test("parser: garbage is rejected, not crashed on", () => {
  const p = new FrameParser();
  for (const bad of ["*2\r\n$3\r\nGET\r\n:3\r\n", "*x\r\n", "*1\r\n$abc\r\n", "*1\r\n$99999999999\r\n", "*1\r\n$3\r\nabcde"]) {
    const b = Buffer.from(bad);
    const r = p.parse(b, 0, b.length);
    assert.ok(r === PARSE_ERROR || r === PARSE_INCOMPLETE, bad);
  }
  const huge = Buffer.from("*1\r\n$999999999\r\n");
  assert.equal(p.parse(huge, 0, huge.length), PARSE_ERROR);
  let seed = 7;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(1 + (i % 64));
    for (let k = 0; k < b.length; k++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; b[k] = "*$\r\n0123456789abc"[seed % 17].charCodeAt(0); }
    const r = new RequestReader(); r.feed(b); all(r); // must not throw
  }
});

test("encoder: replies decode back", () => {
  const w = new ReplyWriter(8);
  w.simple("OK"); w.error("Key not found"); w.integer(0); w.integer(1234567890123); w.integer(-5);
  w.bulk(Buffer.from("hello")); w.nil(); w.array(2); w.bulkString("a"); w.integer(7);
  const b = w.take();
  const vals: unknown[] = [];
  let pos = 0;
  while (pos < b.length) { const r = decodeReply(b, pos)!; vals.push(r[0]); pos = r[1]; }
  assert.equal(vals[0], "OK");
  assert.ok(vals[1] instanceof RespError && vals[1].message === "Key not found");
  assert.deepEqual(vals.slice(2, 5), [0, 1234567890123, -5]);
  assert.equal((vals[5] as Buffer).toString(), "hello");
  assert.equal(vals[6], null);
  assert.equal((vals[7] as unknown[]).length, 2);
});

test("format: data entries and index records round-trip and detect damage", () => {
  const key = Buffer.from("k\x00y"), value = Buffer.from("some value");
  const meta = { flags: 0, vlen: value.length, ts: 1700000000, vcrc: crc32(value), prevFile: 2, prevOff: 99 };
  const b = Buffer.alloc(dataEntrySize(key.length, value.length));
  writeDataEntry(b, 0, key, value, meta);
  const e = readDataEntry(b, 0, true)!;
  assert.deepEqual([e.key.toString("latin1"), e.vlen, e.ts, e.prevFile, e.prevOff], ["k\x00y", 10, 1700000000, 2, 99]);
  assert.equal(readDataEntry(b.subarray(0, b.length - 1), 0, true), null, "short entry");
  const bad = Buffer.from(b); bad[DATA_HEADER_SIZE + 5] ^= 1;
  assert.equal(readDataEntry(bad, 0, true), null, "value bit flip");
  const bad2 = Buffer.from(b); bad2[14] ^= 1;
  assert.equal(readDataEntry(bad2, 0, false), null, "header bit flip");
  const ib = Buffer.alloc(indexRecordSize(key.length));
  writeIndexRecord(ib, 0, key, 1234, { ...meta, flags: FLAG_DELETED });
  const r = readIndexRecord(ib, 0)!;
  assert.equal(r.dataOff, 1234); assert.equal(r.flags, FLAG_DELETED); assert.ok(r.key.equals(key));
  ib[8] ^= 0xff;
  assert.equal(readIndexRecord(ib, 0), null);
  assert.deepEqual(decodeLocation(encodeLocation(3, 77)), { file: 3, off: 77 });
  assert.equal(decodeLocation(Buffer.alloc(5)), null);
  assert.equal(crc32(Buffer.from("123456789")), 0xcbf43926);
});

test("keytable: insert, find, grow", () => {
  const t = new KeyTable(4);
  for (let i = 0; i < 5000; i++) { const s = t.insert(Buffer.from(`key-${i}`)); t.vlen[s] = i; }
  for (let i = 0; i < 5000; i++) { const s = t.find(Buffer.from(`key-${i}`)); assert.ok(s >= 0); assert.equal(t.vlen[s], i); }
  assert.equal(t.find(Buffer.from("nope")), -1);
  assert.equal(t.key(t.find(Buffer.from("key-42"))).toString(), "key-42");
});

test("parser: a big request of small arguments arriving in small reads costs linear copying", () => {
  // 1024 arguments of 8 KiB fed 4 KiB at a time: re-copying everything buffered on every read
  // (the old reader) moves ~8 GB here; growing one buffer by doubling moves a few tens of MB.
  const arg = Buffer.alloc(8 * 1024, 0x61);
  const frame = encodeCommand(Array.from({ length: 1024 }, (_, i) => (i === 0 ? Buffer.from("SET") : arg)));
  const r = new RequestReader();
  const shared = Buffer.alloc(4096);
  const t0 = process.hrtime.bigint();
  let got = 0;
  for (let p = 0; p < frame.length; p += shared.length) {
    const n = Math.min(shared.length, frame.length - p);
    frame.copy(shared, 0, p, p + n);
    r.feed(shared, true, n);
    for (let st = r.next(); st !== 0; st = r.next()) { assert.equal(st, 1); got++; assert.equal(r.frame.argc, 1024); }
    r.release();
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(got, 1);
  assert.ok(ms < 1500, `took ${ms} ms`);
});

test("parser: request limits — 1024 arguments, *0 and an empty line answered, oversize refused", () => {
  const p = new FrameParser();
  const parse = (s: string | Buffer) => { const b = Buffer.from(s); return p.parse(b, 0, b.length); };
  assert.equal(parse("*0\r\n"), PARSE_ERROR_SOFT); assert.equal(p.error, "Missing arguments"); assert.equal(p.skip, 4);
  assert.equal(parse("\r\n"), PARSE_ERROR_SOFT);
  assert.equal(parse("*1025\r\n"), PARSE_ERROR); assert.equal(p.error, "Too many arguments");
  assert.equal(parse("*1024\r\n"), PARSE_INCOMPLETE);
  assert.equal(parse(`*2\r\n$3\r\nSET\r\n$${MAX_BULK + 1}\r\n`), PARSE_ERROR);
  assert.equal(parse(`*3\r\n$3\r\nSET\r\n$${MAX_BULK}\r\n`), PARSE_INCOMPLETE, "one max-size argument is fine");
  const head = `*3\r\n$3\r\nSET\r\n$${MAX_BULK}\r\n${"x".repeat(MAX_BULK)}\r\n$${MAX_REQUEST - MAX_BULK}\r\n`;
  assert.equal(parse(head), PARSE_ERROR); assert.match(p.error, /request too large/);
});
