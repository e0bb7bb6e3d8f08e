#include "src/cli/command.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include "flink_savepoint/json.h"

#include "flink_savepoint/text.h"
#include "flink_savepoint/units.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/json_writer.h"

namespace fsp::cli {

// The one place where kinds of errors become exit codes (BSD sysexits(3),
// documented in docs/errors.md).
int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage: return 64;         // EX_USAGE
    case ErrorKind::kCorrupt:
    case ErrorKind::kTruncated:
    case ErrorKind::kUnsupported: return 65;   // EX_DATAERR
    case ErrorKind::kMissingInput: return 66;  // EX_NOINPUT
    case ErrorKind::kInternal: return 70;      // EX_SOFTWARE
    case ErrorKind::kCannotCreate: return 73;  // EX_CANTCREAT
    case ErrorKind::kIo:
    case ErrorKind::kOutOfMemory: return 74;   // EX_IOERR
  }
  return 70;
}

int report(const Context& ctx, const Error& e) {
  if (ctx.json) {
    std::cout.flush();
    JsonWriter w(std::cerr, -1);
    w.begin_object();
    w.key("error");
    w.begin_object();
    w.field("exit_code", exit_code(e.kind));
    if (!e.hint.empty()) w.field("hint", e.hint);
    w.field("message", e.message);
    if (e.offset) w.field("offset", *e.offset);
    if (!e.where.empty()) w.field("where", e.where);
    w.end_object();
    w.end_object();
    w.newline();
  } else {
    std::cout.flush();
    std::cerr << "error: " << display(e.to_string()) << "\n";
    if (!e.hint.empty()) std::cerr << "hint: " << display(e.hint) << "\n";
  }
  return exit_code(e.kind);
}

void print_json(const nlohmann::json& j, int indent) { print_json(std::cout, j, indent); }

void print_json(std::ostream& out, const nlohmann::json& j, int indent) {
  JsonWriter w(out, indent);
  w.value(j);
  w.newline();
}

int report_line(const Context& ctx, const std::string& snapshot, const Error& e) {
  if (!ctx.json) return report(ctx, e);
  nlohmann::json j{{"schema_version", kJsonLinesSchemaVersion},
                   {"snapshot", snapshot},
                   {"error", {{"message", e.message}, {"exit_code", exit_code(e.kind)}}}};
  if (e.offset) j["error"]["offset"] = *e.offset;
  if (!e.where.empty()) j["error"]["where"] = e.where;
  if (!e.hint.empty()) j["error"]["hint"] = e.hint;
  JsonWriter w(std::cout, -1);
  w.value(j);
  w.newline();
  return exit_code(e.kind);
}

std::string human_size(int64_t b) {
  if (b < 1024) return std::to_string(b) + " B";
  const char* units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(b);
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

Table::Table(std::vector<std::string> header, std::vector<bool> right_aligned)
    : header_(std::move(header)), right_(std::move(right_aligned)) {
  right_.resize(header_.size(), false);
}

void Table::add(std::vector<std::string> row) {
  row.resize(header_.size());
  for (auto& c : row)
    if (!is_plain_text(c)) c = display(c);
  rows_.push_back(std::move(row));
}

namespace {
size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

std::string Table::render() const {
  std::vector<size_t> w(header_.size());
  for (size_t i = 0; i < header_.size(); ++i) w[i] = display_width(header_[i]);
  for (const auto& r : rows_)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], display_width(r[i]));
  std::string out;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t i = 0; i < r.size(); ++i) {
      size_t pad = w[i] - display_width(r[i]);
      if (right_[i]) l.append(pad, ' ');
      l += r[i];
      if (i + 1 < r.size()) {
        if (!right_[i]) l.append(pad, ' ');
        l += "  ";
      }
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(header_);
  for (const auto& r : rows_) line(r);
  return out;
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(word, c);
    // A prefix of a candidate ("insp" for "inspect") is as good as a small typo.
    if (word.size() >= 3 && c.rfind(word, 0) == 0) d = std::min<size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(2, word.size() / 3);
  return best_d <= limit ? best : std::string();
}

namespace {
// A validator that rewrites the option's text to the number `parse` gives.
template <typename Parse>
CLI::Validator unit_value(Parse parse, const char* examples, const char* name) {
  return CLI::Validator(
      [parse, examples](std::string& v) -> std::string {
        auto r = parse(v);
        if (!r) return r.error().message + examples;
        v = std::to_string(*r);
        return {};
      },
      name);
}
}  // namespace

CLI::Validator size_value() {
  return unit_value(parse_memory_size, " (e.g. 512mb, 1g, 64 kb or a number of bytes)", "SIZE");
}

CLI::Validator duration_value() {
  return unit_value(parse_duration_ms, " (e.g. 30 s, 2 min, 1h, 7d or a number of milliseconds)", "DURATION");
}

