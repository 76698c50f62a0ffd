// Certificates from an ACME CA (pebble on the local grid, Let's Encrypt on a real one) with Debian's
// `lego` as the client: it answers the CA's HTTP-01 challenge on a loopback port that HAProxy
// routes /.well-known/acme-challenge/ to, and writes the certificate and key, which become the one
// PEM file HAProxy's crt-list names.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { DeploymentFailedError, UnavailableError } from "../../core/index.js";
import { ensureDir, writeFileAtomic } from "../../runtime/index.js";

export interface AcmeConfig {
  /** The CA's directory URL, e.g. https://127.0.0.1:14000/dir (pebble) or Let's Encrypt's. */
  directory: string;
  email: string;
  /** PEM file of CAs to trust for the directory's own HTTPS (pebble's test certificate). */
  caCertificates?: string;
  /** Loopback port lego listens on for the challenge (HAProxy forwards to it). */
  challengePort: number;
  legoBin?: string;
}

/** Obtain (or renew, when less than 30 days remain) a certificate for `fqdn`; resolves with the PEM (chain + key) path. */
export async function obtainCertificate(c: AcmeConfig, stateDir: string, fqdn: string, timeoutMs = 60_000): Promise<string> {
  const path = join(stateDir, "acme");
  await ensureDir(path);
  const base = ["--server", c.directory, "--email", c.email, "--accept-tos", "--path", path, "--domains", fqdn, "--key-type", "ec256",
    "--http", "--http.port", `127.0.0.1:${c.challengePort}`];
  const crt = join(path, "certificates", `${fqdn}.crt`), key = join(path, "certificates", `${fqdn}.key`);
  const have = await readFile(crt, "utf8").then(() => true, () => false);
  await lego(c, have ? [...base, "renew", "--days", "30", "--no-random-sleep"] : [...base, "run"], fqdn, timeoutMs);
  const pem = join(stateDir, "certs", `${fqdn}.pem`);
  await ensureDir(join(stateDir, "certs"));
  await writeFileAtomic(pem, (await readFile(crt, "utf8")) + (await readFile(key, "utf8")));
  return pem;
}

function lego(c: AcmeConfig, args: string[], fqdn: string, timeoutMs: number): Promise<void> {
  const env = { ...process.env, ...(c.caCertificates ? { LEGO_CA_CERTIFICATES: c.caCertificates } : {}) };
  return new Promise((resolve, reject) => {
    execFile(c.legoBin ?? "lego", args, { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve();
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === "ENOENT") return reject(new UnavailableError(`cannot run ${c.legoBin ?? "lego"}`, "install lego (scripts/setup.sh)", { cause: err }));
      // lego's last lines carry the CA's own refusal (urn:ietf:params:acme:error:…).
      const why = `${stdout}${stderr}`.trim().split("\n").slice(-3).join(" ").slice(0, 800);
      reject(new DeploymentFailedError(`the ACME CA did not issue a certificate for ${fqdn}: ${e.killed ? "timed out" : why}`, "check that the name resolves to this gateway and that the CA accepts it", { cause: err }));
    });
  });
}
