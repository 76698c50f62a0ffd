// The in-memory index: an open-addressing hash table over a key arena with one typed array per field,
// so a million keys cost a few tens of MB and a lookup allocates nothing.

function hashBytes(b: Buffer, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = start, e = start + len; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

export class KeyTable {
  size = 0;
  private cap = 0;
  private arena: Buffer = Buffer.alloc(0);
  private arenaLen = 0;
  private keyOff = new Uint32Array(0);
  keyLen = new Uint8Array(0);
  private hashes = new Uint32Array(0);
  file = new Uint32Array(0);
  off = new Uint32Array(0);
  vlen = new Uint32Array(0);
  ts = new Uint32Array(0);
  vcrc = new Uint32Array(0);
  idxOff = new Uint32Array(0);
  flags = new Uint8Array(0);
  private buckets = new Int32Array(16);
  private mask = 15;

  constructor(initial = 1024) { this.growSlots(initial); }

  find(b: Buffer, start = 0, len = b.length): number {
    const h = hashBytes(b, start, len);
    let i = h & this.mask;
    for (;;) {
      const s = this.buckets[i] - 1;
      if (s < 0) return -1;
      if (this.hashes[s] === h && this.keyLen[s] === len && this.sameKey(s, b, start, len)) return s;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds a key known to be absent and returns its slot; the caller fills the fields. */
  insert(b: Buffer, start = 0, len = b.length): number {
    if (this.size >= this.cap) this.growSlots(this.cap * 2);
    if ((this.size + 1) * 2 > this.buckets.length) this.rehash(this.buckets.length * 2);
    const s = this.size++;
    const h = hashBytes(b, start, len);
    if (this.arenaLen + len > this.arena.length) {
      const na = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.arenaLen + len, 4096));
      this.arena.copy(na, 0, 0, this.arenaLen);
      this.arena = na;
    }
    b.copy(this.arena, this.arenaLen, start, start + len);
    this.keyOff[s] = this.arenaLen;
    this.keyLen[s] = len;
    this.arenaLen += len;
    this.hashes[s] = h;
    let i = h & this.mask;
    while (this.buckets[i] !== 0) i = (i + 1) & this.mask;
    this.buckets[i] = s + 1;
    return s;
  }

  key(s: number): Buffer { return this.arena.subarray(this.keyOff[s], this.keyOff[s] + this.keyLen[s]); }

  clear(): void {
    this.size = 0; this.arenaLen = 0;
    this.buckets = new Int32Array(16); this.mask = 15;
  }

  private sameKey(s: number, b: Buffer, start: number, len: number): boolean {
    const a = this.arena, o = this.keyOff[s];
    for (let i = 0; i < len; i++) if (a[o + i] !== b[start + i]) return false;
    return true;
  }

  private growSlots(n: number): void {
    const grow = <T extends Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const a = make(n); a.set(old); return a;
    };
    const u32 = (k: number) => new Uint32Array(k);
    this.keyOff = grow(this.keyOff, u32);
    this.hashes = grow(this.hashes, u32);
    this.file = grow(this.file, u32);
    this.off = grow(this.off, u32);
    this.vlen = grow(this.vlen, u32);
    this.ts = grow(this.ts, u32);
    this.vcrc = grow(this.vcrc, u32);
    this.idxOff = grow(this.idxOff, u32);
    this.keyLen = grow(this.keyLen, (k) => new Uint8Array(k));
    this.flags = grow(this.flags, (k) => new Uint8Array(k));
    this.cap = n;
  }

  private rehash(n: number): void {
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
    for (let s = 0; s < this.size; s++) {
      let i = this.hashes[s] & this.mask;
      while (this.buckets[i] !== 0) i = (i + 1) & this.mask;
      this.buckets[i] = s + 1;
    }
  }
}
