// Table properties of RocksDB SST files (the data of Flink's RocksDB native
// savepoints and incremental/full checkpoints, keyed handles 5 and 11), read
// with librocksdb's SstFileReader when the library was built with it
// (FSP_HAVE_ROCKSDB, Debian librocksdb-dev). Only the table's meta blocks are read:
// no key or value is decoded. Without librocksdb every read returns an error
// whose message is kUnavailableNote. See docs/states.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "flink_savepoint/result.h"

namespace fsp::rocksdb_sst {

inline constexpr const char* kUnavailableNote = "SST statistics need librocksdb (Debian librocksdb-dev)";

// True when compiled with librocksdb.
bool available();

// Version of the librocksdb linked in ("" without it).
std::string library_version();

struct SstProperties {
  std::string column_family;      // column_family_name ("default" for the default column family)
  int64_t column_family_id = -1;  // -1 when the file does not say
  int64_t entries = 0;            // num_entries: puts, deletions and merge operands
  int64_t deletions = 0;          // num_deletions (point deletions, single deletes included)
  int64_t merge_operands = 0;     // num_merge_operands (Flink list state appends)
  int64_t range_deletions = 0;    // num_range_deletions (not counted in entries)
  int64_t raw_key_bytes = 0;      // raw_key_size: internal keys, user key + 8 bytes each
  int64_t raw_value_bytes = 0;    // raw_value_size
  int64_t data_bytes = 0;         // data_size: data blocks as stored (after compression)
  int64_t file_bytes = 0;         // size of the SST file
  std::string compression;        // compression_name

  // Records that are not deletions: entries - deletions.
  int64_t live_entries() const { return entries - deletions; }
  // User key and value bytes of all records, uncompressed:
  // raw_key_bytes - 8 * entries + raw_value_bytes.
  int64_t user_bytes() const { return raw_key_bytes - 8 * entries + raw_value_bytes; }
};

// Opens one SST file (read-only) and returns its table properties: a local
// path, or a URI of a store (s3://, gs://), which librocksdb reads through the
// seam's ranged reads: the file's tail and index block, not its data blocks. Errors (kData) for files that are not SSTs, are corrupt, or were
// written in a format this librocksdb cannot read; kNoInput for absent files.
Result<SstProperties> read_file(const std::string& path);

// The same for SST bytes held in memory (inline handles in _metadata, segments
// of merged files). `name` is used in messages.
Result<SstProperties> read_bytes(std::string_view bytes, const std::string& name);

// Every record of one SST file (local path, or bytes held in memory when
// `path` is empty), in key order: user key and value. Deletions are not
// returned. `visit` returns false to stop early. Errors as for read_file().
using EntryVisitor = bool (*)(void* ctx, std::string_view key, std::string_view value);
Result<SstProperties> for_each_entry(const std::string& path, std::string_view bytes, const std::string& name,
                                     void* ctx, EntryVisitor visit);

// True for the local file names of SST files in incremental handles
// ("000012.sst").
bool is_sst_name(std::string_view local_path);

}  // namespace fsp::rocksdb_sst
