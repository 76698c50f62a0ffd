// The flist part's only door: the format, the builder, the hub (server and client), the node-side
// cache, the example flist, and `main` for bin/zhub.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KeyPair } from "../core/index.js";
import { buildFlist, type BuildOptions } from "./build.js";
import { HubClient, HubUploader } from "./client.js";
import { flistHash, flistStats, type Flist } from "./format.js";
import { layoutExampleFolder, EXAMPLE_ENTRYPOINT } from "./example.js";

export * from "./format.js";
export { readTar, writeTar, tarHeader, type TarEntry, type TarWriteEntry } from "./tar.js";
export { buildFlist, buildFromFolder, buildFromImage, type ChunkSink, type BuildOptions } from "./build.js";
export { HubClient, HubUploader, fetchFlist, parseFlistAddress, type FlistAddress } from "./client.js";
export { FlistCache, progressMessage, type CachedFlist, type EnsureOptions } from "./cache.js";
export { signPublish, checkPublish, checkSignedPublish, checkNameRecord, flistNameSchema, PUBLISH_HEADER, type PublishRequest } from "./publish.js";
export { HubStore, parseHostPort, HUB_PASSWORD_ENV, type NameRecord, type ZdbAddress } from "./hub-store.js";
export { createHubServer, type HubOptions } from "./server.js";
export { layoutExampleFolder, EXAMPLE_ENTRYPOINT, EXAMPLE_PAGE, BUSYBOX } from "./example.js";
export { main } from "./main.js";
export { readShippedLogs, type LogTargetAddress, type ShippedLine } from "./logs.js";

export interface PublishResult {
  /** http://HUB/flists/OWNER/NAME#HASH: pinned, so a node verifies the document too. */
  address: string;
  hash: string;
  size: number;
  files: number;
  uploadedChunks: number;
  uploadedBytes: number;
  skippedChunks: number;
  flist: Flist;
}

/** `kosmos flist build SOURCE --name NAME`: build a folder or image archive, upload what the hub lacks, publish. */
export async function buildAndPublish(source: string, o: { hub: string; keys: KeyPair; name: string } & BuildOptions): Promise<PublishResult> {
  const hub = new HubClient(o.hub);
  const up = new HubUploader(hub);
  const flist = await buildFlist(source, up, o);
  const rec = await hub.publish(o.keys, o.name, flist);
  const hash = flistHash(flist);
  const st = flistStats(flist);
  return { address: `${rec.address}#${hash}`, hash, size: st.size, files: st.files, uploadedChunks: up.uploaded, uploadedBytes: up.uploadedBytes, skippedChunks: up.skipped, flist };
}

/** Builds and publishes the example (busybox httpd) flist as NAME (default "hello-httpd"). */
export async function publishExampleFlist(o: { hub: string; keys: KeyPair; name?: string; page?: string; onProgress?: (m: string) => void }): Promise<PublishResult & { entrypoint: string }> {
  const dir = await mkdtemp(join(tmpdir(), "example-flist-"));
  try {
    await layoutExampleFolder(join(dir, "root"), { page: o.page });
    const r = await buildAndPublish(join(dir, "root"), { hub: o.hub, keys: o.keys, name: o.name ?? "hello-httpd", onProgress: o.onProgress });
    return { ...r, entrypoint: EXAMPLE_ENTRYPOINT };
  } finally { await rm(dir, { recursive: true, force: true }); }
}
