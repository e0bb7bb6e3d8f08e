// RocksDB SST table properties through librocksdb (rocksdb_sst.h).
#include "flink_savepoint/rocksdb_sst.h"

#include "flink_savepoint/file_system.h"

#if FSP_HAVE_ROCKSDB
#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table_properties.h>
#include <rocksdb/version.h>
#endif

namespace fsp::rocksdb_sst {

bool is_sst_name(std::string_view p) { return p.size() > 4 && p.substr(p.size() - 4) == ".sst"; }

#if FSP_HAVE_ROCKSDB

bool available() { return true; }

std::string library_version() {
  return std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." + std::to_string(ROCKSDB_PATCH);
}

namespace {

// Flink's RocksDB list state appends elements as merge operands, joined by ','
// (its StringAppendTESTOperator); reading them needs the same operator.
class ListAppendOperator : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value, std::string* out,
             rocksdb::Logger*) const override {
    out->clear();
    if (existing) {
      out->assign(existing->data(), existing->size());
      out->push_back(',');
    }
    out->append(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "StringAppendTESTOperator"; }
};

int64_t as_i64(uint64_t v) { return v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v); }

// --- SST files on a store: librocksdb reads them through the seam ---------------------
// A rocksdb FileSystem that serves one file, the SST, from the seam's
// RandomAccessFile (ranged GETs on s3:// and gs://), so that librocksdb fetches
// only what it reads to open the table: the footer, the meta index, the
// properties and the index block, never the data blocks. Before the footer,
// librocksdb asks to prefetch the file's tail (up to 512 KiB); only its last
// kTailWindow bytes are fetched, in one request: the footer, meta index and
// properties block sit at the very end of a block-based table, and a small
// file is read whole in that one request. Every other read is one ranged read.

constexpr uint64_t kTailWindow = 16 << 10;

class SeamRandomAccessFile : public rocksdb::FSRandomAccessFile {
 public:
  SeamRandomAccessFile(std::shared_ptr<io::RandomAccessFile> file, std::shared_ptr<std::optional<Error>> error)
      : file_(std::move(file)), error_(std::move(error)) {}

  rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions&, rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext*) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t size = file_->size();
    if (offset >= size || n == 0) {
      *result = rocksdb::Slice(scratch, 0);
      return rocksdb::IOStatus::OK();
    }
    size_t len = static_cast<size_t>(std::min<uint64_t>(n, size - offset));
    if (offset >= tail_start_ && offset + len <= tail_start_ + tail_.size()) {
      std::memcpy(scratch, tail_.data() + (offset - tail_start_), len);
      *result = rocksdb::Slice(scratch, len);
      return rocksdb::IOStatus::OK();
    }
    std::string got;
    if (Status s = file_->read_at(offset, len, got); !s) return fail(s.error());
    std::memcpy(scratch, got.data(), got.size());
    *result = rocksdb::Slice(scratch, got.size());
    return rocksdb::IOStatus::OK();
  }

  rocksdb::IOStatus Prefetch(uint64_t offset, size_t n, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t size = file_->size();
    uint64_t end = std::min<uint64_t>(size, offset + n);
    if (offset >= end) return rocksdb::IOStatus::OK();
    uint64_t start = std::max<uint64_t>(offset, end > kTailWindow ? end - kTailWindow : 0);
    std::string got;
    if (Status s = file_->read_at(start, end - start, got); !s) return fail(s.error());
    tail_ = std::move(got);
    tail_start_ = start;
    return rocksdb::IOStatus::OK();
  }

 private:
  rocksdb::IOStatus fail(const Error& e) const {
    if (!*error_) *error_ = e;
    return rocksdb::IOStatus::IOError(e.message);
  }

  std::shared_ptr<io::RandomAccessFile> file_;
  std::shared_ptr<std::optional<Error>> error_;  // the first error of the seam, kept with its kind
  mutable std::mutex mutex_;
  mutable std::string tail_;
  mutable uint64_t tail_start_ = 0;
};

