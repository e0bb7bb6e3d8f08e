#include "flink_savepoint/snapshot_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace fsp {

FileBytes::~FileBytes() {
  if (mapped_ && data_) munmap(const_cast<char*>(data_), size_);
}

Result<std::shared_ptr<FileBytes>> FileBytes::read_stream(int fd, const std::string& name) {
  // Blocks that are never zero-filled, joined once at the end: one copy.
  constexpr size_t kBlock = 8u << 20;
#ifdef F_SETPIPE_SZ
  (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);  // fewer, larger reads from a pipe (best effort)
#endif
  std::vector<std::unique_ptr<char[]>> blocks;
  size_t total = 0, in_last = kBlock;
  for (;;) {
    if (in_last == kBlock) {
      blocks.emplace_back(new char[kBlock]);
      in_last = 0;
    }
    ssize_t n = ::read(fd, blocks.back().get() + in_last, kBlock - in_last);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io("cannot read " + name + ": " + std::strerror(errno));
    }
    in_last += static_cast<size_t>(n);
    total += static_cast<size_t>(n);
  }
  std::shared_ptr<FileBytes> fb(new FileBytes());
  fb->owned_.reset(new char[total > 0 ? total : 1]);
  size_t at = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    size_t len = i + 1 == blocks.size() ? in_last : kBlock;
    std::memcpy(fb->owned_.get() + at, blocks[i].get(), len);
    at += len;
  }
  fb->data_ = fb->owned_.get();
  fb->size_ = total;
  return fb;
}

Result<std::shared_ptr<FileBytes>> FileBytes::open(const std::string& path) {
  // Standard input redirected from a file is mapped like any file; pipes are read.
  int fd = path == "-" ? ::dup(0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const std::string name = path == "-" ? "standard input" : path;
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT || e == ENOTDIR) return Error::no_input("cannot open " + name + ": " + std::strerror(e));
    return Error::io("cannot open " + name + ": " + std::strerror(e));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error::io("cannot stat " + name + ": " + std::strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {  // FIFO, character device, ...
    auto r = read_stream(fd, name);
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
  if (p == MAP_FAILED) return Error::io("cannot map " + name + ": " + std::strerror(e));
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
