// Builders' door: sandbox binaries from this machine into a root file system (then an flist).
export { sandboxTree, type SandboxResult } from "./sandbox.js";
export { parseLdd, librariesOrFail, type LddResult } from "./ldd.js";
