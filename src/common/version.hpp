#pragma once
// Version and product constants, in one place for every subcommand and protocol answer.
//
// Two versions, for two readers: clients of the LiveKit protocol gate features on the server
// version they are told (spec §10.1b: livekit-client refuses RPC below 1.8.0, disables dynacast
// for 0.15.1, and uses rid-based VP9/AV1 simulcast only above 1.13.6), so `server_info.version`
// carries the LiveKit release whose behaviour Parlor implements. Parlor's own release goes where
// no client gates on it: `server_info.debug_info`, `parlor version`, the HTTP Server header.
namespace parlor::version {

inline constexpr const char* kProduct = "parlor";
inline constexpr const char* kParlor = "0.2.0";
// The LiveKit server behaviour implemented: RPC and data streams (>= 1.8.0); not yet rid-based
// VP9/AV1 simulcast (which clients enable above 1.13.6).
inline constexpr const char* kLiveKitCompatible = "1.9.0";
// ServerInfo.protocol: the signalling protocol level spoken (spec §10.1).
inline constexpr int kSignalProtocol = 16;

}  // namespace parlor::version
