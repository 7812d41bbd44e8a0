#pragma once
// From `turn:` in the media config to the worker's TURN listeners: the TLS context from
// turn.cert_file / turn.key_file (or none with external_tls), the credential secret (a random one
// per process when none is configured), the limits.
#include <optional>

#include "common/config/media_config.hpp"
#include "sfu/worker.hpp"

namespace parlor::service {

// Fills config.turn.secret when TURN is on and no secret is configured. Call once, before any
// participant can be given credentials.
void ensure_turn_secret(config::MediaConfig& config);

// nullopt when TURN is off. Throws parlor::BadInput when the certificate or key cannot be loaded.
std::optional<sfu::Worker::TurnOptions> turn_options(const config::MediaConfig& config);

}  // namespace parlor::service
