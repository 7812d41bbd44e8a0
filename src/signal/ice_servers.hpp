#pragma once
// The ICE servers a participant is told about in JoinResponse and ReconnectResponse: this node's
// own TURN (turn.enabled: TURN/UDP and TURN/TLS on the worker, relaying only to its media
// address) and the external servers of rtc.turn_servers, each with credentials for this
// participant that expire after turn.credential_ttl; and whether clients must relay.
#include <cstdint>
#include <string_view>

#include "common/config/media_config.hpp"
#include "livekit_models.pb.h"
#include "livekit_rtc.pb.h"

namespace parlor::signal {

// What the worker actually serves (0 = a listener is not running).
struct TurnListeners {
  std::string_view advertised_ip;
  uint16_t udp_port = 0;
  uint16_t tls_port = 0;
};

void fill_ice_servers(const config::MediaConfig& config, const TurnListeners& listeners,
                      std::string_view participant, int64_t now_unix,
                      google::protobuf::RepeatedPtrField<livekit::ICEServer>& out);

void fill_client_configuration(const config::MediaConfig& config, livekit::ClientConfiguration& out);

}  // namespace parlor::signal
