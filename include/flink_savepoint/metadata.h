// Decoding and encoding of Flink's _metadata (metadata versions 2 to 7).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"

namespace fsp {

inline constexpr int32_t kMetadataMagic = 0x4960672D;
inline constexpr int32_t kMasterStateMagic = static_cast<int32_t>(0xC96B1696);

struct DecodeOptions {
  // Also parse the v4+ CheckpointProperties trailer (cheap; on by default).
  bool parse_properties = true;
};

// Decodes `bytes` into a Snapshot whose views point into `bytes`. The caller
// keeps the bytes alive (or sets Snapshot::backing).
Result<Snapshot> decode_metadata(std::string_view bytes, const DecodeOptions& options = {});

// Encodes the snapshot with its own metadata version. decode then encode gives
// back the same bytes. Fails for values the format cannot hold (a string over
// 65535 bytes).
Result<std::string> encode_metadata(const Snapshot& snapshot);

// The same bytes, streamed: `sink` gets consecutive pieces (about 1 MiB each,
// split between subtasks), so that no second copy of the file is held. An
// error from the sink stops the encoding and is returned.
Status encode_metadata_to(const Snapshot& snapshot, const std::function<Status(std::string_view)>& sink);

// Which Flink versions write/read a metadata version ("1.16 - 1.20").
std::string_view flink_versions_writing(int32_t metadata_version);

}  // namespace fsp
