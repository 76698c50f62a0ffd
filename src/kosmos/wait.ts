// Following one contract until it settles: every workload of a version ok, one failed, the contract
// deleted or updated under us, or the time up. Event-driven (the ledger's stream), re-reading the
// contract on each of its events; one read at a time, with a re-check queued if events came meanwhile.
import { ConflictError, NotFoundError, TimeoutError } from "../core/index.js";
import type { LedgerClient } from "../ledger/client/index.js";
import { DeploymentFailed, type DeployProgress } from "./progress.js";
import { failureText, pendingText, settledState, signatureProgress, viewOf, type DeploymentView } from "./views.js";

export interface WaitOptions {
  /** Give up after this long (default 120 s): a TimeoutError (exit 12), the deployment may still settle. */
  timeoutMs?: number;
  /** Read the stream from this height (default 0: the contract's whole history). */
  from?: number;
  onProgress?: (p: DeployProgress) => void;
}

/** Resolves with the view once every workload of `version` is ok; rejects with DeploymentFailed
 *  (a workload in error, the contract deleted), ConflictError (a newer version), NotFoundError or
 *  TimeoutError. */
export function waitSettled(client: LedgerClient, contractId: number, version: number, opts: WaitOptions = {}): Promise<DeploymentView> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const progress = opts.onProgress ?? (() => {});
  return new Promise<DeploymentView>((resolve, reject) => {
    const seen = new Map<string, string>();
    let approvedSent = false;
    let lastSig = "";
    let busy = false, again = false, finished = false;
    let last: DeploymentView | null = null;
    const finish = (err: Error | null, v?: DeploymentView) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sub?.close();
      if (err) reject(err); else resolve(v as DeploymentView);
    };
    const check = async () => {
      if (busy) { again = true; return; }
      busy = true;
      try {
        do {
          again = false;
          const c = await client.contract(contractId);
          const v = viewOf(c);
          last = v;
          if (c.state === "deleted") return finish(new DeploymentFailed(`contract ${contractId} was deleted (${c.deletedReason ?? "cancelled"})`, v));
          if (c.deployment.version > version) return finish(new ConflictError(`contract ${contractId} was updated to version ${c.deployment.version} meanwhile`), v);
          if (!c.approved) {
            const sig = signatureProgress(c);
            const key = `${sig.weight}/${sig.waitingFor.join(",")}`;
            if (key !== lastSig) { lastSig = key; progress({ stage: "signatures", contractId, version, ...sig }); }
          } else if (!approvedSent) {
            approvedSent = true;
            progress({ stage: "approved", contractId, version: c.approvedVersion ?? version });
          }
          for (const w of v.workloads) {
            const key = `${w.state}:${w.message}`;
            if (c.approved && seen.get(w.name) !== key) {
              seen.set(w.name, key);
              progress({ stage: "workload", contractId, name: w.name, state: w.state, message: w.message });
            }
          }
          const settled = settledState(v);
          if (settled === "ok") return finish(null, v);
          if (settled === "error") return finish(new DeploymentFailed(`the node could not provision the deployment: ${failureText(v)}`, v));
        } while (again);
      } catch (e) {
        // The stream reconnects by itself; a failed read is retried on the next event.
        if (e instanceof NotFoundError) finish(e);
      } finally {
        busy = false;
      }
    };
    const timer = setTimeout(() => {
      finish(new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s: ${pendingText(last)}`, "the node may be down; see `kosmos show` and the node's log"));
    }, timeoutMs);
    const sub = client.subscribe({ contractId, from: opts.from ?? 0 }, (e) => { if (e.type !== "block") void check(); });
    void check();
  });
}
