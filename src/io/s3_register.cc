// Registration of s3://, s3a://, s3n://, s3p:// and gs:// with the seam's
// registry (src/io/s3_file_system.cc implements the store).
#include <mutex>

#include "flink_savepoint/s3_file_system.h"

namespace fsp::io {
namespace {

// Settings are read from the environment on first use, so that commands
// that never touch a store never look at credentials.
class LazyStore : public FileSystem {
 public:
  explicit LazyStore(std::string store) : store_(std::move(store)) {}
  std::vector<std::string> schemes() const override { return store_schemes(store_); }
  Result<FileInfo> stat(const std::string& uri) override { return fs().stat(uri); }
  Result<std::vector<FileInfo>> list(const std::string& uri, bool recursive) override { return fs().list(uri, recursive); }
  Result<std::shared_ptr<const Buffer>> read(const std::string& uri, const ReadOptions& o) override { return fs().read(uri, o); }
  Result<std::unique_ptr<RandomAccessFile>> open(const std::string& uri) override { return fs().open(uri); }
  Result<std::unique_ptr<WritableFile>> create(const std::string& uri, const WriteOptions& o) override { return fs().create(uri, o); }
  Status remove(const std::string& uri) override { return fs().remove(uri); }
  Result<bool> copy(const std::string& from, const std::string& to, uint64_t size) override { return fs().copy(from, to, size); }

 private:
  FileSystem& fs() {
    std::call_once(once_, [this] { fs_ = make_s3_file_system(s3_settings_from_environment(store_)); });
    return *fs_;
  }
  std::string store_;
  std::once_flag once_;
  std::shared_ptr<FileSystem> fs_;
};

}  // namespace

void register_object_stores() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_file_system(std::make_shared<LazyStore>("s3"));
    register_file_system(std::make_shared<LazyStore>("gs"));
  });
}

}  // namespace fsp::io
