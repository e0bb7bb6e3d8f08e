// `check --config FILE` / `--deployment FILE`: what the cluster will restore
// with, from the files teams already have: Flink's config.yaml (nested or
// flat keys), the legacy flink-conf.yaml, and a Flink Kubernetes Operator
// FlinkDeployment or FlinkSessionJob resource (YAML or JSON). Parsed with
// yaml-cpp (JSON is YAML). Detected by content.
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "flink_savepoint/job.h"
#include "flink_savepoint/text.h"

namespace fsp {
namespace {

Error bad(const std::string& path, const std::string& msg) {
  Error e = Error::usage(path + ": " + msg);
  e.hint = "--config takes Flink's config.yaml or flink-conf.yaml; --deployment a FlinkDeployment or FlinkSessionJob "
           "resource (docs/job-manifest.md)";
  return e;
}

// Flattens nested maps to dotted keys ("state: {backend: {type: x}}" -> "state.backend.type").
void flatten(const YAML::Node& n, const std::string& prefix, std::map<std::string, std::string>& out, int depth) {
  if (depth > 32) return;
  if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!kv.first.IsScalar()) continue;
      std::string k = kv.first.Scalar();
      flatten(kv.second, prefix.empty() ? k : prefix + "." + k, out, depth + 1);
    }
  } else if (n.IsScalar()) {
    out[prefix] = n.Scalar();
  }
}

Result<int32_t> positive(const std::string& path, const std::string& key, const std::string& v) {
  int64_t x = 0;
  if (v.empty() || v.size() > 6) return bad(path, key + " must be an integer within 1..32768, found \"" + v + "\"");
  for (char c : v) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return bad(path, key + " must be an integer, found \"" + v + "\"");
    x = x * 10 + (c - '0');
  }
  if (x < 1 || x > 32768) return bad(path, key + " must be within 1..32768, found " + v);
  return static_cast<int32_t>(x);
}

std::optional<bool> boolean(const std::string& v) {
  std::string l = ascii_lower(v);
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  return std::nullopt;
}

// Applies Flink configuration keys (flat).
Status apply_keys(const std::string& path, const std::map<std::string, std::string>& kv, JobSettings& s) {
  auto get = [&](std::initializer_list<const char*> keys) -> std::optional<std::string> {
    for (const char* k : keys) {
      auto it = kv.find(k);
      if (it != kv.end()) return it->second;
    }
    return std::nullopt;
  };
  if (auto v = get({"state.backend.type", "state.backend"})) {
    std::string b = ascii_lower(*v);
    if (b == "filesystem" || b == "jobmanager" || b == "memory" || b == "fs") b = "hashmap";  // pre-1.13 names
    if (b == "rocksdb" || b == "hashmap" || b == "forst") {
      s.state_backend = b;
    } else if (b.find('.') != std::string::npos) {
      s.notes.push_back(path + ": state.backend.type is a factory class (" + *v + "): backend rules need --state-backend");
    } else {
      return bad(path, "state.backend.type must be hashmap, rocksdb or forst, found \"" + *v + "\"");
    }
  }
  if (auto v = get({"pipeline.max-parallelism"})) {
    auto x = positive(path, "pipeline.max-parallelism", *v);
    if (!x) return x.error();
    s.max_parallelism = *x;
  }
  if (auto v = get({"parallelism.default"})) {
    auto x = positive(path, "parallelism.default", *v);
    if (!x) return x.error();
    s.parallelism = *x;
  }
  if (auto v = get({"execution.state-recovery.claim-mode", "execution.savepoint-restore-mode",
                    "execution.savepoint.restore-mode"})) {
    std::string c = ascii_lower(*v);
    if (c != "claim" && c != "no_claim" && c != "legacy")
      return bad(path, "execution.state-recovery.claim-mode must be CLAIM, NO_CLAIM or LEGACY, found \"" + *v + "\"");
    s.claim_mode = c;
  }
  if (auto v = get({"execution.state-recovery.ignore-unclaimed-state", "execution.savepoint.ignore-unclaimed-state"})) {
    auto b = boolean(*v);
    if (!b) return bad(path, "execution.state-recovery.ignore-unclaimed-state must be true or false, found \"" + *v + "\"");
    s.allow_non_restored_state = *b;
  }
  return {};
}

}  // namespace

