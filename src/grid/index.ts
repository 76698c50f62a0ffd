// The local grid launcher: a whole grid on one machine, for the demo and the end-to-end tests.
export { main, buildProgram } from "./cli.js";
export { gridUp, type UpOptions, type UpReport, EXAMPLE_PASSWORD_ENV, EXAMPLE_FLIST_ENV } from "./up.js";
export { gridDown, type DownReport } from "./down.js";
export { gridStatus, type StatusReport } from "./status.js";
export { gridNet, nodeNet, gridTag, type GridNet, type NodeNet } from "./naming.js";
