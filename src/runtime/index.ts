// The process and its host, shared by every daemon and CLI: listener limits, the open-file limit,
// durable small files, process liveness, flag parsing and how a CLI ends. Depends on core only;
// every part may use it (it holds no state of any part).
export { type ListenerLimits, type ListenerLog, type GuardedListener, guardServer, HTTP_CHECK_INTERVAL_MS } from "./listener.js";
export { openFileLimit, raiseOpenFileLimit, connectionBudget } from "./fd-limit.js";
export { writeFileAtomic, writeFileAtomicSync, syncDir, readJson, ensureDir, removeFile } from "./atomic-file.js";
export { pidAlive } from "./pid.js";
export { intFlag } from "./flags.js";
export { exitStatusOf, reportCliError, runCli } from "./cli.js";
