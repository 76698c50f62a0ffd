// `gateway-name-proxy`: serves NAME.DOMAIN on this gateway node. The ledger has already checked
// that the name is the contract owner's (name contract, first come); the node checks the rest.
import { gatewayProvisioner, type GatewayHost } from "./gateway-shared.js";

export const createGatewayNameProvisioner = (host: GatewayHost) => gatewayProvisioner("gateway-name-proxy", host);
