// The user's WireGuard config for a network (what `wg-quick up` takes): the private key made on
// the user's machine, the relay node as the one peer, the whole range through it.
export interface AccessConfig {
  privateKey: string;
  address: string;
  ipRange: string;
  relay: { publicKey: string; endpoint: string };
}

export function accessConfigText(c: AccessConfig): string {
  const prefix = c.ipRange.split("/")[1];
  return [
    "[Interface]",
    `PrivateKey = ${c.privateKey}`,
    `Address = ${c.address}/${prefix}`,
    "",
    "[Peer]",
    `PublicKey = ${c.relay.publicKey}`,
    `Endpoint = ${c.relay.endpoint}`,
    `AllowedIPs = ${c.ipRange}`,
    "PersistentKeepalive = 25",
    "",
  ].join("\n");
}
