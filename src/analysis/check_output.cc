// `check` output: JSON, readable text grouped by operator, JUnit XML.
#include <map>
#include <sstream>

#include "flink_savepoint/check.h"

namespace fsp {
namespace {

nlohmann::json finding_json(const Finding& f) {
  return {{"severity", severity_name(f.severity)}, {"rule", f.rule},
          {"operator_id", f.operator_id.empty() ? nlohmann::json() : nlohmann::json(f.operator_id)},
          {"uid", f.uid.empty() ? nlohmann::json() : nlohmann::json(f.uid)},
          {"name", f.name.empty() ? nlohmann::json() : nlohmann::json(f.name)},
          {"message", f.message},
          {"flink_error", f.flink_error.empty() ? nlohmann::json() : nlohmann::json(f.flink_error)},
          {"hint", f.hint.empty() ? nlohmann::json() : nlohmann::json(f.hint)}};
}

std::string xml_escape(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '&': o += "&amp;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') o += ' ';
        else o += c;
    }
  }
  return o;
}

const char* tag(Severity s) {
  switch (s) {
    case Severity::kError: return "ERROR  ";
    case Severity::kWarning: return "WARNING";
    default: return "info   ";
  }
}

std::string indent(const std::string& s, const std::string& pad) {
  std::string o;
  for (char c : s) {
    o += c;
    if (c == '\n') o += pad;
  }
  return o;
}

// Findings by operator key: operator id, or "" for job-wide ones.
std::map<std::string, std::vector<const Finding*>> by_operator(const CheckReport& r) {
  std::map<std::string, std::vector<const Finding*>> m;
  for (const auto& f : r.findings) m[f.operator_id].push_back(&f);
  return m;
}

std::string operator_title(const Finding& f, const std::string& id) {
  std::string t = "operator " + id;
  if (!f.uid.empty()) t += "  uid \"" + f.uid + "\"";
  if (!f.name.empty() && f.name != f.uid) t += "  name \"" + f.name + "\"";
  return t;
}

}  // namespace

nlohmann::json report_to_json(const CheckReport& r) {
  nlohmann::json j;
  j["verdict"] = r.verdict();
  j["snapshot"] = {{"path", r.snapshot_path},
                   {"metadata_version", r.metadata_version},
                   {"type", r.snapshot_type.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_type)},
                   {"format", r.snapshot_format.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_format)},
                   {"backend", r.snapshot_backend.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_backend)}};
  j["job"] = {{"source", r.job_source}, {"kind", r.job_kind}};
  j["target_flink"] = r.target_flink.empty() ? nlohmann::json() : nlohmann::json(r.target_flink);
  j["state_backend"] = r.state_backend.empty() ? nlohmann::json() : nlohmann::json(r.state_backend);
  j["allow_non_restored_state"] = r.allow_non_restored_state;
  j["states_read"] = r.states_read;
  j["counts"] = {{"error", r.count(Severity::kError)},
                 {"warning", r.count(Severity::kWarning)},
                 {"info", r.count(Severity::kInfo)}};
  j["findings"] = nlohmann::json::array();
  for (const auto& f : r.findings) j["findings"].push_back(finding_json(f));
  j["notes"] = r.notes;
  return j;
}

