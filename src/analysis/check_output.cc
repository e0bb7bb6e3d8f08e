// `check` output: JSON, readable text grouped by operator, JUnit XML.
#include <map>
#include <sstream>

#include "flink_savepoint/check.h"
#include "flink_savepoint/display.h"
#include "flink_savepoint/json.h"

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
  std::string t = "operator " + display(id);
  if (!f.uid.empty()) t += "  uid \"" + display(f.uid) + "\"";
  if (!f.name.empty() && f.name != f.uid) t += "  name \"" + display(f.name) + "\"";
  return t;
}

// Multi-line texts: each line through the one conversion (no control
// character of a stored string reaches the terminal; the text's own line
// breaks stay).
std::string lines(const std::string& s) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t nl = s.find('\n', start);
    append_display(out, std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
  }
  return out;
}

}  // namespace

nlohmann::json report_to_json(const CheckReport& r) {
  nlohmann::json j;
  j["verdict"] = r.verdict();
  j["state_dropped"] = r.state_dropped;
  j["states_skipped"] = r.states_skipped;
  j["unevaluated"] = nlohmann::json::array();
  for (const auto& u : r.unevaluated)
    j["unevaluated"].push_back({{"rules", u.rule},
                                {"operator_id", u.operator_id.empty() ? nlohmann::json() : nlohmann::json(u.operator_id)},
                                {"reason", u.reason}});
  j["snapshot"] = {{"path", r.snapshot_path},
                   {"metadata_version", r.metadata_version},
                   {"type", r.snapshot_type.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_type)},
                   {"format", r.snapshot_format.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_format)},
                   {"backend", r.snapshot_backend.empty() ? nlohmann::json() : nlohmann::json(r.snapshot_backend)}};
  j["job"] = {{"source", r.job_source}, {"kind", r.job_kind}};
  j["target_flink"] = r.target_flink.empty() ? nlohmann::json() : nlohmann::json(r.target_flink);
  j["state_backend"] = r.state_backend.empty() ? nlohmann::json() : nlohmann::json(r.state_backend);
  j["allow_non_restored_state"] = r.allow_non_restored_state;
  j["claim_mode"] = r.claim_mode.empty() ? nlohmann::json() : nlohmann::json(r.claim_mode);
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
  o << "snapshot:  " << display(r.snapshot_path) << " (metadata v" << r.metadata_version;
  if (!r.snapshot_type.empty()) o << ", " << r.snapshot_type;
  if (!r.snapshot_format.empty()) o << ", " << r.snapshot_format;
  if (!r.snapshot_backend.empty()) o << ", backend " << r.snapshot_backend;
  o << ")\n";
  o << "new job:   " << display(r.job_source) << " (" << r.job_kind << ")\n";
  o << "target:    Flink " << (r.target_flink.empty() ? "?" : r.target_flink) << ", state backend "
    << (r.state_backend.empty() ? "?" : r.state_backend)
    << (r.allow_non_restored_state ? ", --allowNonRestoredState" : "")
    << (r.claim_mode.empty() ? "" : ", claim mode " + r.claim_mode) << "\n";
  int matched = 0;
  for (const auto& m : r.matches) matched += m.job_index >= 0;
  o << "operators: " << r.matches.size() << " in the snapshot, " << matched << " matched in the new job\n\n";

  auto groups = by_operator(r);
  for (const auto& [id, fs] : groups) {
    if (id.empty()) continue;
    o << operator_title(*fs.front(), id) << "\n";
    for (const auto* f : fs) {
      o << "  " << tag(f->severity) << " [" << f->rule << "] " << indent(lines(f->message), "            ") << "\n";
      if (!f->flink_error.empty()) o << "            Flink: " << indent(lines(f->flink_error), "                   ") << "\n";
      if (!f->hint.empty()) o << "            fix:   " << lines(f->hint) << "\n";
    }
    o << "\n";
  }
  if (groups.count("")) {
    o << "job-wide\n";
    for (const auto* f : groups.at("")) {
      o << "  " << tag(f->severity) << " [" << f->rule << "] " << indent(lines(f->message), "            ") << "\n";
      if (!f->flink_error.empty()) o << "            Flink: " << indent(lines(f->flink_error), "                   ") << "\n";
      if (!f->hint.empty()) o << "            fix:   " << lines(f->hint) << "\n";
    }
    o << "\n";
  }
  for (const auto& n : r.notes) o << "note: " << lines(n) << "\n";
  if (!r.notes.empty()) o << "\n";
  if (!r.unevaluated.empty()) {
    o << "not evaluated (a rule that could fail could not be checked):\n";
    for (const auto& u : r.unevaluated)
      o << "  " << (u.operator_id.empty() ? std::string("job-wide") : "operator " + u.operator_id) << ": " << u.rule
        << "\n      why: " << indent(u.reason, "           ") << "\n";
    o << "\n";
  }
  o << "verdict: " << r.verdict_line() << " (" << r.count(Severity::kError) << " error(s), " << r.count(Severity::kWarning)
    << " warning(s), " << r.count(Severity::kInfo) << " info)\n";
  return o.str();
}

