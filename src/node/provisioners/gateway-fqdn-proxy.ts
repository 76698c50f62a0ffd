// `gateway-fqdn-proxy`: serves the user's own domain (its DNS points at this gateway). One fqdn is
// served for one workload only: a second one asking for it is refused.
import { gatewayProvisioner, type GatewayHost } from "./gateway-shared.js";

export const createGatewayFqdnProvisioner = (host: GatewayHost) => gatewayProvisioner("gateway-fqdn-proxy", host);
