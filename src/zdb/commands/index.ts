// The command set of 0-db, one registry over the command families: names, arguments, reply types
// and error texts follow the real server.
import type { Command } from "./common.js";
import { KEYS } from "./keys.js";
import { NAMESPACES } from "./namespaces.js";
import { REPLICATION } from "./replication.js";
import { SCAN } from "./scan.js";
import { SYSTEM } from "./system.js";

export { type Command, type Handler, type FastHandler, hashPassword, MAX_VALUE } from "./common.js";

export const COMMANDS: Command[] = [...SYSTEM, ...KEYS, ...SCAN, ...NAMESPACES, ...REPLICATION];
