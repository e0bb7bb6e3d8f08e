// The file-system seam: every command reads and writes bytes through it.
// A store is one class implementing FileSystem, registered for its URI
// scheme(s); local files (and "-" for standard input/output) are built in.
//
// URIs: "/x", "file:/x" and "file:///x" are the same local path (as in Flink);
// "s3://bucket/key", "gs://bucket/key" go to their store when one is
// registered; any other scheme is refused with a "not supported" error that
// shows how to stream the file through standard input.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "flink_savepoint/result.h"

namespace fsp::io {

// Read-only bytes that stay valid as long as the Buffer lives (a mapping of a
// local file, or memory holding what was downloaded / read from a pipe).
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual std::string_view bytes() const = 0;
};

struct FileInfo {
  std::string uri;            // as given to list()/stat(), normalised (no trailing '/')
  uint64_t size = 0;
  int64_t mtime_ms = 0;       // modification time, ms since the epoch (0 = unknown)
  bool is_directory = false;  // a directory, or a common prefix of an object store
  bool is_regular = true;     // false: device, FIFO, socket, ... (never opened for reading)
  uint64_t device = 0, inode = 0;  // local files: identity (0 = unknown, e.g. objects)
};

// Ranged reads of one file (local: pread; object stores: ranged GET).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  virtual const std::string& uri() const = 0;
  virtual uint64_t size() const = 0;
  // Reads up to `length` bytes at `offset` into `out` (resized to what was
  // read; shorter only at the end of the file).
  virtual Status read_at(uint64_t offset, uint64_t length, std::string& out) = 0;
};

// A file being written. Nothing is visible under the target URI until
// commit() succeeds; destroying an uncommitted file discards it.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status append(std::string_view bytes) = 0;
  // Makes the bytes durable and visible under the target URI, atomically.
  virtual Status commit() = 0;
};

// Replaceable system calls of the local writer, so that tests can simulate a
// full disk or a failing rename. Unset members use the real call.
struct WriteHooks {
  std::function<ssize_t(int fd, const void* data, size_t n)> write;
  std::function<int(int fd)> fsync;
  std::function<int(const char* from, const char* to)> rename;
};

struct WriteOptions {
  bool overwrite = false;        // replace an existing target (only a regular file/object, never a link target's type change)
  std::string backup_uri;        // when set and the target exists: keep the old bytes there first
  // Called with the complete new bytes as they will become visible (local:
  // read back from the temporary file after fsync) before the target is
  // replaced; an error aborts the write and leaves the target untouched.
  std::function<Status(std::string_view written)> verify;
  WriteHooks hooks;              // local files only
};

struct ReadOptions {
  // Refuse files larger than this (0 = no limit): the caller knows what the
  // format needs (e.g. a state handle's stated size).
  uint64_t max_bytes = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // URI schemes served, e.g. {"file"} or {"s3", "gs"}.
  virtual std::vector<std::string> schemes() const = 0;

  virtual Result<FileInfo> stat(const std::string& uri) = 0;
  // Entries directly below (recursive = false) or anywhere below a directory/prefix.
  virtual Result<std::vector<FileInfo>> list(const std::string& uri, bool recursive) = 0;
  // The whole file. Local regular files are memory-mapped; anything that is
  // not a regular file is refused (devices, FIFOs, sockets), except "-".
  virtual Result<std::shared_ptr<const Buffer>> read(const std::string& uri, const ReadOptions& options = {}) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> open(const std::string& uri) = 0;
  virtual Result<std::unique_ptr<WritableFile>> create(const std::string& uri, const WriteOptions& options = {}) = 0;
  virtual Status remove(const std::string& uri) = 0;
  // Copies the file `from` (of `size` bytes) to `to`, both served by this
  // file system, without moving the bytes through this process (object
  // stores: a server-side copy). Returns false when this file system cannot
  // (the default): the caller then reads and writes. Like create() +
  // commit(), `to` is replaced as a whole or not at all.
  virtual Result<bool> copy(const std::string& from, const std::string& to, uint64_t size) {
    (void)from, (void)to, (void)size;
    return false;
  }
};

// The file system serving `uri` (scheme lookup; plain paths and file: URIs are local).
Result<FileSystem*> file_system_for(std::string_view uri);
// Adds a store; its schemes() are routed to it from then on.
void register_file_system(std::shared_ptr<FileSystem> fs);

// Conveniences over file_system_for().
Result<std::shared_ptr<const Buffer>> read_file(const std::string& uri, const ReadOptions& options = {});
Status write_file_atomic(const std::string& uri, std::string_view bytes, const WriteOptions& options = {});

// "file:/x" and "file:///x" -> "/x"; other URIs unchanged.
std::string normalize_local(std::string_view uri);
// The scheme of a URI ("" for a plain path), lower-case.
std::string uri_scheme(std::string_view uri);
// Parent "directory" of a path or URI, and joining a relative path onto one.
std::string parent_uri(std::string_view uri);
std::string join_uri(std::string_view directory, std::string_view relative);

}  // namespace fsp::io