std::string report_to_junit(const CheckReport& r, bool strict) {
  // A stable set of test cases: one per snapshot operator (whether or not it
  // has findings) and one per job-wide rule group, so that CI sees the same
  // tests from run to run.
  struct Case {
    std::string name;
    std::vector<const Finding*> fs;
    std::vector<const Unevaluated*> ue;
  };
  std::vector<Case> cases;
  std::map<std::string, size_t> by_id;
  for (const auto& m : r.matches) {
    if (by_id.count(m.operator_id)) continue;
    std::string t = "operator " + m.operator_id;
    if (!m.uid.empty()) t += "  uid \"" + m.uid + "\"";
    if (!m.name.empty() && m.name != m.uid) t += "  name \"" + m.name + "\"";
    by_id[m.operator_id] = cases.size();
    cases.push_back({t, {}, {}});
  }
  auto group_of = [](const std::string& rule) -> std::string {
    static const std::map<std::string, std::string> kGroups = {
        {"backend-switch", "job-wide: state backend and snapshot format"},
        {"unaligned-topology-change", "job-wide: state backend and snapshot format"},
        {"unaligned-version-upgrade", "job-wide: state backend and snapshot format"},
        {"claim-mode", "job-wide: state backend and snapshot format"},
        {"flink-downgrade", "job-wide: Flink version"},
        {"metadata-version-unreadable", "job-wide: Flink version"},
        {"pre-1.8-snapshot", "job-wide: Flink version"},
        {"major-version-step", "job-wide: Flink version"},
        {"checkpoint-version-upgrade", "job-wide: Flink version"}};
    auto it = kGroups.find(rule);
    return it == kGroups.end() ? "job-wide: new job operators" : it->second;
  };
  for (const char* g : {"job-wide: new job operators", "job-wide: state backend and snapshot format", "job-wide: Flink version"}) {
    by_id[g] = cases.size();
    cases.push_back({g, {}, {}});
  }
  for (const auto& f : r.findings) {
    auto it = by_id.find(f.operator_id);
    size_t k = it != by_id.end() && !f.operator_id.empty() ? it->second : by_id.at(group_of(f.rule));
    cases[k].fs.push_back(&f);
  }
  for (const auto& u : r.unevaluated) {
    auto it = by_id.find(u.operator_id);
    size_t k = it != by_id.end() && !u.operator_id.empty() ? it->second : by_id.at(group_of(u.rule));
    cases[k].ue.push_back(&u);
  }
  int failures = 0, skipped = 0;
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
    for (const auto* u : c.ue) text += "not evaluated [" + u->rule + "] " + u->reason + "\n";
    body << "    <testcase classname=\"flink-savepoint.check\" name=\"" << xml_escape(c.name) << "\">\n";
    if (fail) {
      ++failures;
      std::string first;
      for (const auto* f : c.fs)
        if (f->severity == Severity::kError || (strict && f->severity == Severity::kWarning)) {
          first = f->rule + ": " + f->message;
          break;
        }
      body << "      <failure message=\"" << xml_escape(first) << "\" type=\"restore-incompatible\">" << xml_escape(text)
           << "</failure>\n";
    } else if (!c.ue.empty()) {
      ++skipped;
      body << "      <skipped message=\"" << xml_escape("not evaluated: " + c.ue.front()->rule + ": " + c.ue.front()->reason)
           << "\"/>\n";
      body << "      <system-out>" << xml_escape(text) << "</system-out>\n";
    } else if (!text.empty()) {
      body << "      <system-out>" << xml_escape(text) << "</system-out>\n";
    }
    body << "    </testcase>\n";
  }
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<testsuites tests=\"" << cases.size() << "\" failures=\"" << failures << "\" skipped=\"" << skipped << "\">\n";
  o << "  <testsuite name=\"flink-savepoint check " << xml_escape(r.snapshot_path) << " -> " << xml_escape(r.job_source)
    << "\" tests=\"" << cases.size() << "\" failures=\"" << failures << "\" errors=\"0\" skipped=\"" << skipped << "\">\n";
  o << body.str();
  o << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace fsp
