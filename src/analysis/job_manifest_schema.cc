// Strict validation of the job manifest (docs/job-manifest.md): every key is
// known, every value has its type and range. A key the reader does not know
// is an error with its JSON path and the key it most likely meant
// ("maxParallelism" -> "max_parallelism", "paralelism" -> "parallelism"):
// dropped keys silently gave "compatible" before.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "flink_savepoint/json.h"
#include "flink_savepoint/check.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/text.h"
#include "flink_savepoint/units.h"

namespace fsp {
namespace {

Error bad(const std::string& path, const std::string& msg) {
  Error e = Error::usage("job manifest: " + path + ": " + msg);
  e.hint = "see docs/job-manifest.md for the keys a job manifest accepts";
  return e;
}

// "maxParallelism" / "max-parallelism" / "MaxParallelism" -> "max_parallelism".
std::string snake(const std::string& k) {
  std::string o;
  for (size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && o.back() != '_') o += '_';
      o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == '-' || c == '.' || c == ' ') {
      o += '_';
    } else {
      o += c;
    }
  }
  return o;
}

std::string did_you_mean(const std::string& key, const std::vector<std::string>& known) {
  static const std::map<std::string, std::string> kAliases = {
      {"id", "operator_id"},          {"operatorid", "operator_id"},       {"vertex_id", "operator_id"},
      {"uidhash", "uid_hash"},        {"maxparallelism", "max_parallelism"}, {"state_descriptors", "states"},
      {"state", "states"},            {"type", "kind"},                     {"serializer", "value_serializer"},
      {"allow_non_restored", "allow_non_restored_state"}, {"ignore_unclaimed_state", "allow_non_restored_state"},
      {"backend", "state_backend"},   {"version", "flink_version"},        {"target_flink", "flink_version"}};
  std::string s = snake(key);
  auto in = [&](const std::string& k) { return std::find(known.begin(), known.end(), k) != known.end(); };
  if (in(s)) return s;
  std::string low = ascii_lower(key);
  for (const auto& cand : {s, low}) {
    auto it = kAliases.find(cand);
    if (it != kAliases.end() && in(it->second)) return it->second;
  }
  std::string best;
  size_t best_d = 3;
  for (const auto& k : known) {
    size_t d = std::min(edit_distance(s, k), edit_distance(low, k));
    if (d < best_d) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

Status keys(const nlohmann::json& o, const std::string& path, const std::vector<std::string>& known) {
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (std::find(known.begin(), known.end(), it.key()) != known.end()) continue;
    std::string m = did_you_mean(it.key(), known);
    std::string where = path.empty() ? it.key() : path + "." + it.key();
    return bad(where, "unknown key \"" + it.key() + "\"" + (m.empty() ? "" : " (did you mean \"" + m + "\"?)"));
  }
  return {};
}

const char* type_name(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

Status string_at(const nlohmann::json& o, const std::string& k, const std::string& path) {
  if (!o.contains(k) || o[k].is_null() || o[k].is_string()) return {};
  return bad(path + "." + k, std::string("must be a string, found ") + type_name(o[k]));
}

Status int_at(const nlohmann::json& o, const std::string& k, const std::string& path, int64_t lo, int64_t hi) {
  if (!o.contains(k) || o[k].is_null()) return {};
  const auto& v = o[k];
  std::string p = path.empty() ? k : path + "." + k;
  if (!v.is_number_integer()) return bad(p, std::string("must be an integer, found ") + type_name(v));
  int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : v.get<int64_t>();
  if (x < lo || x > hi)
    return bad(p, "must be within " + std::to_string(lo) + ".." + std::to_string(hi) + ", found " + v.dump());
  return {};
}

Status ignore_list(const nlohmann::json& o, const std::string& path, bool allow_operator) {
  if (!o.contains("ignore") || o["ignore"].is_null()) return {};
  const auto& v = o["ignore"];
  std::string p = path.empty() ? "ignore" : path + ".ignore";
  if (!v.is_array()) return bad(p, std::string("must be an array of rule ids, found ") + type_name(v));
  for (size_t i = 0; i < v.size(); ++i) {
    std::string pi = p + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) return bad(pi, std::string("must be a string, found ") + type_name(v[i]));
    std::string spec = v[i].get<std::string>();
    if (!allow_operator && spec.find(':') != std::string::npos)
      return bad(pi, "an operator's \"ignore\" takes rule ids only (the operator is implied), found \"" + spec + "\"");
    auto ok = validate_ignore_spec(spec);
    if (!ok) return bad(pi, ok.error().message);
  }
  return {};
}

}  // namespace

Status validate_ignore_spec(const std::string& spec) {
  std::string rule = spec.substr(0, spec.find(':'));
  const auto& ids = check_rule_ids();
  if (std::find(ids.begin(), ids.end(), rule) != ids.end()) {
    if (spec.find(':') != std::string::npos && spec.size() == rule.size() + 1)
      return Error::usage("\"" + spec + "\": the operator after ':' is empty (RULE:UID or RULE:OPERATOR_ID)");
    return {};
  }
  std::string m = did_you_mean(rule, ids);
  return Error::usage("unknown rule \"" + rule + "\"" + (m.empty() ? "" : " (did you mean \"" + m + "\"?)") +
                      "; docs/check.md lists the rules");
}

