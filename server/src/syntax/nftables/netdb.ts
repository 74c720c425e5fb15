// Service and protocol names as nft resolves them: getaddrinfo and getprotobyname read
// /etc/services and /etc/protocols (Debian netbase's, see ../netbase.ts). A service name is looked
// up for any protocol, so it is the first port any protocol gives it; a name missing here makes nft
// fail with "Could not resolve service".
import { DDP_SERVICES, netbaseTable, PROTOCOLS as PROTOCOL_NAMES, SCTP_SERVICES, TCP_SERVICES, UDP_SERVICES } from '../netbase';

export const SERVICES: ReadonlyMap<string, number> = netbaseTable([TCP_SERVICES, UDP_SERVICES, SCTP_SERVICES, DDP_SERVICES].join(' '));

export const PROTOCOLS: ReadonlyMap<string, number> = netbaseTable(PROTOCOL_NAMES);
