// A snapshot as one portable file (.tar.zst): copy_to_archive and
// copy_from_archive (include/flink_savepoint/copy.h, docs/copy.md). libarchive
// does the tar format and the zstd filter; the bytes go through the
// file-system seam in both directions.
#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <optional>

#include "flink_savepoint/copy.h"
#include "flink_savepoint/directories.h"
#include "flink_savepoint/file_system.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/relocate.h"
#include "flink_savepoint/shared_library_internal.h"
#include "flink_savepoint/walk.h"

namespace fsp {
namespace {

// libarchive is opened when an archive is first read or written, not linked
// (shared_library_internal.h): with libxml2 and ICU it cost every command
// about 1.5 ms and 35 MB of address space at startup.
#define FSP_ARCHIVE_FUNCTIONS(X)                                                                                    \
  X(archive_, write_new) X(archive_, write_free) X(archive_, read_new) X(archive_, read_free)                        \
  X(archive_, error_string) X(archive_, write_set_format_pax_restricted) X(archive_, write_add_filter_zstd)          \
  X(archive_, write_set_bytes_in_last_block) X(archive_, write_open2) X(archive_, write_header)                      \
  X(archive_, write_data) X(archive_, write_close) X(archive_, read_support_filter_zstd)                             \
  X(archive_, read_support_format_tar) X(archive_, read_open) X(archive_, read_next_header) X(archive_, read_data)   \
  X(archive_, entry_new) X(archive_, entry_free) X(archive_, entry_set_pathname) X(archive_, entry_set_size)         \
  X(archive_, entry_set_filetype) X(archive_, entry_set_perm) X(archive_, entry_pathname) X(archive_, entry_hardlink) \
  X(archive_, entry_symlink) X(archive_, entry_filetype) X(archive_, entry_size_is_set) X(archive_, entry_size)
struct ArchiveLibrary {
  FSP_ARCHIVE_FUNCTIONS(FSP_LIBRARY_MEMBER)
};

const std::optional<Error>& load_libarchive() {
  return LibraryTable<ArchiveLibrary>::load(
      {"libarchive.so.13"}, "FSP_LIBARCHIVE",
      [](SharedLibrary& so, ArchiveLibrary& lib) { FSP_ARCHIVE_FUNCTIONS(FSP_LIBRARY_BIND) }, "libarchive",
      ".tar.zst archives",
      "install libarchive 3.3 or newer (Debian: apt-get install libarchive13), or set FSP_LIBARCHIVE to its path");
}
const ArchiveLibrary& la() { return LibraryTable<ArchiveLibrary>::get(); }

// Inside an archive every file is named relative to the snapshot directory;
// _metadata names the directory this placeholder (segment files keep an
// absolute path), and unpacking rewrites it to DEST.
constexpr const char* kPlaceholderDir = "/.flink-savepoint-archive";
constexpr const char* kPlaceholderUri = "file:/.flink-savepoint-archive";
constexpr uint64_t kChunk = 1u << 20;
constexpr size_t kMaxMetadata = size_t{1} << 30;

struct ArchiveFree {
  void operator()(struct archive* a) const { la().write_free(a); }
};
struct ReadFree {
  void operator()(struct archive* a) const { la().read_free(a); }
};

std::string la_error(struct archive* a) {
  const char* e = la().error_string(a);
  return e ? e : "unknown libarchive error";
}

bool unsafe_member(std::string_view name) {
  if (name.empty() || name[0] == '/') return true;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view c = name.substr(start, end - start);
    if (c == "..") return true;
    start = end + 1;
  }
  return false;
}

std::string clean_member(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

struct Sink {
  io::WritableFile* out;
  std::optional<Error> error;
};

la_ssize_t write_cb(struct archive*, void* data, const void* buf, size_t n) {
  auto* s = static_cast<Sink*>(data);
  Status st = s->out->append(std::string_view(static_cast<const char*>(buf), n));
  if (!st) {
    s->error = st.error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct Source {
  io::RandomAccessFile* in;
  uint64_t at = 0;
  std::string buf;
  std::optional<Error> error;
};

la_ssize_t read_cb(struct archive*, void* data, const void** out) {
  auto* s = static_cast<Source*>(data);
  Status st = s->in->read_at(s->at, kChunk, s->buf);
  if (!st) {
    s->error = st.error();
    return -1;
  }
  s->at += s->buf.size();
  *out = s->buf.data();
  return static_cast<la_ssize_t>(s->buf.size());
}

}  // namespace

bool is_archive_uri(std::string_view uri) { return uri.ends_with(".tar.zst"); }

Result<CopyReport> copy_to_archive(SnapshotFile& sf, const std::string& archive_uri, const CopyOptions& options) {
  // The plan (and the rewritten paths) of a copy into the placeholder directory.
  CopyOptions plan_options;
  plan_options.dest = kPlaceholderDir;
  plan_options.dry_run = true;
  auto plan = copy_snapshot(sf, plan_options);
  if (!plan) return plan.take_error();
  CopyReport rep = std::move(*plan);
  rep.metadata_uri = archive_uri;
  for (CopyFile& f : rep.files) {
    f.skipped = false;
    f.to = f.to.substr(std::string(kPlaceholderDir).size() + 1);  // the member name
  }
  rep.skipped = 0;
  if (options.dry_run) return rep;
  if (const auto& e = load_libarchive()) return *e;
  auto bytes = encode_metadata(sf.snapshot);
  if (!bytes) return bytes.take_error();

  auto fs = io::file_system_for(archive_uri);
  if (!fs) return fs.take_error();
  if ((*fs)->stat(archive_uri).ok() && !options.force)
    return Error::cant_create("'" + archive_uri + "' already exists; add --force to replace it");
  io::WriteOptions wo;
  wo.overwrite = options.force;
  auto out = (*fs)->create(archive_uri, wo);
  if (!out) return out.take_error();
  Sink sink{out->get(), std::nullopt};
  std::unique_ptr<struct archive, ArchiveFree> a(la().write_new());
  if (la().write_set_format_pax_restricted(a.get()) != ARCHIVE_OK || la().write_add_filter_zstd(a.get()) != ARCHIVE_OK)
    return Error::io("cannot set up the .tar.zst writer: " + la_error(a.get()));
  // No zero padding after the compressed stream (it would not be zstd data).
  la().write_set_bytes_in_last_block(a.get(), 1);
  if (la().write_open2(a.get(), &sink, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK)
    return Error::io("cannot write " + archive_uri + ": " + la_error(a.get()));

  auto add_member = [&](const std::string& name, uint64_t size, const std::function<Status(uint64_t, std::string&)>& chunk) -> Status {
    std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)> e(la().entry_new(), la().entry_free);
    la().entry_set_pathname(e.get(), name.c_str());
    la().entry_set_size(e.get(), static_cast<la_int64_t>(size));
    la().entry_set_filetype(e.get(), AE_IFREG);
    la().entry_set_perm(e.get(), 0644);
    if (la().write_header(a.get(), e.get()) != ARCHIVE_OK)
      return sink.error ? *sink.error : Error::io("cannot write " + archive_uri + ": " + la_error(a.get()));
    std::string buf;
    for (uint64_t at = 0; at < size;) {
      Status s = chunk(at, buf);
      if (!s) return s;
      if (buf.empty()) return Error::io(name + " ended at byte " + std::to_string(at) + " of " + std::to_string(size));
      if (la().write_data(a.get(), buf.data(), buf.size()) < 0)
        return sink.error ? *sink.error : Error::io("cannot write " + archive_uri + ": " + la_error(a.get()));
      at += buf.size();
    }
    return {};
  };
  for (const CopyFile& f : rep.files) {
    auto ifs = io::file_system_for(f.from);
    if (!ifs) return ifs.take_error();
    auto in = (*ifs)->open(f.from);
    if (!in) return in.take_error();
    if ((*in)->size() != f.size) return Error::io(f.from + " changed while copying");
    Status s = add_member(f.to, f.size, [&](uint64_t at, std::string& buf) {
      return (*in)->read_at(at, std::min<uint64_t>(kChunk, f.size - at), buf);
    });
    if (!s) return s.take_error();
    ++rep.copied;
    rep.copied_bytes += f.size;
  }
  // _metadata last.
  Status s = add_member("_metadata", bytes->size(), [&](uint64_t at, std::string& buf) -> Status {
    buf.assign(*bytes, at, std::string::npos);
    return {};
  });
  if (!s) return s.take_error();
  if (la().write_close(a.get()) != ARCHIVE_OK)
    return sink.error ? *sink.error : Error::io("cannot finish " + archive_uri + ": " + la_error(a.get()));
  Status c = (*out)->commit();
  if (!c) return c.take_error();
  rep.metadata_written = true;
  return rep;
}

Result<CopyReport> copy_from_archive(const std::string& archive_uri, const CopyOptions& options) {
  if (options.dest.empty()) return Error::usage("copy needs a destination directory");
  if (const auto& e = load_libarchive()) return *e;
  const bool local = [&] {
    std::string s = io::uri_scheme(options.dest);
    return s.empty() || s == "file";
  }();
  std::string dest = options.dest;
  while (dest.size() > 1 && dest.back() == '/') dest.pop_back();
  if (local) dest = io::normalize_local(local_directory_uri(dest));  // absolute, normal
  const std::string dest_uri = local ? local_directory_uri(dest) : dest;

  auto fs = io::file_system_for(archive_uri);
  if (!fs) return fs.take_error();
  auto in = (*fs)->open(archive_uri);
  if (!in) return in.take_error();
  Source src{in->get(), 0, {}, std::nullopt};
  std::unique_ptr<struct archive, ReadFree> a(la().read_new());
  la().read_support_filter_zstd(a.get());
  la().read_support_format_tar(a.get());
  if (la().read_open(a.get(), &src, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    return src.error ? *src.error : Error::data(archive_uri + " is not a .tar.zst archive: " + la_error(a.get()));

  CopyReport rep;
  rep.metadata_uri = io::join_uri(dest, "_metadata");
  std::string metadata;
  bool have_metadata = false;
  std::string buf(kChunk, '\0');
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = la().read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return src.error ? *src.error : Error::data(archive_uri + ": " + la_error(a.get()));
    const char* raw = la().entry_pathname(e);
    std::string name = clean_member(raw ? raw : "");
    // Nothing outside DEST, and no links: a member is a regular file (or a directory) below DEST.
    if (unsafe_member(name))
      return Error::data(archive_uri + ": the member '" + std::string(raw ? raw : "") +
                         "' escapes the destination (an absolute name or a '..' component); nothing of it is written and no _metadata");
    if (la().entry_hardlink(e) || la().entry_symlink(e) || la().entry_filetype(e) == AE_IFLNK)
      return Error::data(archive_uri + ": the member '" + name + "' is a link; snapshot archives hold regular files only");
    if (la().entry_filetype(e) == AE_IFDIR) continue;
    if (la().entry_filetype(e) != AE_IFREG)
      return Error::data(archive_uri + ": the member '" + name + "' is not a regular file");
    const uint64_t size = la().entry_size_is_set(e) ? static_cast<uint64_t>(la().entry_size(e)) : 0;
    auto read_chunk = [&]() -> Result<size_t> {
      la_ssize_t n = la().read_data(a.get(), buf.data(), buf.size());
      if (n < 0) return src.error ? *src.error : Error::data(archive_uri + ": " + la_error(a.get()));
      return static_cast<size_t>(n);
    };
    if (name == "_metadata") {
      metadata.clear();
      for (;;) {
        auto n = read_chunk();
        if (!n) return n.take_error();
        if (*n == 0) break;
        if (metadata.size() + *n > kMaxMetadata) return Error::data(archive_uri + ": _metadata is larger than 1 GiB");
        metadata.append(buf.data(), *n);
      }
      have_metadata = true;
      continue;
    }
    CopyFile f;
    f.from = archive_uri + "#" + name;
    f.to = io::join_uri(dest, name);
    f.size = size;
    auto tfs = io::file_system_for(f.to);
    if (!tfs) return tfs.take_error();
    auto st = (*tfs)->stat(f.to);
    if (st && st->is_regular && st->size == size) {
      f.skipped = true;
      ++rep.skipped;
      rep.files.push_back(std::move(f));
      continue;  // libarchive skips the member's data
    }
    if (!options.dry_run) {
      Status d = io::create_directories(io::parent_uri(f.to));
      if (!d) return d.take_error();
      io::WriteOptions wo;
      wo.overwrite = true;
      auto out = (*tfs)->create(f.to, wo);
      if (!out) return out.take_error();
      uint64_t written = 0;
      for (;;) {
        auto n = read_chunk();
        if (!n) return n.take_error();
        if (*n == 0) break;
        Status w = (*out)->append(std::string_view(buf.data(), *n));
        if (!w) return w.take_error();
        written += *n;
      }
      if (written != size)
        return Error::data(archive_uri + ": the member '" + name + "' holds " + std::to_string(written) + " bytes, its header says " + std::to_string(size));
      Status c = (*out)->commit();
      if (!c) return c.take_error();
      ++rep.copied;
      rep.copied_bytes += size;
    }
    rep.bytes += size;
    rep.files.push_back(std::move(f));
  }
  if (!have_metadata) return Error::data(archive_uri + " holds no _metadata: not a snapshot archive (or a truncated one)");
  auto backing = std::make_shared<const std::string>(std::move(metadata));
  auto dec = decode_metadata(*backing);
  if (!dec) {
    Error e = dec.take_error();
    e.where = archive_uri + "#_metadata" + (e.where.empty() ? "" : ": " + e.where);
    return e;
  }
  Snapshot s = std::move(*dec);
  s.backing = backing;  // the views point into it
  RelocateOptions ro;
  ro.rules.emplace_back(kPlaceholderUri, dest_uri);
  ro.collect_changes = false;
  auto rr = relocate(s, ro);
  if (!rr) return rr.take_error();
  rep.rewritten = rr->changed;
  // Every file the snapshot references must be there with its size.
  if (local) {
    VerifyReport v = verify_files(s, dest, {});
    if (!v.missing.empty() && !options.dry_run) {
      const MissingFile& m = v.missing[0];
      return Error::data(archive_uri + ": " + std::to_string(v.missing.size()) + " referenced file(s) missing or of another size after unpacking, e.g. " +
                         m.path + (m.actual_size >= 0 ? " (" + std::to_string(m.actual_size) + " bytes, the handle records " + std::to_string(m.expected_size) + ")" : " (absent)") +
                         "; no _metadata written");
    }
  }
  if (options.dry_run) return rep;
  auto bytes = encode_metadata(s);
  if (!bytes) return bytes.take_error();
  auto dfs = io::file_system_for(rep.metadata_uri);
  if (!dfs) return dfs.take_error();
  if ((*dfs)->stat(rep.metadata_uri).ok()) {
    auto old = io::read_file(rep.metadata_uri);
    if (old && (*old)->bytes() == *bytes) {
      rep.metadata_unchanged = true;
      return rep;
    }
    if (!options.force)
      return Error::cant_create("'" + rep.metadata_uri + "' exists and holds another snapshot; add --force to replace it");
  }
  Status d = io::create_directories(dest);
  if (!d) return d.take_error();
  WriteOptions wo;
  wo.overwrite = options.force;
  Status w = write_metadata_atomically(rep.metadata_uri, s, *bytes, wo);
  if (!w) return w.take_error();
  rep.metadata_written = true;
  return rep;
}

}  // namespace fsp
