import { createServer } from "node:net";
import { UnavailableError } from "../core/index.js";

/** A TCP port free on `host` right now (the kernel picks it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new UnavailableError(`no free port on ${host}`))));
    });
  });
}
