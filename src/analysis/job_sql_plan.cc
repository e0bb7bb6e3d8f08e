// A Flink SQL compiled plan (COMPILE PLAN JSON) as the new job: every exec
// node becomes the transformations the planner creates for it, each with the
// uid the planner gives it.
//
// How the planner names them (flink-table-planner, ExecNodeBase /
// ExecNodeContext / ExecutionConfigOptions): a node's transformation gets the
// uid `table.exec.uid.format` (default "<id>_<transformation>") with <id> the
// node id, <type> its type without version ("stream-exec-sink"), <version> the
// type's version and <transformation> the transformation name the node uses
// (ExecNodeMetadata.producedTransformations, e.g. "constraint-validator" for a
// sink). Plans get uids unless `table.exec.uid.generation` is DISABLED; both
// options may be persisted per node in its "configuration". Process table
// functions use the plan's "uid" field when present.
#include <algorithm>
#include <cstdint>
#include <map>

#include "flink_savepoint/job.h"
#include "flink_savepoint/units.h"
#include "flink_savepoint/json.h"

namespace fsp {
namespace {

constexpr size_t kMaxUidBytes = 65535;

// Length of `s` (UTF-8) in Java's modified UTF-8, as writeUTF counts it: NUL
// takes 2 bytes, a supplementary character 6 (two 3-byte surrogates).
size_t modified_utf8_length(std::string_view s) {
  size_t n = s.size();
  for (unsigned char c : s) {
    if (c == 0) n += 1;
    else if (c >= 0xF0) n += 2;
  }
  return n;
}

std::string strip_exec_prefix(std::string_view type) {
  for (std::string_view p : {"stream-exec-", "batch-exec-"})
    if (type.substr(0, p.size()) == p) return std::string(type.substr(p.size()));
  return std::string(type);
}

}  // namespace

std::vector<std::string> sql_transformation_names(std::string_view node_type) {
  // The exceptions to "transformation name = type without stream-exec-",
  // from each node's producedTransformations.
  static const std::map<std::string, std::vector<std::string>, std::less<>> kNames = {
      {"table-source-scan", {"source"}},
      {"legacy-table-source-scan", {"source"}},
      {"sink", {"sink", "constraint-validator", "partitioner", "upsert-materialize", "timestamp-inserter", "row-kind-setter"}},
      {"legacy-sink", {"sink"}},
      {"interval-join", {"interval-join", "filter-left", "filter-right", "pad-left", "pad-right"}},
      {"lookup-join", {"lookup-join", "lookup-join-materialize"}},
      {"match", {"match", "timestamp-inserter"}},
      {"limit", {"rank"}},
      {"sort-limit", {"rank"}},
      {"rank", {"rank"}},
      {"window-table-function", {"window"}},
      {"process-table-function", {"process"}},
      {"exchange", {}},  // partitioning only: no operator
      {"union", {}},     // no operator
  };
  std::string base = strip_exec_prefix(node_type);
  // "table-source-scan_2" -> "table-source-scan"
  if (auto us = base.rfind('_'); us != std::string::npos) base = base.substr(0, us);
  auto it = kNames.find(base);
  if (it != kNames.end()) return it->second;
  return {base};
}

std::string sql_transformation_uid(std::string_view format, int node_id, std::string_view type_with_version,
                                   std::string_view transformation) {
  std::string type(type_with_version), version;
  if (auto us = type.rfind('_'); us != std::string::npos) {
    version = type.substr(us + 1);
    type = type.substr(0, us);
  }
  std::string out;
  std::string_view f = format;
  // A uid is a Java string that Flink writes with writeUTF (at most 65,535
  // bytes): stop expanding just past that, so a crafted format cannot grow
  // the uid without bound; parse_sql_plan refuses what is over.
  for (size_t i = 0; i < f.size() && out.size() <= kMaxUidBytes;) {
    auto try_sub = [&](std::string_view key, std::string_view value) {
      if (f.substr(i, key.size()) == key) {
        out += value;
        i += key.size();
        return true;
      }
      return false;
    };
    if (try_sub("<id>", std::to_string(node_id)) || try_sub("<type>", type) || try_sub("<version>", version) ||
        try_sub("<transformation>", transformation))
      continue;
    out += f[i++];
  }
  return out;
}

Result<NewJob> parse_sql_plan(const nlohmann::json& j) {
  NewJob job;
  job.input_kind = JobInputKind::kSqlPlan;
  job.kind = to_string(job.input_kind);
  auto bad = [](const std::string& m) {
    Error e = Error::usage("SQL compiled plan: " + m);
    e.hint = "pass the JSON written by COMPILE PLAN / TableEnvironment.compilePlanSql(...).writeToFile(...)";
    return e;
  };
  if (!j.is_object() || !j.contains("nodes") || !j["nodes"].is_array()) return bad("expected an object with a \"nodes\" array");
  if (j.contains("flinkVersion") && j["flinkVersion"].is_string()) job.plan_flink_version = j["flinkVersion"].get<std::string>();
  const std::string kDefaultFormat = "<id>_<transformation>";
  for (const auto& n : j["nodes"]) {
    if (!n.is_object() || !n.contains("id") || !n["id"].is_number_integer() || !n.contains("type") || !n["type"].is_string())
      return bad("every node needs an integer \"id\" and a string \"type\"");
    int id = n["id"].get<int>();
    std::string type = n["type"].get<std::string>();
    std::string format = kDefaultFormat;
    std::string generation = "PLAN_ONLY";
    if (n.contains("configuration") && n["configuration"].is_object()) {
      const auto& c = n["configuration"];
      if (c.contains("table.exec.uid.format") && c["table.exec.uid.format"].is_string())
        format = c["table.exec.uid.format"].get<std::string>();
      if (c.contains("table.exec.uid.generation") && c["table.exec.uid.generation"].is_string())
        generation = c["table.exec.uid.generation"].get<std::string>();
    }
    std::string group = "plan node " + std::to_string(id) + " (" + type + ")";
    bool declares_state = n.contains("state") && n["state"].is_array() && !n["state"].empty();
    std::vector<SqlStateTtl> ttl;
    if (declares_state) {
      for (size_t k = 0; k < n["state"].size(); ++k) {
        const auto& e = n["state"][k];
        if (!e.is_object()) return bad("node " + std::to_string(id) + ": \"state\"[" + std::to_string(k) + "] must be an object");
        SqlStateTtl x;
        x.index = e.contains("index") && e["index"].is_number_integer() ? e["index"].get<int>() : static_cast<int>(k);
        if (e.contains("name") && e["name"].is_string()) x.name = e["name"].get<std::string>();
        if (e.contains("ttl") && e["ttl"].is_string()) {
          auto ms = parse_duration_ms(e["ttl"].get<std::string>());
          if (!ms)
            return bad("node " + std::to_string(id) + ": \"state\"[" + std::to_string(k) + "].ttl \"" +
                       e["ttl"].get<std::string>() + "\" is not a duration");
          x.ttl_ms = *ms;
        } else if (e.contains("ttl") && e["ttl"].is_number_integer()) {
          x.ttl_ms = e["ttl"].get<int64_t>();
        }
        ttl.push_back(std::move(x));
      }
    } else if (n.contains("configuration") && n["configuration"].is_object() &&
               n["configuration"].contains("table.exec.state.ttl") && n["configuration"]["table.exec.state.ttl"].is_string()) {
      if (auto ms = parse_duration_ms(n["configuration"]["table.exec.state.ttl"].get<std::string>()))
        ttl.push_back({-1, "table.exec.state.ttl", *ms});
    }
    std::vector<std::string> names = sql_transformation_names(type);
    std::string description = n.contains("description") && n["description"].is_string() ? n["description"].get<std::string>() : "";
    std::optional<std::string> ptf_uid;
    if (n.contains("uid") && n["uid"].is_string()) ptf_uid = n["uid"].get<std::string>();
    for (size_t t = 0; t < names.size(); ++t) {
      JobOperator op;
      op.origin = group + " transformation '" + names[t] + "'";
      op.group = group;
      op.name = description.empty() ? names[t] : description;
      op.optional = true;
      op.declares_state = declares_state && t == 0;
      if (t == 0) op.sql_state_ttl = ttl;
      if (ptf_uid && names[t] == "process") op.uid = *ptf_uid;
      else if (generation != "DISABLED") op.uid = sql_transformation_uid(format, id, type, names[t]);
      if (modified_utf8_length(op.uid) > kMaxUidBytes)
        return bad(group.substr(0, 200) + (group.size() > 200 ? "..." : "") + ": the uid of transformation '" +
                   names[t].substr(0, 200) + "' is longer than 65535 bytes (table.exec.uid.format expands to " +
                   (op.uid.size() > kMaxUidBytes ? "more than 65535" : std::to_string(modified_utf8_length(op.uid))) +
                   " bytes); Flink writes a uid with DataOutput.writeUTF, which refuses strings over 65535 bytes");
      job.operators.push_back(std::move(op));
      // Sink V2 topologies expand the sink's uid (SinkTransformationTranslator).
      if (names[t] == "sink" && generation != "DISABLED") {
        std::string u = sql_transformation_uid(format, id, type, "sink");
        for (std::string extra : {"Sink Committer: " + u, "Sink " + u + " Global Committer"}) {
          JobOperator x;
          x.origin = group + " sink committer";
          x.group = group;
          x.name = extra;
          x.uid = extra;
          x.optional = true;
          job.operators.push_back(std::move(x));
        }
      }
    }
    if (generation == "DISABLED" && !names.empty())
      job.notes.push_back(group + ": table.exec.uid.generation is DISABLED, its operators get auto-generated ids that "
                                  "this check cannot compute");
  }
  job.notes.push_back(
      "a compiled plan carries no parallelism or max parallelism: those rules are not checked (give them with a job "
      "manifest or REST job details)");
  return job;
}

}  // namespace fsp
