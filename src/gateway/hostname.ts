// Host names a gateway serves: checked here, before they reach the proxy's configuration, so a
// name can never carry a space, a quote or a newline into it (the config is text).
import { ValidationError } from "../core/index.js";

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A lower-cased fully qualified host name (at least two labels, a letter-led last one), or a ValidationError. */
export function checkHostname(input: string, what = "host name"): string {
  const h = input.toLowerCase();
  if (h.length === 0 || h.length > 253) throw new ValidationError(`${what} "${input}" must be 1 to 253 characters`);
  const labels = h.split(".");
  if (labels.length < 2) throw new ValidationError(`${what} "${input}" is not fully qualified`, "use a name like www.example.org");
  for (const l of labels) {
    if (!LABEL.test(l)) throw new ValidationError(`${what} "${input}" has an invalid label "${l}"`, "labels are letters, digits and inner hyphens, 1 to 63 long");
  }
  if (!/^[a-z]/.test(labels[labels.length - 1]!)) throw new ValidationError(`${what} "${input}" does not end in a top-level domain`);
  return h;
}

/** The name a `gateway-name-proxy` serves on a gateway of `domain`: NAME.DOMAIN. */
export function fqdnOf(name: string, domain: string): string {
  // Workload names allow "_", host names do not: the name must be a single host label.
  if (!LABEL.test(name.toLowerCase())) throw new ValidationError(`gateway name "${name}" is not a valid host label`, "letters, digits and inner hyphens, at most 63");
  return checkHostname(`${name}.${checkHostname(domain, "gateway domain")}`);
}
