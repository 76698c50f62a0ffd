// The browser code, bundled by esbuild when the explorer starts (0.1–0.3 s, including the start of esbuild's service; 15 KB minified), from the JavaScript
// tsc compiled beside this file: a plain `tsc` build is all the explorer needs, and the bundle can
// never be staler than the server that serves it. Kept in memory; served with its hash as ETag.
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { InternalError } from "../core/index.js";

export interface Asset { body: Buffer; type: string; etag: string }

export async function bundleApp(): Promise<Asset> {
  let esbuild: typeof import("esbuild");
  try { esbuild = await import("esbuild"); } catch (e) {
    throw new InternalError("esbuild is not installed: the explorer cannot bundle its browser code", "run ./scripts/setup.sh (npm ci installs it)", { cause: e });
  }
  const entry = fileURLToPath(new URL("./web/main.js", import.meta.url));
  const out = await esbuild.build({
    entryPoints: [entry], bundle: true, write: false, format: "iife", platform: "browser", target: "es2020", minify: true, legalComments: "none", logLevel: "silent",
  });
  // esbuild keeps a service process for the next build: there is none, so it goes now.
  await esbuild.stop();
  const body = Buffer.from(out.outputFiles[0].contents);
  return asset(body, "text/javascript; charset=utf-8");
}

export function asset(body: Buffer | string, type: string): Asset {
  const b = typeof body === "string" ? Buffer.from(body) : body;
  return { body: b, type, etag: `"${createHash("sha256").update(b).digest("hex").slice(0, 16)}"` };
}
