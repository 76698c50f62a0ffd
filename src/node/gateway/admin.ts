// HAProxy's admin socket (the stats socket, "level admin"): one command per connection, the reply
// read to its end. Used to know when a reload has taken effect.
import { connect } from "node:net";
import { UnavailableError } from "../../core/index.js";

export function adminCommand(socketPath: string, command: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let out = "";
    const t = setTimeout(() => { s.destroy(); reject(new UnavailableError(`haproxy admin socket did not answer "${command}" in ${timeoutMs} ms`)); }, timeoutMs);
    s.setEncoding("utf8");
    s.on("connect", () => s.end(`${command}\n`));
    s.on("data", (d: string) => { out += d; });
    s.on("error", (e) => { clearTimeout(t); reject(new UnavailableError(`haproxy admin socket: ${e.message}`, undefined, { cause: e })); });
    s.on("close", () => { clearTimeout(t); resolve(out); });
  });
}

/** The names of the backends the running worker has (its configuration's, so: which reload is live). */
export async function liveBackends(socketPath: string): Promise<string[]> {
  const text = await adminCommand(socketPath, "show backend");
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
}

/** Each server's operational state ("2" up, "0" down) by `backend/server`, from `show servers state`. */
export async function serverStates(socketPath: string): Promise<Map<string, number>> {
  const text = await adminCommand(socketPath, "show servers state");
  const out = new Map<string, number>();
  for (const l of text.split("\n")) {
    const f = l.trim().split(/\s+/);
    // be_id be_name srv_id srv_name srv_addr srv_op_state …
    if (f.length > 5 && /^\d+$/.test(f[0]!)) out.set(`${f[1]}/${f[3]}`, Number(f[5]));
  }
  return out;
}
