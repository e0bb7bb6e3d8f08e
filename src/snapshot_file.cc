#include "flink_savepoint/snapshot_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsp {

FileBytes::~FileBytes() {
  if (mapped_ && data_) munmap(const_cast<char*>(data_), size_);
}

Result<std::shared_ptr<FileBytes>> FileBytes::read_stream(int fd, const std::string& name) {
  std::shared_ptr<FileBytes> fb(new FileBytes());
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io("cannot read " + name + ": " + std::strerror(errno));
    }
    fb->owned_.append(buf, static_cast<size_t>(n));
  }
  fb->data_ = fb->owned_.data();
  fb->size_ = fb->owned_.size();
  return fb;
}

Result<std::shared_ptr<FileBytes>> FileBytes::open(const std::string& path) {
  if (path == "-") return read_stream(0, "standard input");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) return Error::no_input("cannot open " + path + ": " + std::strerror(e));
    return Error::io("cannot open " + path + ": " + std::strerror(e));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error::io("cannot stat " + path + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {  // FIFO, character device, ...
    auto r = read_stream(fd, path);
    ::close(fd);
    return r;
  }
  std::shared_ptr<FileBytes> fb(new FileBytes());
  if (st.st_size == 0) {
    ::close(fd);
    fb->data_ = "";
    return fb;
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  ::close(fd);
  if (p == MAP_FAILED) return Error::io("cannot map " + path + ": " + std::strerror(e));
  madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
  fb->data_ = static_cast<const char*>(p);
  fb->size_ = static_cast<size_t>(st.st_size);
  fb->mapped_ = true;
  return fb;
}

Result<std::string> resolve_metadata_path(const std::string& path) {
  if (path == "-") return path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Error::no_input("cannot find checkpoint or savepoint file/directory '" + path + "': " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    std::string p = path;
    if (!p.empty() && p.back() != '/') p += '/';
    p += "_metadata";
    if (::stat(p.c_str(), &st) != 0) {
      Error e = Error::no_input("cannot find meta data file '_metadata' in directory '" + path + "'");
      e.hint = "point at the _metadata file itself, or at the savepoint/checkpoint directory (chk-N) that holds it";
      return e;
    }
    return p;
  }
  return path;
}

Result<SnapshotFile> open_snapshot(const std::string& path, const DecodeOptions& options) {
  auto mp = resolve_metadata_path(path);
  if (!mp) return mp.take_error();
  auto fb = FileBytes::open(*mp);
  if (!fb) return fb.take_error();
  SnapshotFile sf;
  sf.metadata_path = *mp;
  if (*mp != "-") {
    auto slash = mp->rfind('/');
    sf.directory = slash == std::string::npos ? "." : mp->substr(0, slash == 0 ? 1 : slash);
  }
  sf.file_size = (*fb)->bytes().size();
  auto s = decode_metadata((*fb)->bytes(), options);
  if (!s) {
    Error e = s.take_error();
    if (e.where.empty()) e.where = sf.metadata_path;
    else e.where = sf.metadata_path + ": " + e.where;
    return e;
  }
  sf.snapshot = std::move(*s);
  sf.snapshot.backing = *fb;
  return sf;
}

}  // namespace fsp
