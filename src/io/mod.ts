/**
 * Fast packet I/O for IPCPs: UDP and AF_PACKET sockets served by Workers
 * (batched `recvmmsg`/`sendmmsg` through libc FFI) that exchange packets
 * with the caller's thread through SharedArrayBuffer rings.
 * @module
 */

export {
  type Datagram,
  type DatagramSocket,
  UdpSocket,
  type UdpSocketOptions,
  type UdpStats,
} from "./udp.ts";
export {
  type Frame,
  PacketSocket,
  type PacketSocketOptions,
  type PacketStats,
} from "./packet_socket.ts";
export { PacketRing, type RingOptions, type WaitResult } from "./ring.ts";
export { IoError } from "./libc.ts";
export { FakeUdpNetwork, type FakeUdpNetworkOptions, FakeUdpSocket } from "./udp_fake.ts";
export type { IpEndpoint } from "./sockaddr.ts";
