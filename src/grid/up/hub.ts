// Launch step 5: the flist hub and the 0-db holding its chunks (host side, on the bridge so the
// nodes fetch from it), and the example's flist published on it once, as the demo user.
//
// The hub's 0-db runs with an admin password and --protect: anyone on the bridge may read (flists
// are public), only the hub writes. The password is made once, kept 0600 in DIR/hub/zdb.password,
// and given to both daemons through their environment, never their command line (ps shows it).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError, type KeyPair } from "../../core/index.js";
import { HubClient, HUB_PASSWORD_ENV, publishExampleFlist } from "../../flist/index.js";
import { freePort } from "../ports.js";
import { runningPid, startDaemon } from "../procs.js";
import { BIN, EXAMPLE_FLIST_NAME, type Step } from "./common.js";

/** zdb reads its admin password from here (zhub its store's password from HUB_PASSWORD_ENV). */
const ZDB_ADMIN_ENV = "ZDB_ADMIN";

/** Ports kept in grid.json so flist addresses stay valid across down/up. */
export async function upHub({ L, state, env, note }: Step, host: string): Promise<{ url: string }> {
  state.hub ??= { host, port: await freePort(host), zdbPort: await freePort(host), url: "" };
  const h = state.hub;
  h.url = `http://${h.host}:${h.port}`;
  L.save(state);
  mkdirSync(L.hubData, { recursive: true, mode: 0o700 });
  const password = L.secretFile(L.hubPasswordFile);
  if (runningPid(L.run, "hub-zdb") === null) {
    note(`starting the hub's 0-db on ${h.host}:${h.zdbPort} (writable only with the password in ${L.hubPasswordFile})`);
    await startDaemon({
      name: "hub-zdb", command: process.execPath, env: { ...env, [ZDB_ADMIN_ENV]: password }, logDir: L.logs, runDir: L.run,
      args: [BIN("zdb"), "--listen", h.host, "--port", String(h.zdbPort), "--data", join(L.hubData, "data"), "--index", join(L.hubData, "index"), "--protect"],
      ready: (line) => (/listening on .* port \d+/.test(line) ? true : undefined),
    });
  }
  if (runningPid(L.run, "zhub") === null) {
    note(`starting the flist hub on ${h.url}`);
    await startDaemon({
      name: "zhub", command: process.execPath, env: { ...env, [HUB_PASSWORD_ENV]: password }, logDir: L.logs, runDir: L.run,
      args: [BIN("zhub"), "--host", h.host, "--port", String(h.port), "--zdb", `${h.host}:${h.zdbPort}`],
    });
  } else note(`flist hub already running on ${h.url}`);
  return { url: h.url };
}

/** Publishes the example; on failure, says whether the hub or its 0-db died, with its log's end. */
export async function upExampleFlist(step: Step, keys: KeyPair): Promise<{ address: string; entrypoint: string }> {
  const { L } = step;
  const tail = (n: string) => { try { return readFileSync(join(L.logs, `${n}.log`), "utf8").trimEnd().split("\n").filter((l) => !l.startsWith("{")).slice(-8).join("\n"); } catch { return ""; } };
  const dead = () => ["hub-zdb", "zhub"].filter((n) => runningPid(L.run, n) === null);
  try {
    return await ensureExampleFlist(step, keys);
  } catch (e) {
    // A daemon that failed may take a moment to exit: give it that before looking.
    for (const end = Date.now() + 1000; !dead().length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    const why = dead().map((n) => `\n${n} is not running; its log (${join(L.logs, `${n}.log`)}) ends:\n${tail(n)}`).join("");
    throw new UnavailableError(`publishing the example flist failed: ${(e as Error).message}${why}`, "run ./bin/grid down, then up again; the logs above say what failed", { cause: e });
  }
}

/** The example flist (busybox httpd) on the hub: published the first time, found afterwards (a
 *  record the hub no longer vouches for, e.g. one from before records were signed, is published
 *  again). */
async function ensureExampleFlist({ state, note }: Step, keys: KeyPair): Promise<{ address: string; entrypoint: string }> {
  const hubUrl = state.hub!.url;
  const have = state.hub!.example;
  if (have) {
    const listed = await new HubClient(hubUrl).list().catch(() => []);
    if (listed.some((r) => r.owner === keys.publicKey && r.name === EXAMPLE_FLIST_NAME && r.hash === have.hash)) return have;
  }
  note(`building the example flist (busybox httpd) and publishing it as ${EXAMPLE_FLIST_NAME}`);
  const r = await publishExampleFlist({ hub: hubUrl, keys, name: EXAMPLE_FLIST_NAME, onProgress: (m) => note(`  ${m}`) });
  state.hub!.example = { address: r.address, hash: r.hash, entrypoint: r.entrypoint };
  note(`  ${r.address} (${r.files} files, ${r.size} bytes)`);
  return state.hub!.example;
}
