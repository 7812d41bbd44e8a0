#pragma once
// The recording_manifest table (domain/recording_manifest.hpp): reading the chain and appending
// to it. Several app instances on one PostgreSQL append in turn: the append takes a
// transaction-scoped advisory lock, so each reads the true last entry; seq is the primary key,
// so even a writer that bypassed the lock could not fork the chain.
#include <vector>

#include "app/domain/recording_manifest.hpp"
#include "app/store/database.hpp"

namespace parlor::app {

// Every entry in seq order.
std::vector<ManifestEntry> load_manifest(Database& db);

// Appends `e` (kind, recording, location, digest, at) after the last entry, inside the
// caller's transaction when there is one; returns the entry as stored.
ManifestEntry append_manifest(Database& db, ManifestEntry e);

}  // namespace parlor::app