std::string report_to_text(const CheckReport& r) {
  std::ostringstream o;
  o << "snapshot:  " << r.snapshot_path << " (metadata v" << r.metadata_version;
  if (!r.snapshot_type.empty()) o << ", " << r.snapshot_type;
  if (!r.snapshot_format.empty()) o << ", " << r.snapshot_format;
  if (!r.snapshot_backend.empty()) o << ", backend " << r.snapshot_backend;
  o << ")\n";
  o << "new job:   " << r.job_source << " (" << r.job_kind << ")\n";
  o << "target:    Flink " << (r.target_flink.empty() ? "?" : r.target_flink) << ", state backend "
    << (r.state_backend.empty() ? "?" : r.state_backend)
    << (r.allow_non_restored_state ? ", --allowNonRestoredState" : "") << "\n";
  int matched = 0;
  for (const auto& m : r.matches) matched += m.job_index >= 0;
  o << "operators: " << r.matches.size() << " in the snapshot, " << matched << " matched in the new job\n\n";

  auto groups = by_operator(r);
  for (const auto& [id, fs] : groups) {
    if (id.empty()) continue;
    o << operator_title(*fs.front(), id) << "\n";
    for (const auto* f : fs) {
      o << "  " << tag(f->severity) << " [" << f->rule << "] " << indent(f->message, "            ") << "\n";
      if (!f->flink_error.empty()) o << "            Flink: " << indent(f->flink_error, "                   ") << "\n";
      if (!f->hint.empty()) o << "            fix:   " << f->hint << "\n";
    }
    o << "\n";
  }
  if (groups.count("")) {
    o << "job-wide\n";
    for (const auto* f : groups.at("")) {
      o << "  " << tag(f->severity) << " [" << f->rule << "] " << indent(f->message, "            ") << "\n";
      if (!f->flink_error.empty()) o << "            Flink: " << indent(f->flink_error, "                   ") << "\n";
      if (!f->hint.empty()) o << "            fix:   " << f->hint << "\n";
    }
    o << "\n";
  }
  for (const auto& n : r.notes) o << "note: " << n << "\n";
  if (!r.notes.empty()) o << "\n";
  o << "verdict: " << r.verdict() << " (" << r.count(Severity::kError) << " error(s), " << r.count(Severity::kWarning)
    << " warning(s), " << r.count(Severity::kInfo) << " info)\n";
  return o.str();
}

std::string report_to_junit(const CheckReport& r, bool strict) {
  auto groups = by_operator(r);
  // One test case per operator with findings, plus one job-wide.
  struct Case {
    std::string name;
    std::vector<const Finding*> fs;
  };
  std::vector<Case> cases;
  for (const auto& [id, fs] : groups) {
    if (id.empty()) continue;
    cases.push_back({operator_title(*fs.front(), id), fs});
  }
  cases.push_back({"job-wide", groups.count("") ? groups.at("") : std::vector<const Finding*>{}});
  int failures = 0;
  std::ostringstream body;
  for (const auto& c : cases) {
    bool fail = false;
    std::string text;
    for (const auto* f : c.fs) {
      if (f->severity == Severity::kError || (strict && f->severity == Severity::kWarning)) fail = true;
      text += std::string(severity_name(f->severity)) + " [" + f->rule + "] " + f->message + "\n";
      if (!f->flink_error.empty()) text += "  Flink: " + f->flink_error + "\n";
      if (!f->hint.empty()) text += "  fix: " + f->hint + "\n";
    }
    failures += fail;
    body << "    <testcase classname=\"flink-savepoint.check\" name=\"" << xml_escape(c.name) << "\">\n";
    if (fail) {
      std::string first;
      for (const auto* f : c.fs)
        if (f->severity == Severity::kError || (strict && f->severity == Severity::kWarning)) {
          first = f->rule + ": " + f->message;
          break;
        }
      body << "      <failure message=\"" << xml_escape(first) << "\" type=\"restore-incompatible\">" << xml_escape(text)
           << "</failure>\n";
    } else if (!text.empty()) {
      body << "      <system-out>" << xml_escape(text) << "</system-out>\n";
    }
    body << "    </testcase>\n";
  }
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<testsuites tests=\"" << cases.size() << "\" failures=\"" << failures << "\">\n";
  o << "  <testsuite name=\"flink-savepoint check " << xml_escape(r.snapshot_path) << " -> " << xml_escape(r.job_source)
    << "\" tests=\"" << cases.size() << "\" failures=\"" << failures << "\" errors=\"0\" skipped=\"0\">\n";
  o << body.str();
  o << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace fsp