StreamTable::StreamTable(std::vector<std::string> header, std::vector<bool> right_aligned, std::vector<bool> plain)
    : header_(std::move(header)), right_(right_aligned.begin(), right_aligned.end()), plain_(plain.begin(), plain.end()) {
  right_.resize(header_.size(), false);
  plain_.resize(header_.size(), false);
  width_.resize(header_.size());
  cells_.resize(header_.size());
  measured_ = header_.size();
  if (measured_ > 0 && !right_.back()) --measured_;
  for (size_t i = 0; i < header_.size(); ++i) width_[i] = display_width(header_[i]);
}

// Column i's cell as printed: `c` becomes its display form (in shown_) unless
// it is plain; returns its width.
size_t StreamTable::shown(size_t i, std::string_view& c) {
  if (plain_[i] || is_plain_text(c)) return c.size();
  shown_.clear();
  append_display(shown_, c);
  c = shown_;
  return display_width(shown_);
}

void StreamTable::measure() {
  for (size_t i = 0; i < measured_; ++i) {
    std::string_view c = cells_[i];
    width_[i] = std::max(width_[i], shown(i, c));
  }
}

// Lines go into one buffer, handed to `out` a megabyte at a time (flush()).
void StreamTable::line(std::ostream& out, const std::vector<std::string_view>& r) {
  const size_t start = buf_.size();
  const size_t n = width_.size();
  for (size_t i = 0; i < n; ++i) {
    if (i == measured_) {  // the last column, left-aligned: no padding after it
      if (plain_[i]) buf_ += r[i];
      else append_display(buf_, r[i]);
      break;
    }
    std::string_view c = r[i];
    size_t w = shown(i, c);
    size_t pad = width_[i] - std::min(width_[i], w);
    if (right_[i]) buf_.append(pad, ' ');
    buf_ += c;
    if (i + 1 < n) {
      if (!right_[i]) buf_.append(pad, ' ');
      buf_ += "  ";
    }
  }
  while (buf_.size() > start && buf_.back() == ' ') buf_.pop_back();
  buf_ += '\n';
  if (buf_.size() >= kFlushAt) flush(out);
}

void StreamTable::flush(std::ostream& out) {
  out.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  buf_.clear();
}

void StreamTable::print_header(std::ostream& out) {
  std::vector<std::string_view> h(header_.begin(), header_.end());
  line(out, h);
}

void StreamTable::print(std::ostream& out) { line(out, cells_); }

// The decoder builds the model (about 0.6x the file's bytes for a large
// incremental checkpoint) out of many small vectors, carved from the heap's
// fresh top: a 4 KiB page fault each 4 KiB was a quarter of inspect's CPU at
// 100 MB. For a local snapshot of 8 MiB or more the heap is grown once by
// 3/4 of the file's size, that range is asked for transparent huge pages (a
// hint: madvise, where the kernel does it on request), and the heap is not
// trimmed, so the model is built in it. Process-wide malloc settings are the
// program's business, so this lives in the CLI, not the library.
namespace {
void prepare_heap_for(const std::string& path) {
  static size_t reserved = 0;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode) && ::stat((path + "/_metadata").c_str(), &st) != 0) return;
  if (!S_ISREG(st.st_mode) || st.st_size < (off_t{8} << 20)) return;
  size_t want = static_cast<size_t>(st.st_size) / 4 * 3;
  if (want <= reserved) return;
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);  // keep the grown heap (it is reused, never returned early)
  auto before = reinterpret_cast<uintptr_t>(::sbrk(0));
  ::mallopt(M_TOP_PAD, static_cast<int>(std::min<size_t>(want, 1u << 30)));
  // Small blocks (below the mmap threshold) until malloc has to extend the
  // heap, which it then does by the pad; a few at most.
  void* probes[64];
  int n = 0;
  uintptr_t after = before;
  while (n < 64 && after == before) {
    probes[n] = std::malloc(64 << 10);
    if (!probes[n]) break;
    ++n;
    after = reinterpret_cast<uintptr_t>(::sbrk(0));
  }
  ::mallopt(M_TOP_PAD, 128 << 10);  // glibc's default again
  while (n > 0) std::free(probes[--n]);
  if (after <= before) return;  // no brk heap (a sanitizer's allocator) or it could not grow
  uintptr_t from = (before + kHuge - 1) & ~(kHuge - 1), to = after & ~(kHuge - 1);
  if (to > from) (void)::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
  reserved = want;
}
}  // namespace

Result<SnapshotFile> open_input(const std::string& path) {
  prepare_heap_for(path);
  return open_snapshot(path);
}

void keep_until_exit(SnapshotFile&& sf) {
  // Reachable from a static, so leak checkers do not report it.
  static SnapshotFile* kept = nullptr;
  if (kept) return;  // one is enough; a second is destroyed normally
  kept = new SnapshotFile(std::move(sf));
}

}  // namespace fsp::cli
