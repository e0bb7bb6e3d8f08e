// The file-system seam (file_system.h): the registry by URI scheme, URI
// helpers, and the built-in local file system (plain paths, file: URIs, and
// "-" for standard input/output).
#include "flink_savepoint/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

namespace fsp::io {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

std::string display_name(const std::string& uri) { return uri == "-" ? "standard input" : uri; }

const char* file_type_name(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO (named pipe)";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

class MappedBuffer final : public Buffer {
 public:
  MappedBuffer(const char* data, size_t size) : data_(data), size_(size) {}
  ~MappedBuffer() override {
    if (data_ && size_ > 0) ::munmap(const_cast<char*>(data_), size_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  std::string_view bytes() const override { return {data_, size_}; }

 private:
  const char* data_;
  size_t size_;
};

class OwnedBuffer final : public Buffer {
 public:
  OwnedBuffer(std::unique_ptr<char[]> data, size_t size) : data_(std::move(data)), size_(size) {}
  std::string_view bytes() const override { return {data_ ? data_.get() : "", size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_;
};

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

Error too_large(const std::string& name, uint64_t size, uint64_t max) {
  return Error::data(display_name(name) + " is " + std::to_string(size) + " bytes, more than the " +
                     std::to_string(max) + " bytes expected");
}

// Reads a stream (pipe, terminal) to its end: blocks that are never
// zero-filled, joined once at the end.
Result<std::shared_ptr<const Buffer>> read_stream(int fd, const std::string& name, uint64_t max_bytes) {
  constexpr size_t kBlock = 8u << 20;
#ifdef F_SETPIPE_SZ
  (void)::fcntl(fd, F_SETPIPE_SZ, 1 << 20);  // fewer, larger reads from a pipe (best effort)
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
      return Error::io("cannot read " + display_name(name) + ": " + errno_text(errno));
    }
    in_last += static_cast<size_t>(n);
    total += static_cast<size_t>(n);
    if (max_bytes > 0 && total > max_bytes) return too_large(name, total, max_bytes);
  }
  std::unique_ptr<char[]> all(new char[total > 0 ? total : 1]);
  size_t at = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    size_t len = i + 1 == blocks.size() ? in_last : kBlock;
    std::memcpy(all.get() + at, blocks[i].get(), len);
    at += len;
  }
  return std::shared_ptr<const Buffer>(std::make_shared<OwnedBuffer>(std::move(all), total));
}

Result<std::shared_ptr<const Buffer>> map_regular(int fd, const struct stat& st, const std::string& name,
                                                  uint64_t max_bytes) {
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (max_bytes > 0 && size > max_bytes) return too_large(name, size, max_bytes);
  if (size == 0) return std::shared_ptr<const Buffer>(std::make_shared<OwnedBuffer>(nullptr, 0));
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return Error::io("cannot map " + display_name(name) + ": " + errno_text(errno));
  ::madvise(p, static_cast<size_t>(size), MADV_SEQUENTIAL);
  return std::shared_ptr<const Buffer>(std::make_shared<MappedBuffer>(static_cast<const char*>(p), size));
}

Error open_error(const std::string& name, int e) {
  if (e == ENOENT || e == ENOTDIR) return Error::no_input("cannot open " + display_name(name) + ": " + errno_text(e));
  return Error::io("cannot open " + display_name(name) + ": " + errno_text(e));
}

Error not_regular(const std::string& name, mode_t mode) {
  Error e = Error::no_input("cannot read " + name + ": it is " + file_type_name(mode) +
                            ", not a regular file (only regular files are read by path)");
  if (!S_ISDIR(mode)) e.hint = "to read a stream, give it on standard input: flink-savepoint inspect - < " + name;
  return e;
}

// Opens a local path for reading without ever blocking in open() (a FIFO
// without a writer) and refuses anything but a regular file.
Result<int> open_regular(const std::string& path, struct stat& st) {
  Fd f(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (f.fd < 0) return open_error(path, errno);
  if (::fstat(f.fd, &st) != 0) return Error::io("cannot stat " + path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return not_regular(path, st.st_mode);
  return f.release();
}

// A local regular file, mapped (open_regular, then map_regular).
Result<std::shared_ptr<const Buffer>> map_path(const std::string& path, uint64_t max_bytes) {
  struct stat st {};
  auto fd = open_regular(path, st);
  if (!fd) return fd.take_error();
  Fd closer(*fd);
  return map_regular(closer.fd, st, path, max_bytes);
}

class LocalRandomAccessFile final : public RandomAccessFile {
 public:
  LocalRandomAccessFile(std::string uri, int fd, uint64_t size) : uri_(std::move(uri)), fd_(fd), size_(size) {}
  const std::string& uri() const override { return uri_; }
  uint64_t size() const override { return size_; }
  Status read_at(uint64_t offset, uint64_t length, std::string& out) override {
    out.clear();
    if (offset >= size_) return {};
    length = std::min(length, size_ - offset);
    out.resize(static_cast<size_t>(length));
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd_.fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::io("cannot read " + uri_ + ": " + errno_text(errno));
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    out.resize(done);
    return {};
  }

 private:
  std::string uri_;
  Fd fd_;
  uint64_t size_;
};

Status write_all(const WriteHooks& hooks, int fd, std::string_view bytes, const std::string& name,
                 const std::string& unchanged) {
  size_t done = 0;
  while (done < bytes.size()) {
    size_t chunk = std::min<size_t>(bytes.size() - done, size_t{1} << 24);
    ssize_t n = hooks.write ? hooks.write(fd, bytes.data() + done, chunk) : ::write(fd, bytes.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io("writing '" + name + "' failed: " + errno_text(errno) + unchanged);
    }
    if (n == 0) return Error::io("writing '" + name + "' made no progress" + unchanged);
    done += static_cast<size_t>(n);
  }
  return {};
}

// Standard output: the bytes are collected, verified, then written.
class StdoutWritableFile final : public WritableFile {
 public:
  explicit StdoutWritableFile(WriteOptions o) : options_(std::move(o)) {}
  Status append(std::string_view bytes) override {
    data_.append(bytes);
    return {};
  }
  Status commit() override {
    if (options_.verify) {
      Status v = options_.verify(data_);
      if (!v) return v;
    }
    return write_all(options_.hooks, 1, data_, "standard output", "");
  }

 private:
  WriteOptions options_;
  std::string data_;
};

// A temporary file beside the target; commit() reads it back and verifies it,
// fsyncs it, keeps a backup of the old target when asked, renames it over the
// target and fsyncs the directory. The target is untouched on any failure.
class LocalWritableFile final : public WritableFile {
 public:
  static Result<std::unique_ptr<WritableFile>> create(const std::string& given, WriteOptions options) {
    // A symbolic link is written through: the file it names is replaced (the
    // link stays); a link to nothing is refused rather than followed.
    std::string target = given;
    struct stat lst {};
    if (::lstat(given.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      char* real = ::realpath(given.c_str(), nullptr);
      if (!real)
        return Error::cant_create("'" + given + "' is a symbolic link to a file that does not exist (" +
                                  errno_text(errno) + "); give the path it should name");
      target = real;
      std::free(real);
    }
    std::string dir, name;
    auto slash = target.rfind('/');
    if (slash == std::string::npos) {
      dir = ".";
      name = target;
    } else {
      dir = slash == 0 ? "/" : target.substr(0, slash);
      name = target.substr(slash + 1);
    }
    if (name.empty() || name == "." || name == "..") return Error::usage("'" + given + "' is not a file name");

    std::unique_ptr<LocalWritableFile> f(new LocalWritableFile(target, std::move(options)));
    f->dir_ = dir;
    struct stat st {};
    f->target_exists_ = ::lstat(target.c_str(), &st) == 0;
    if (f->target_exists_ && S_ISDIR(st.st_mode)) return Error::cant_create("'" + given + "' is a directory");
    // Only a regular file is ever replaced (a rename over a device node, a
    // FIFO or a socket would replace that, e.g. /dev/full as root).
    if (f->target_exists_ && !S_ISREG(st.st_mode))
      return Error::cant_create("'" + given + "' is not a regular file (" + file_kind(st.st_mode) +
                                "); only a regular file is ever replaced");
    f->mode_ = f->target_exists_ ? (st.st_mode & 07777) : 0644;
    f->uid_ = st.st_uid;
    f->gid_ = st.st_gid;
    const std::string& backup = f->options_.backup_uri;
    if (!backup.empty()) {
      struct stat bst {};
      if (::lstat(backup.c_str(), &bst) == 0)
        return Error::cant_create("the backup '" + backup + "' already exists; move it away first");
    } else if (f->target_exists_ && !f->options_.overwrite) {
      return Error::cant_create("'" + given + "' already exists");
    }
    remove_stale_temporaries(dir, name);
    std::string tmp = (dir == "/" ? "/" : dir + "/") + "." + name + ".tmp-XXXXXX";
    std::vector<char> tmpl(tmp.begin(), tmp.end());
    tmpl.push_back('\0');
    f->fd_.fd = ::mkstemp(tmpl.data());
    if (f->fd_.fd < 0) return Error::cant_create("cannot create a temporary file in '" + dir + "': " + errno_text(errno));
    f->tmp_.assign(tmpl.data());
    // The lock marks the temporary file as in use: a later run removes it
    // only when no process holds it (the lock dies with its process, kill -9 too).
    (void)::flock(f->fd_.fd, LOCK_EX | LOCK_NB);
    // Keep the owner (where permitted: root, or a group the user is in) and
    // the mode of the file replaced; the mode last, as chown may clear set-id bits.
    if (f->target_exists_ && ::fchown(f->fd_.fd, f->uid_, f->gid_) != 0) (void)::fchown(f->fd_.fd, -1, f->gid_);
    ::fchmod(f->fd_.fd, f->mode_);
    return std::unique_ptr<WritableFile>(std::move(f));
  }

  // Temporary files ".<name>.tmp-XXXXXX" of earlier runs that died (kill -9,
  // power loss): removed when no process holds their lock and they are older
  // than a few seconds (a run that has just created one takes its lock at once).
  static void remove_stale_temporaries(const std::string& dir, const std::string& name) {
    const std::string prefix = "." + name + ".tmp-";
    DIR* d = ::opendir(dir.c_str());
    if (!d) return;
    const time_t now = ::time(nullptr);
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() != prefix.size() + 6 || n.compare(0, prefix.size(), prefix) != 0) continue;
      std::string p = (dir == "/" ? "/" : dir + "/") + n;
      Fd fd(::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (fd.fd < 0) continue;
      struct stat st {};
      if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < 5) continue;
      if (::flock(fd.fd, LOCK_EX | LOCK_NB) != 0) continue;  // a live run holds it
      (void)::unlink(p.c_str());
    }
    ::closedir(d);
  }

  static std::string file_kind(mode_t m) {
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
  }

  ~LocalWritableFile() override {
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
  }

  Status append(std::string_view bytes) override {
    if (fd_.fd < 0) return Error::io("'" + tmp_ + "' is closed");
    expected_size_ += bytes.size();
    Status st = write_all(options_.hooks, fd_.fd, bytes, tmp_, unchanged());
#ifdef SYNC_FILE_RANGE_WRITE
    // Start the writeback of every 8 MiB written (asynchronous), so that the
    // disk works while the rest is encoded and the file is verified: the
    // fsync in commit() then waits only for the tail (100 MB: 30-45 ms less).
    if (st && expected_size_ - writeback_started_ >= kWritebackStep) {
      (void)::sync_file_range(fd_.fd, static_cast<off_t>(writeback_started_),
                              static_cast<off_t>(expected_size_ - writeback_started_), SYNC_FILE_RANGE_WRITE);
      writeback_started_ = expected_size_;
    }
#endif
    return st;
  }

  Status commit() override {
    const WriteHooks& h = options_.hooks;
    auto fsy = [&](int fd) -> int { return h.fsync ? h.fsync(fd) : ::fsync(fd); };
    if (fd_.fd < 0) return Error::io("'" + tmp_ + "' is closed");

    // Read back what was written and check it while the writeback runs (the
    // bytes come from the page cache before and after fsync alike), then wait
    // for it: nothing is renamed unless both the check and the fsync succeed.
    {
      auto back = map_path(tmp_, 0);
      if (!back) return Error::io("cannot read back '" + tmp_ + "': " + back.error().to_string());
      std::string_view got = (*back)->bytes();
      if (got.size() != expected_size_)
        return Error::io("the file read back from '" + tmp_ + "' differs from what was written" + unchanged());
      if (options_.verify) {
        Status v = options_.verify(got);
        if (!v) return v;
      }
    }
    if (fsy(fd_.fd) != 0) return Error::io("fsync of '" + tmp_ + "' failed: " + errno_text(errno) + unchanged());
    if (::close(fd_.release()) != 0)
      return Error::io("closing '" + tmp_ + "' failed: " + errno_text(errno) + unchanged());

    const std::string& backup = options_.backup_uri;
    bool made_backup = false;
    if (!backup.empty() && target_exists_) {
      if (::link(target_.c_str(), backup.c_str()) == 0) {
        made_backup = true;
      } else if (errno == EEXIST) {
        return Error::cant_create("the backup '" + backup + "' already exists; move it away first");
      } else {
        // No hard links here: copy the original.
        auto orig = map_path(target_, 0);
        if (!orig) return Error::io("cannot read '" + target_ + "' to back it up: " + orig.error().to_string());
        Fd b(::open(backup.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_));
        if (b.fd < 0) return Error::cant_create("cannot create the backup '" + backup + "': " + errno_text(errno));
        made_backup = true;
        Status w = write_all(h, b.fd, (*orig)->bytes(), backup, "");
        if (w && fsy(b.fd) != 0) w = Error::io("fsync failed: " + errno_text(errno));
        if (!w) {
          ::unlink(backup.c_str());
          return Error::io("writing the backup '" + backup + "' failed: " + w.error().message + unchanged());
        }
      }
    }

    int r = h.rename ? h.rename(tmp_.c_str(), target_.c_str()) : ::rename(tmp_.c_str(), target_.c_str());
    if (r != 0) {
      int e = errno;
      if (made_backup) ::unlink(backup.c_str());
      return Error::io("renaming '" + tmp_ + "' to '" + target_ + "' failed: " + errno_text(e) + unchanged());
    }
    committed_ = true;  // the temporary file is the target now
    // Make the rename durable (best effort: some file systems refuse fsync on directories).
    Fd dfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.fd >= 0) (void)fsy(dfd.fd);
    return {};
  }

 private:
  LocalWritableFile(std::string target, WriteOptions o) : target_(std::move(target)), options_(std::move(o)) {}
  std::string unchanged() const { return "; '" + target_ + "' is unchanged"; }

  std::string target_, dir_, tmp_;
  WriteOptions options_;
  Fd fd_;
  bool target_exists_ = false, committed_ = false;
  mode_t mode_ = 0644;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  uint64_t expected_size_ = 0;
  uint64_t writeback_started_ = 0;  // bytes whose writeback was started
  static constexpr uint64_t kWritebackStep = uint64_t{8} << 20;
};

FileInfo info_of(const std::string& uri, const struct stat& st) {
  FileInfo i;
  i.uri = uri;
  i.size = S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0;
  i.mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  i.is_directory = S_ISDIR(st.st_mode);
  i.is_regular = S_ISREG(st.st_mode);
  i.device = static_cast<uint64_t>(st.st_dev);
  i.inode = static_cast<uint64_t>(st.st_ino);
  return i;
}

class LocalFileSystem final : public FileSystem {
 public:
  std::vector<std::string> schemes() const override { return {"file"}; }

  Result<FileInfo> stat(const std::string& uri) override {
    std::string p = normalize_local(uri);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) {
      int e = errno;
      if (e == ENOENT || e == ENOTDIR) return Error::no_input("cannot find " + p + ": " + errno_text(e));
      return Error::io("cannot stat " + p + ": " + errno_text(e));
    }
    return info_of(p, st);
  }

  Result<std::vector<FileInfo>> list(const std::string& uri, bool recursive) override {
    std::string p = normalize_local(uri);
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    std::vector<FileInfo> out;
    std::vector<std::string> todo{p};
    while (!todo.empty()) {
      std::string d = std::move(todo.back());
      todo.pop_back();
      DIR* dir = ::opendir(d.c_str());
      if (!dir) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return Error::no_input("cannot list " + d + ": " + errno_text(e));
        return Error::io("cannot list " + d + ": " + errno_text(e));
      }
      std::vector<FileInfo> here;
      while (struct dirent* ent = ::readdir(dir)) {
        std::string n = ent->d_name;
        if (n == "." || n == "..") continue;
        std::string child = (d == "/" ? "/" : d + "/") + n;
        struct stat st {};
        if (::lstat(child.c_str(), &st) != 0) continue;  // vanished meanwhile
        here.push_back(info_of(child, st));
      }
      ::closedir(dir);
      std::sort(here.begin(), here.end(), [](const FileInfo& a, const FileInfo& b) { return a.uri < b.uri; });
      for (auto& i : here) {
        if (recursive && i.is_directory) todo.push_back(i.uri);
        out.push_back(std::move(i));
      }
    }
    if (recursive)
      std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.uri < b.uri; });
    return out;
  }

  Result<std::shared_ptr<const Buffer>> read(const std::string& uri, const ReadOptions& options) override {
    if (uri == "-") {
      // Standard input redirected from a file is mapped like any file; pipes are read.
      Fd fd(::dup(0));
      if (fd.fd < 0) return open_error(uri, errno);
      struct stat st {};
      if (::fstat(fd.fd, &st) != 0) return Error::io("cannot stat standard input: " + errno_text(errno));
      if (S_ISREG(st.st_mode)) return map_regular(fd.fd, st, uri, options.max_bytes);
      return read_stream(fd.fd, uri, options.max_bytes);
    }
    return map_path(normalize_local(uri), options.max_bytes);
  }

  Result<std::unique_ptr<RandomAccessFile>> open(const std::string& uri) override {
    std::string p = normalize_local(uri);
    struct stat st {};
    auto fd = open_regular(p, st);
    if (!fd) return fd.take_error();
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<LocalRandomAccessFile>(p, *fd, static_cast<uint64_t>(st.st_size)));
  }

  Result<std::unique_ptr<WritableFile>> create(const std::string& uri, const WriteOptions& options) override {
    if (uri == "-") return std::unique_ptr<WritableFile>(std::make_unique<StdoutWritableFile>(options));
    WriteOptions o = options;
    if (!o.backup_uri.empty()) o.backup_uri = normalize_local(o.backup_uri);
    return LocalWritableFile::create(normalize_local(uri), std::move(o));
  }

  Status remove(const std::string& uri) override {
    std::string p = normalize_local(uri);
    if (::unlink(p.c_str()) != 0) {
      int e = errno;
      if (e == ENOENT) return Error::no_input("cannot remove " + p + ": " + errno_text(e));
      return Error::io("cannot remove " + p + ": " + errno_text(e));
    }
    return {};
  }
};

