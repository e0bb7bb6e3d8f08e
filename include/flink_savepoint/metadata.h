// Decoding and encoding of Flink's _metadata (metadata versions 2 to 7).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/model.h"
#include "flink_savepoint/result.h"
#include "flink_savepoint/walk.h"

namespace fsp {

inline constexpr int32_t kMetadataMagic = 0x4960672D;
inline constexpr int32_t kMasterStateMagic = static_cast<int32_t>(0xC96B1696);

struct DecodeOptions {
  // Also parse the v4+ CheckpointProperties trailer (cheap; on by default).
  bool parse_properties = true;
};

// Decodes `bytes` into a Snapshot whose views point into `bytes`. The caller
// keeps the bytes alive (or sets Snapshot::backing); prefer the overload below.
Result<Snapshot> decode_metadata(std::string_view bytes, const DecodeOptions& options = {});
// Decodes a buffer and keeps it as the snapshot's backing: nothing to remember.
Result<Snapshot> decode_metadata(std::shared_ptr<const io::Buffer> bytes, const DecodeOptions& options = {});

// Encodes the snapshot with its own metadata version. decode then encode gives
// back the same bytes. Fails for values the format cannot hold (a string over
// 65535 bytes).
Result<std::string> encode_metadata(const Snapshot& snapshot);

// The same bytes, streamed: `sink` gets consecutive pieces (about 1 MiB each,
// split between subtasks), so that no second copy of the file is held. An
// error from the sink stops the encoding and is returned.
Status encode_metadata_to(const Snapshot& snapshot, const std::function<Status(std::string_view)>& sink);

// A string written in place of a stored path: head + tail (views that stay
// valid during the call), and for a code-2 handle, relative = true to write it
// as a code-6 (relative) handle.
struct PathRewrite {
  Str head, tail;
  bool relative = false;
};
// Called while encoding for every stream handle path of codes 1 (kInlineName),
// 2 (kAbsoluteFile) and 15 (kSegmentFile) and every code-17 directory string
// (kDirectory); returns false to write the string as stored. The model is not
// changed: relocate streams its result this way (plan_relocation in
// relocate.h) instead of storing every new path.
using PathRewriter = std::function<bool(Str path, PathKind kind, PathRewrite& out)>;
// encode_metadata_to with the strings `rewrite` replaces (an empty rewriter
// writes the snapshot as it is). Fails like encode_metadata for a string over
// 65535 bytes.
Status encode_metadata_to(const Snapshot& snapshot, const std::function<Status(std::string_view)>& sink,
                          const PathRewriter& rewrite);

// --- Metadata versions -----------------------------------------------------------
// The one table of metadata versions and the Flink versions that write and
// read each: used by the decoder, `check`, `inspect`, and docs/format.md
// (a test compares the docs' table with it).

struct FlinkVersion {
  int major = -1, minor = -1;  // -1: none (an open end)
  constexpr bool known() const { return major >= 0; }
  constexpr bool operator<(const FlinkVersion& o) const { return major != o.major ? major < o.major : minor < o.minor; }
  constexpr bool operator==(const FlinkVersion& o) const { return major == o.major && minor == o.minor; }
  std::string str() const { return std::to_string(major) + "." + std::to_string(minor); }
};

struct MetadataVersionInfo {
  int32_t version;
  FlinkVersion first_writer, last_writer;  // Flink releases that write it (last unknown: still written)
  FlinkVersion first_reader;               // the first Flink release that reads it
  FlinkVersion last_reader;                // the last one that reads it (unknown: every newer release)
  bool decoded;                            // this tool decodes it
  bool verified;                           // checked against files Flink wrote
  std::string_view written_by;             // for messages: "Flink 1.16 - 1.20"
  std::string_view refusal_hint;           // versions Flink no longer reads: what to do instead
};

inline constexpr MetadataVersionInfo kMetadataVersions[] = {
    {0, {1, 1}, {1, 1}, {1, 1}, {1, 3}, false, false, "Flink 1.1",
     "restore it with Flink 1.2 or 1.3 and take a new savepoint; then upgrade step by step (a Flink 1.3 to 1.10 "
     "savepoint restores on current Flink)"},
    {1, {1, 2}, {1, 2}, {1, 2}, {1, 10}, false, true, "Flink 1.2",
     "restore it with Flink 1.3 to 1.10 and take a new savepoint"},
    {2, {1, 3}, {1, 10}, {1, 3}, {}, true, true, "Flink 1.3 - 1.10", ""},
    {3, {1, 11}, {1, 15}, {1, 11}, {}, true, true, "Flink 1.11 - 1.15", ""},
    {4, {1, 16}, {1, 20}, {1, 16}, {}, true, true, "Flink 1.16 - 1.20", ""},
    {5, {2, 0}, {2, 0}, {2, 0}, {}, true, true, "Flink 2.0", ""},
    {6, {2, 1}, {}, {2, 1}, {}, true, true, "Flink 2.1+", ""},
    {7, {2, 3}, {}, {2, 3}, {}, true, false, "Flink 2.x (regional checkpoints, unverified)", ""},
};
inline constexpr int32_t kFirstDecodedVersion = 2;
inline constexpr int32_t kLastDecodedVersion = 7;

// The row of a metadata version, or null for a version no Flink writes.
const MetadataVersionInfo* metadata_version_info(int32_t metadata_version);

// Which Flink versions write a metadata version ("Flink 1.16 - 1.20"; "unknown").
std::string_view flink_versions_writing(int32_t metadata_version);

}  // namespace fsp