Result<JobSettings> parse_job_settings(const std::string& text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("not YAML or JSON: ") + e.what());
  }
  JobSettings s;
  s.source = path;
  if (root.IsNull()) return s;  // an empty config: nothing set
  if (!root.IsMap()) return bad(path, "expected a mapping of configuration keys or a Kubernetes resource");
  try {
    const YAML::Node kind = root["kind"];
    if (kind && kind.IsScalar() && (kind.Scalar() == "FlinkDeployment" || kind.Scalar() == "FlinkSessionJob")) {
      s.kind = kind.Scalar();
      const YAML::Node spec = root["spec"];
      if (!spec || !spec.IsMap()) return bad(path, s.kind + " without a \"spec\" mapping");
      if (spec["flinkVersion"] && spec["flinkVersion"].IsScalar()) {
        // v1_20 -> 1.20
        std::string v = spec["flinkVersion"].Scalar();
        if (!v.empty() && (v[0] == 'v' || v[0] == 'V')) v = v.substr(1);
        for (auto& c : v)
          if (c == '_') c = '.';
        int a, b;
        if (!parse_flink_version(v, a, b))
          return bad(path, "spec.flinkVersion must look like v1_20 or v2_1, found \"" + spec["flinkVersion"].Scalar() + "\"");
        s.flink_version = std::to_string(a) + "." + std::to_string(b);
      }
      if (spec["flinkConfiguration"]) {
        std::map<std::string, std::string> kv;
        flatten(spec["flinkConfiguration"], "", kv, 0);
        if (auto st = apply_keys(path + " spec.flinkConfiguration", kv, s); !st) return st.error();
      }
      const YAML::Node job = spec["job"];
      if (job && job.IsMap()) {
        if (job["parallelism"] && job["parallelism"].IsScalar()) {
          auto x = positive(path, "spec.job.parallelism", job["parallelism"].Scalar());
          if (!x) return x.error();
          s.parallelism = *x;
        }
        if (job["allowNonRestoredState"] && job["allowNonRestoredState"].IsScalar()) {
          auto b = boolean(job["allowNonRestoredState"].Scalar());
          if (!b) return bad(path, "spec.job.allowNonRestoredState must be true or false");
          s.allow_non_restored_state = *b;
        }
        if (job["upgradeMode"] && job["upgradeMode"].IsScalar()) {
          s.upgrade_mode = ascii_lower(job["upgradeMode"].Scalar());
          if (s.upgrade_mode != "stateless" && s.upgrade_mode != "savepoint" && s.upgrade_mode != "last-state")
            return bad(path, "spec.job.upgradeMode must be stateless, savepoint or last-state, found \"" +
                                 job["upgradeMode"].Scalar() + "\"");
        }
      }
      return s;
    }
    std::map<std::string, std::string> kv;
    flatten(root, "", kv, 0);
    s.kind = "flink-config";
    if (auto st = apply_keys(path, kv, s); !st) return st.error();
  } catch (const YAML::Exception& e) {
    return bad(path, std::string("unexpected structure: ") + e.what());
  }
  return s;
}

Result<JobSettings> load_job_settings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::no_input("cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error::io("cannot read '" + path + "'");
  return parse_job_settings(ss.str(), path);
}

void apply_job_settings(const JobSettings& s, NewJob& job) {
  if (!s.flink_version.empty()) job.flink_version = s.flink_version;
  if (!s.state_backend.empty()) job.state_backend = s.state_backend;
  if (s.allow_non_restored_state) job.allow_non_restored_state = s.allow_non_restored_state;
  if (!s.claim_mode.empty()) job.claim_mode = s.claim_mode;
  if (s.parallelism > 0) {
    job.parallelism = s.parallelism;
    for (auto& op : job.operators)
      if (op.parallelism == 0 && !op.chain_head_only) op.parallelism = s.parallelism;
  }
  if (s.max_parallelism > 0) {
    job.max_parallelism = s.max_parallelism;
    // pipeline.max-parallelism is set explicitly: it applies to every
    // operator that does not set its own.
    for (auto& op : job.operators)
      if (op.max_parallelism == 0 && !op.max_parallelism_effective) {
        op.max_parallelism = s.max_parallelism;
        op.max_parallelism_explicit = true;
      }
  }
  if (s.upgrade_mode == "stateless")
    job.notes.push_back(s.source + ": upgradeMode stateless: the operator starts the job without any state, so this "
                                   "snapshot is not restored at all");
  else if (s.upgrade_mode == "last-state")
    job.notes.push_back(s.source + ": upgradeMode last-state: the operator restores the latest checkpoint (native format, "
                                   "same backend), which may not be this snapshot");
  for (const auto& n : s.notes) job.notes.push_back(n);
}

}  // namespace fsp