struct Registry {
  std::mutex mu;
  std::shared_ptr<FileSystem> local = std::make_shared<LocalFileSystem>();
  std::map<std::string, std::shared_ptr<FileSystem>> by_scheme;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::string uri_scheme(std::string_view uri) {
  // RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  if (uri.empty() || !std::isalpha(static_cast<unsigned char>(uri[0]))) return {};
  for (size_t i = 1; i < uri.size(); ++i) {
    char c = uri[i];
    if (c == ':') {
      std::string s(uri.substr(0, i));
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return s;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return {};
  }
  return {};
}

std::string normalize_local(std::string_view uri) {
  if (uri_scheme(uri) != "file") return std::string(uri);
  std::string_view rest = uri.substr(5);  // after "file:"
  if (rest.substr(0, 2) == "//") {
    rest.remove_prefix(2);                       // file://HOST/path: only an empty host or localhost is local
    if (rest.substr(0, 9) == "localhost") rest.remove_prefix(9);
  }
  return std::string(rest);
}

std::string parent_uri(std::string_view uri) {
  std::string s(uri);
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  auto slash = s.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  std::string parent = s.substr(0, slash);
  if (!parent.empty() && parent.back() == ':') return parent + "/";  // "s3:" of "s3://b" stays a root
  return parent;
}

std::string join_uri(std::string_view directory, std::string_view relative) {
  if (directory.empty()) return std::string(relative);
  std::string s(directory);
  if (s.back() != '/') s += '/';
  return s + std::string(relative);
}

void register_file_system(std::shared_ptr<FileSystem> fs) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  for (const std::string& s : fs->schemes()) r.by_scheme[s] = fs;
}

Result<FileSystem*> file_system_for(std::string_view uri) {
  std::string scheme = uri_scheme(uri);
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (scheme.empty() || scheme == "file") {
    auto it = r.by_scheme.find("file");
    return it != r.by_scheme.end() ? it->second.get() : r.local.get();
  }
  auto it = r.by_scheme.find(scheme);
  if (it != r.by_scheme.end()) return it->second.get();
  Error e = Error::usage("unsupported: " + scheme + ":// URIs cannot be read directly ('" + std::string(uri) + "')");
  e.hint = "stream the file through standard input, e.g. hdfs dfs -cat " + std::string(uri) +
           (uri.ends_with("/_metadata") ? "" : "/_metadata") +
           " | flink-savepoint inspect -; or map the prefix to a local copy with --path-map";
  return e;
}

Result<std::shared_ptr<const Buffer>> read_file(const std::string& uri, const ReadOptions& options) {
  auto fs = file_system_for(uri);
  if (!fs) return fs.take_error();
  return (*fs)->read(uri, options);
}

Status write_file_atomic(const std::string& uri, std::string_view bytes, const WriteOptions& options) {
  auto fs = file_system_for(uri);
  if (!fs) return fs.take_error();
  auto f = (*fs)->create(uri, options);
  if (!f) return f.take_error();
  Status s = (*f)->append(bytes);
  if (!s) return s;
  return (*f)->commit();
}

}  // namespace fsp::io