class SeamFileSystem : public rocksdb::FileSystemWrapper {
 public:
  static constexpr const char* kPath = "/fsp/seam.sst";
  SeamFileSystem(std::shared_ptr<io::RandomAccessFile> file, std::shared_ptr<std::optional<Error>> error)
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()), file_(std::move(file)), error_(std::move(error)) {}
  const char* Name() const override { return "FlinkSavepointSeam"; }

  rocksdb::IOStatus NewRandomAccessFile(const std::string& f, const rocksdb::FileOptions&,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* r,
                                        rocksdb::IODebugContext*) override {
    if (f != kPath) return rocksdb::IOStatus::NotFound(f);
    r->reset(new SeamRandomAccessFile(file_, error_));
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus GetFileSize(const std::string& f, const rocksdb::IOOptions&, uint64_t* size,
                                rocksdb::IODebugContext*) override {
    if (f != kPath) return rocksdb::IOStatus::NotFound(f);
    *size = file_->size();
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus FileExists(const std::string& f, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return f == kPath ? rocksdb::IOStatus::OK() : rocksdb::IOStatus::NotFound(f);
  }

 private:
  std::shared_ptr<io::RandomAccessFile> file_;
  std::shared_ptr<std::optional<Error>> error_;
};

Result<SstProperties> read_with(rocksdb::Env* env, const std::string& path, const std::string& name, uint64_t size,
                                void* ctx, EntryVisitor visit);

// The table properties of an SST on a store, through ranged reads.
Result<SstProperties> read_ranged(std::shared_ptr<io::RandomAccessFile> file, const std::string& name) {
  auto error = std::make_shared<std::optional<Error>>();
  uint64_t size = file->size();
  std::unique_ptr<rocksdb::Env> env;
  try {
    env = rocksdb::NewCompositeEnv(std::make_shared<SeamFileSystem>(std::move(file), error));
  } catch (const std::exception& e) {
    return Error::io("SST " + name + ": cannot create a librocksdb environment: " + e.what());
  }
  if (!env) return Error::io("SST " + name + ": cannot create a librocksdb environment");
  auto r = read_with(env.get(), SeamFileSystem::kPath, name, size, nullptr, nullptr);
  if (!r && *error) {
    // The store's own error (403, 404, timeouts) with its kind and hint, not librocksdb's retelling.
    Error e = **error;
    e.message = "SST " + name + ": " + e.message;
    return e;
  }
  return r;
}

Result<SstProperties> read_with(rocksdb::Env* env, const std::string& path, const std::string& name, uint64_t size,
                                void* ctx, EntryVisitor visit) {
  try {
    rocksdb::Options options;
    options.env = env;
    options.paranoid_checks = true;
    if (visit) options.merge_operator = std::make_shared<ListAppendOperator>();
    rocksdb::SstFileReader reader(options);
    rocksdb::Status s = reader.Open(path);
    if (!s.ok())
      return Error::data("SST " + name + " cannot be read by librocksdb " + library_version() + ": " + s.ToString());
    std::shared_ptr<const rocksdb::TableProperties> p = reader.GetTableProperties();
    if (!p) return Error::data("SST " + name + " has no table properties");
    SstProperties out;
    out.column_family = p->column_family_name;
    out.column_family_id = p->column_family_id == rocksdb::TablePropertiesCollectorFactory::Context::kUnknownColumnFamily
                               ? -1
                               : static_cast<int64_t>(p->column_family_id);
    out.entries = as_i64(p->num_entries);
    out.deletions = as_i64(p->num_deletions);
    out.merge_operands = as_i64(p->num_merge_operands);
    out.range_deletions = as_i64(p->num_range_deletions);
    out.raw_key_bytes = as_i64(p->raw_key_size);
    out.raw_value_bytes = as_i64(p->raw_value_size);
    out.data_bytes = as_i64(p->data_size);
    out.file_bytes = as_i64(size);
    out.compression = p->compression_name;
    if (out.deletions > out.entries || out.raw_key_bytes < 8 * out.entries)
      return Error::data("SST " + name + " has inconsistent table properties (entries " + std::to_string(out.entries) +
                         ", deletions " + std::to_string(out.deletions) + ", raw key bytes " +
                         std::to_string(out.raw_key_bytes) + ")");
    if (visit) {
      rocksdb::ReadOptions ro;
      ro.verify_checksums = true;
      std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(ro));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        rocksdb::Slice k = it->key(), v = it->value();
        if (!visit(ctx, std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
      }
      if (!it->status().ok())
        return Error::data("SST " + name + " cannot be iterated by librocksdb " + library_version() + ": " +
                           it->status().ToString());
    }
    return out;
  } catch (const std::exception& e) {
    return Error::data("SST " + name + ": librocksdb failed: " + e.what());
  }
}

Result<SstProperties> stage_bytes(std::string_view bytes, const std::string& name, void* ctx, EntryVisitor visit) {
  // A private in-memory file system: nothing is written to disk.
  std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  if (!env) return Error::io("SST " + name + ": cannot create an in-memory environment");
  const std::string path = "/fsp/inline.sst";
  rocksdb::EnvOptions eo;
  std::unique_ptr<rocksdb::WritableFile> f;
  rocksdb::Status s = env->CreateDirIfMissing("/fsp");
  if (s.ok()) s = env->NewWritableFile(path, &f, eo);
  if (s.ok()) s = f->Append(rocksdb::Slice(bytes.data(), bytes.size()));
  if (s.ok()) s = f->Close();
  if (!s.ok()) return Error::io("SST " + name + ": cannot stage the bytes in memory: " + s.ToString());
  f.reset();
  return read_with(env.get(), path, name, bytes.size(), ctx, visit);
}

Result<SstProperties> open_path(const std::string& path, void* ctx, EntryVisitor visit) {
  // librocksdb opens local paths itself. On a store, the properties alone are
  // read through ranged reads (read_ranged); every entry (dump) needs every
  // data block, so the file is then read whole (in parallel chunks) and staged
  // in memory.
  auto fs = io::file_system_for(path);
  if (!fs) return fs.take_error();
  std::string scheme = io::uri_scheme(path);
  const bool local = scheme.empty() || scheme == "file";
  if (!local && !visit) {
    auto f = (*fs)->open(path);
    if (!f) {
      if (f.error().kind != ErrorKind::kNoInput) return f.take_error();
      Error e = f.take_error();
      e.message = "SST file " + path + " not found: " + e.message;
      return e;
    }
    return read_ranged(std::shared_ptr<io::RandomAccessFile>(std::move(*f)), path);
  }
  auto info = (*fs)->stat(path);
  if (!info) {
    const std::string& m = info.error().message;
    auto colon = m.rfind(": ");
    return Error::no_input("SST file " + path + " not found: " + (colon == std::string::npos ? m : m.substr(colon + 2)));
  }
  if (!info->is_regular)
    return Error::no_input("SST file " + path + " is " + (info->is_directory ? "a directory" : "not a regular file"));
  if (local)
    return read_with(rocksdb::Env::Default(), io::normalize_local(path), path, info->size, ctx, visit);
  auto bytes = io::read_file(path);
  if (!bytes) return bytes.take_error();
  return stage_bytes((*bytes)->bytes(), path, ctx, visit);
}

}  // namespace

Result<SstProperties> read_file(const std::string& path) { return open_path(path, nullptr, nullptr); }

Result<SstProperties> read_bytes(std::string_view bytes, const std::string& name) {
  return stage_bytes(bytes, name, nullptr, nullptr);
}

Result<SstProperties> for_each_entry(const std::string& path, std::string_view bytes, const std::string& name,
                                     void* ctx, EntryVisitor visit) {
  if (path.empty()) return stage_bytes(bytes, name, ctx, visit);
  return open_path(path, ctx, visit);
}

#else  // !FSP_HAVE_ROCKSDB

bool available() { return false; }
std::string library_version() { return {}; }

Result<SstProperties> read_file(const std::string& path) {
  (void)path;
  return Error::unsupported(kUnavailableNote);
}

Result<SstProperties> read_bytes(std::string_view bytes, const std::string& name) {
  (void)bytes;
  (void)name;
  return Error::unsupported(kUnavailableNote);
}

Result<SstProperties> for_each_entry(const std::string&, std::string_view, const std::string&, void*, EntryVisitor) {
  return Error::unsupported(kUnavailableNote);
}

#endif

}  // namespace fsp::rocksdb_sst
