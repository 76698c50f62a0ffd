// Container addresses in a node's subnet (pure; the node checks the same rule in
// src/node/network/cidr.ts): an asked address is kept if it is a usable host of the subnet and not
// taken twice; the others get the lowest free ones in order (after the gateway, .1).
import { ValidationError } from "../../core/index.js";
import { intToIp, ipToInt, parseCidr } from "./cidr.js";

export function hostAddresses(subnet: string, wants: Array<{ name: string; ip?: string }>): Map<string, string> {
  const c = parseCidr(subnet);
  const first = c.base + 2, last = c.base + 2 ** (32 - c.prefix) - 2;
  const out = new Map<string, string>();
  const taken = new Set<number>();
  for (const w of wants) {
    if (!w.ip) continue;
    const ip = ipToInt(w.ip);
    if (ip < first || ip > last) throw new ValidationError(`container ${w.name}: address ${w.ip} is not a usable address of its node's subnet ${subnet}`, `use one of ${intToIp(first)}–${intToIp(last)}, or leave \`ip\` out`);
    if (taken.has(ip)) throw new ValidationError(`container ${w.name}: address ${w.ip} is taken by another container`);
    taken.add(ip);
    out.set(w.name, w.ip);
  }
  let next = first;
  for (const w of wants) {
    if (w.ip) continue;
    while (taken.has(next)) next++;
    if (next > last) throw new ValidationError(`subnet ${subnet} has no address left for container ${w.name}`);
    taken.add(next);
    out.set(w.name, intToIp(next));
  }
  return out;
}