Status validate_job_manifest(const nlohmann::json& j) {
  if (!j.is_object()) return bad("(top level)", "must be an object");
  if (auto r = keys(j, "", {"schema_version", "flink_version", "state_backend", "allow_non_restored_state",
                            "max_parallelism", "parallelism", "operators", "ignore", "description", "generated_by",
                            "claim_mode"});
      !r)
    return r;
  if (auto r = int_at(j, "schema_version", "", 1, INT32_MAX); !r) return r;
  if (j.contains("schema_version") && j["schema_version"].is_number_integer() &&
      j["schema_version"].get<int64_t>() > kJobManifestSchemaVersion)
    return bad("schema_version", "this manifest is schema version " + j["schema_version"].dump() +
                                     "; this flink-savepoint reads versions up to " +
                                     std::to_string(kJobManifestSchemaVersion) + " (upgrade flink-savepoint)");
  if (j.contains("claim_mode") && j["claim_mode"].is_string()) {
    std::string v = ascii_lower(j["claim_mode"].get<std::string>());
    if (v != "claim" && v != "no_claim" && v != "legacy")
      return bad("claim_mode", "must be claim, no_claim or legacy, found \"" + j["claim_mode"].get<std::string>() + "\"");
  }
  for (const char* k : {"flink_version", "state_backend", "description", "generated_by", "claim_mode"})
    if (j.contains(k) && !j[k].is_null() && !j[k].is_string())
      return bad(k, std::string("must be a string, found ") + type_name(j[k]));
  if (j.contains("allow_non_restored_state") && !j["allow_non_restored_state"].is_null() &&
      !j["allow_non_restored_state"].is_boolean())
    return bad("allow_non_restored_state", std::string("must be true or false, found ") + type_name(j["allow_non_restored_state"]));
  if (auto r = int_at(j, "max_parallelism", "", 1, 32768); !r) return r;
  if (auto r = int_at(j, "parallelism", "", 1, 32768); !r) return r;
  if (auto r = ignore_list(j, "", true); !r) return r;
  if (!j.contains("operators")) return bad("operators", "missing (an array of the new job's operators)");
  if (!j["operators"].is_array()) return bad("operators", std::string("must be an array, found ") + type_name(j["operators"]));
  const auto& ops = j["operators"];
  for (size_t i = 0; i < ops.size(); ++i) {
    std::string p = "operators[" + std::to_string(i) + "]";
    const auto& o = ops[i];
    if (!o.is_object()) return bad(p, std::string("must be an object, found ") + type_name(o));
    if (auto r = keys(o, p, {"uid", "uid_hash", "operator_id", "name", "parallelism", "max_parallelism", "states", "ignore"}); !r)
      return r;
    for (const char* k : {"uid", "uid_hash", "operator_id", "name"})
      if (auto r = string_at(o, k, p); !r) return r;
    if (auto r = int_at(o, "parallelism", p, 1, 32768); !r) return r;
    if (auto r = int_at(o, "max_parallelism", p, 1, 32768); !r) return r;
    if (auto r = ignore_list(o, p, false); !r) return r;
    if (!o.contains("states") || o["states"].is_null()) continue;
    if (!o["states"].is_array()) return bad(p + ".states", std::string("must be an array, found ") + type_name(o["states"]));
    for (size_t k = 0; k < o["states"].size(); ++k) {
      std::string ps = p + ".states[" + std::to_string(k) + "]";
      const auto& s = o["states"][k];
      if (!s.is_object()) return bad(ps, std::string("must be an object, found ") + type_name(s));
      if (auto r = keys(s, ps, {"name", "kind", "key_serializer", "value_serializer", "ttl"}); !r) return r;
      if (!s.contains("name") || !s["name"].is_string()) return bad(ps + ".name", "missing: every state needs a string \"name\"");
      for (const char* key : {"kind", "key_serializer", "value_serializer"})
        if (auto r = string_at(s, key, ps); !r) return r;
      if (s.contains("kind") && s["kind"].is_string()) {
        static const std::set<std::string> kKinds = {"value", "list", "map", "reducing", "aggregating", "folding",
                                                     "operator_list", "operator_union", "broadcast", "valuestate",
                                                     "liststate", "mapstate", "value_state", "list_state", "map_state",
                                                     "union", "union_list", "operator_union_list", "operator_list_state",
                                                     "split", "split_distribute"};
        std::string kind = ascii_lower(s["kind"].get<std::string>());
        if (!kKinds.count(kind)) {
          std::vector<std::string> v(kKinds.begin(), kKinds.end());
          std::string m = did_you_mean(kind, v);
          return bad(ps + ".kind", "unknown state kind \"" + s["kind"].get<std::string>() + "\"" +
                                       (m.empty() ? "" : " (did you mean \"" + m + "\"?)") +
                                       "; one of value, list, map, reducing, aggregating, operator_list, operator_union, broadcast");
        }
      }
      if (s.contains("ttl")) {
        const auto& t = s["ttl"];
        if (t.is_number() && t.get<double>() < 0) return bad(ps + ".ttl", "must not be negative, found " + t.dump());
        if (t.is_string()) {
          std::string v = ascii_lower(t.get<std::string>());
          static const std::set<std::string> kWords = {"", "true", "false", "on", "off", "none", "disabled", "enabled"};
          if (!kWords.count(v) && !parse_duration_ms(v))
            return bad(ps + ".ttl", "\"" + t.get<std::string>() + "\" is not a duration (\"1 h\", \"0 ms\") or true/false");
        }
        if (t.is_array()) return bad(ps + ".ttl", "must be true/false, a duration string or milliseconds, found an array");
      }
    }
  }
  return {};
}

}  // namespace fsp
