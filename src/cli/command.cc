#include "src/cli/command.h"

#include <iostream>
#include <nlohmann/json.hpp>

namespace fsp::cli {

int report(const Context& ctx, const Error& e) {
  if (ctx.json) {
    nlohmann::json j{{"error", {{"message", e.message}, {"exit_code", e.exit_code()}}}};
    if (e.offset) j["error"]["offset"] = *e.offset;
    if (!e.where.empty()) j["error"]["where"] = e.where;
    if (!e.hint.empty()) j["error"]["hint"] = e.hint;
    std::cerr << j.dump() << "\n";
  } else {
    std::cerr << "error: " << e.to_string() << "\n";
    if (!e.hint.empty()) std::cerr << "hint: " << e.hint << "\n";
  }
  return e.exit_code();
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

}  // namespace fsp::cli
