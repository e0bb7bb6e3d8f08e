// RocksDB SST table properties through librocksdb (rocksdb_sst.h).
#include "flink_savepoint/rocksdb_sst.h"

#include "flink_savepoint/file_system.h"

#if FSP_HAVE_ROCKSDB
#include <exception>
#include <memory>

#include <rocksdb/env.h>
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

Result<SstProperties> read_with(rocksdb::Env* env, const std::string& path, const std::string& name, uint64_t size,
                                void* ctx = nullptr, EntryVisitor visit = nullptr) {
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
  // librocksdb opens local paths itself; anything else is read through the
  // file-system seam and staged in memory.
  auto fs = io::file_system_for(path);
  if (!fs) return fs.take_error();
  auto info = (*fs)->stat(path);
  if (!info) {
    const std::string& m = info.error().message;
    auto colon = m.rfind(": ");
    return Error::no_input("SST file " + path + " not found: " + (colon == std::string::npos ? m : m.substr(colon + 2)));
  }
  if (!info->is_regular)
    return Error::no_input("SST file " + path + " is " + (info->is_directory ? "a directory" : "not a regular file"));
  std::string scheme = io::uri_scheme(path);
  if (scheme.empty() || scheme == "file")
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
