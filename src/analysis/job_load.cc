// Loading the NEW job for `check`: detection, the project's job manifest,
// Flink REST job details and a second snapshot. SQL plans: job_sql_plan.cc.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "flink_savepoint/file_system.h"
#include "flink_savepoint/job.h"
#include "flink_savepoint/json.h"
#include "flink_savepoint/modified_utf8.h"
#include "flink_savepoint/murmur3.h"
#include "flink_savepoint/state.h"
#include "flink_savepoint/text.h"
#include "flink_savepoint/units.h"

namespace fsp {

const char* to_string(JobInputKind kind) {
  switch (kind) {
    case JobInputKind::kManifest: return "manifest";
    case JobInputKind::kSqlPlan: return "sql-plan";
    case JobInputKind::kRest: return "rest";
    case JobInputKind::kRestPlan: return "rest-plan";
    case JobInputKind::kSnapshot: return "snapshot";
  }
  return "manifest";
}

std::optional<OperatorId> JobOperator::generated_id() const {
  if (operator_id) return operator_id;
  if (!uid.empty()) return operator_id_from_uid(uid);
  return std::nullopt;
}

std::vector<OperatorId> JobOperator::ids() const {
  std::vector<OperatorId> out;
  if (uid_hash) out.push_back(*uid_hash);
  if (auto g = generated_id()) {
    if (out.empty() || out[0] != *g) out.push_back(*g);
  }
  // A uid given together with an explicit operator_id: accept both.
  if (operator_id && !uid.empty()) {
    OperatorId h = operator_id_from_uid(uid);
    bool seen = false;
    for (const auto& x : out) seen |= x == h;
    if (!seen) out.push_back(h);
  }
  return out;
}

std::string JobOperator::label() const {
  if (!uid.empty()) return uid;
  if (!name.empty()) return name;
  return origin;
}

bool parse_flink_version(std::string_view v, int& major, int& minor) {
  major = minor = -1;
  size_t i = 0;
  auto num = [&](int& out) {
    if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
    out = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
      if (out > 99999) return false;  // no Flink version has such a number (and no int overflow)
      out = out * 10 + (v[i++] - '0');
    }
    return true;
  };
  if (!num(major)) return false;
  if (i >= v.size() || v[i] != '.') return false;
  ++i;
  if (!num(minor)) return false;
  // optional .patch and -SNAPSHOT etc.
  return true;
}

namespace {

Error bad_job(const std::string& msg) {
  Error e = Error::usage(msg);
  e.hint = "see docs/job-manifest.md for the job description formats `check` accepts";
  return e;
}

bool parse_id(const nlohmann::json& v, OperatorId& out) {
  if (!v.is_string()) return false;
  return parse_operator_id(v.get<std::string>(), out);
}

Result<std::shared_ptr<const io::Buffer>> read_text(const std::string& path) {
  auto b = io::read_file(path);
  if (!b) {
    Error e = b.take_error();
    if (e.kind == ErrorKind::kNoInput && e.message.rfind("cannot open ", 0) == 0)
      return Error::no_input("cannot open job description '" + path + "'");
    e.message = "cannot read '" + path + "': " + e.message;
    return e;
  }
  return b;
}

// A JSON integer as a Flink (max) parallelism: 1..32768 (KeyGroupRangeAssignment's
// upper bound), without truncating 64-bit or unsigned values first.
std::optional<int32_t> flink_parallelism(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u < 1 || u > 32768) return std::nullopt;
    return static_cast<int32_t>(u);
  }
  if (!v.is_number_integer()) return std::nullopt;
  int64_t x = v.get<int64_t>();
  if (x < 1 || x > 32768) return std::nullopt;
  return static_cast<int32_t>(x);
}

// Parses a job description as strict JSON: besides what the parser refuses,
// a NUL byte anywhere (JSON text has none; the parser would stop at it and
// accept what came before) and an object with the same key twice (the parser
// would keep the last one silently).
Result<nlohmann::json> parse_strict_json(std::string_view text, const std::string& path) {
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return bad_job("'" + path + "' has a NUL byte at offset " + std::to_string(nul) + ": not JSON text");
  std::vector<std::unordered_set<std::string>> keys;
  std::string duplicate;
  auto cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty() && parsed.is_string() && duplicate.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  nlohmann::json j = nlohmann::json::parse(text, cb, false);
  if (j.is_discarded()) return bad_job("'" + path + "' is neither JSON nor a Flink snapshot");
  if (!duplicate.empty())
    return bad_job("'" + path + "' repeats the key \"" + duplicate.substr(0, 200) +
                   "\" in one object: which value is meant cannot be told");
  return j;
}

std::optional<bool> ttl_value(const nlohmann::json& v) {
  if (v.is_null()) return std::nullopt;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) {
    std::string s = ascii_lower(v.get<std::string>());
    if (s.empty() || s == "false" || s == "off" || s == "none" || s == "disabled") return false;
    if (auto ms = parse_duration_ms(s)) return *ms > 0;  // "0 ms", "0s", "0": no TTL
    return true;
  }
  if (v.is_object()) return true;  // a TTL config object
  return std::nullopt;
}

}  // namespace

std::string detect_job_kind(const nlohmann::json& j) {
  if (!j.is_object()) return "";
  if (j.contains("nodes") && j["nodes"].is_array()) {
    bool exec = j.contains("flinkVersion");
    for (const auto& n : j["nodes"]) {
      if (n.is_object() && n.contains("type") && n["type"].is_string()) {
        std::string t = n["type"].get<std::string>();
        if (t.rfind("stream-exec-", 0) == 0 || t.rfind("batch-exec-", 0) == 0) exec = true;
      }
    }
    if (exec) return "sql-plan";
  }
  if (j.contains("vertices") && j["vertices"].is_array()) return "rest";
  // REST GET /jobs/:jobid/plan (JobPlanInfo): {"plan": {"nodes": [{"id": "<32 hex>", ...}]}}.
  const nlohmann::json* plan = j.contains("plan") && j["plan"].is_object() ? &j["plan"] : &j;
  if (plan->contains("nodes") && (*plan)["nodes"].is_array() && !(*plan)["nodes"].empty()) {
    bool hex_ids = true;
    for (const auto& n : (*plan)["nodes"]) {
      OperatorId id;
      hex_ids &= n.is_object() && n.contains("id") && parse_id(n["id"], id);
    }
    if (hex_ids) return "rest-plan";
  }
  if (j.contains("operators") && j["operators"].is_array()) return "manifest";
  return "";
}

Result<NewJob> parse_job_manifest(const nlohmann::json& j) {
  NewJob job;
  job.input_kind = JobInputKind::kManifest;
  job.kind = to_string(job.input_kind);
  if (!j.is_object() || !j.contains("operators") || !j["operators"].is_array())
    return bad_job("job manifest: expected an object with an \"operators\" array");
  if (auto v = validate_job_manifest(j); !v) return v.error();
  if (j.contains("schema_version") && j["schema_version"].is_number_integer())
    job.schema_version = j["schema_version"].get<int>();
  if (j.contains("ignore") && j["ignore"].is_array())
    for (const auto& x : j["ignore"]) job.ignore.push_back(x.get<std::string>());
  if (j.contains("claim_mode") && j["claim_mode"].is_string()) job.claim_mode = ascii_lower(j["claim_mode"].get<std::string>());
  auto str = [&](const nlohmann::json& o, const char* k) -> Result<std::string> {
    if (!o.contains(k) || o[k].is_null()) return std::string();
    if (o[k].is_string()) return o[k].get<std::string>();
    if (o[k].is_number()) {
      std::string s = o[k].dump();
      return s;
    }
    return bad_job(std::string("job manifest: \"") + k + "\" must be a string");
  };
  auto integer = [&](const nlohmann::json& o, const char* k, const std::string& where) -> Result<int32_t> {
    if (!o.contains(k) || o[k].is_null()) return 0;
    if (!o[k].is_number_integer()) return bad_job("job manifest: " + where + "\"" + k + "\" must be an integer");
    auto v = flink_parallelism(o[k]);
    if (!v) return bad_job("job manifest: " + where + "\"" + k + "\" must be within 1..32768, found " + o[k].dump());
    return *v;
  };
  auto fv = str(j, "flink_version");
  if (!fv) return fv.error();
  job.flink_version = *fv;
  if (!job.flink_version.empty()) {
    int a, b;
    if (!parse_flink_version(job.flink_version, a, b))
      return bad_job("job manifest: \"flink_version\" must look like \"1.20\" or \"2.1\", found \"" + job.flink_version + "\"");
  }
  auto sb = str(j, "state_backend");
  if (!sb) return sb.error();
  job.state_backend = ascii_lower(*sb);
  if (!job.state_backend.empty() && job.state_backend != "hashmap" && job.state_backend != "rocksdb" &&
      job.state_backend != "forst")
    return bad_job("job manifest: \"state_backend\" must be hashmap, rocksdb or forst, found \"" + *sb + "\"");
  if (j.contains("allow_non_restored_state") && !j["allow_non_restored_state"].is_null()) {
    if (!j["allow_non_restored_state"].is_boolean()) return bad_job("job manifest: \"allow_non_restored_state\" must be true or false");
    job.allow_non_restored_state = j["allow_non_restored_state"].get<bool>();
  }
  auto mp = integer(j, "max_parallelism", "");
  if (!mp) return mp.error();
  job.max_parallelism = *mp;
  auto dp = integer(j, "parallelism", "");
  if (!dp) return dp.error();
  job.parallelism = *dp;

  std::unordered_set<std::string> seen_uids;
  const auto& ops = j["operators"];
  for (size_t i = 0; i < ops.size(); ++i) {
    const auto& o = ops[i];
    std::string where = "operators[" + std::to_string(i) + "] ";
    if (!o.is_object()) return bad_job("job manifest: " + where + "must be an object");
    JobOperator op;
    op.origin = "operators[" + std::to_string(i) + "]";
    auto uid = str(o, "uid");
    if (!uid) return uid.error();
    op.uid = *uid;
    auto name = str(o, "name");
    if (!name) return name.error();
    op.name = *name;
    if (o.contains("uid_hash") && !o["uid_hash"].is_null()) {
      OperatorId id;
      if (!parse_id(o["uid_hash"], id))
        return bad_job("job manifest: " + where + "\"uid_hash\" must be 32 hex characters (as setUidHash requires)");
      op.uid_hash = id;
    }
    if (o.contains("operator_id") && !o["operator_id"].is_null()) {
      OperatorId id;
      if (!parse_id(o["operator_id"], id)) return bad_job("job manifest: " + where + "\"operator_id\" must be 32 hex characters");
      op.operator_id = id;
    }
    // An operator with neither uid, uid_hash nor operator_id is allowed: it is
    // reported as an operator without uid, and no state can map to it.
    if (!op.uid.empty() && !seen_uids.insert(op.uid).second)
      return bad_job("job manifest: " + where + "repeats uid \"" + op.uid +
                     "\" (Flink: Hash collision on user-specified ID \"" + op.uid +
                     "\". Most likely cause is a non-unique ID. Please check that all IDs specified via `uid(String)` are unique.)");
    auto p = integer(o, "parallelism", where);
    if (!p) return p.error();
    op.parallelism = *p ? *p : job.parallelism;
    auto m = integer(o, "max_parallelism", where);
    if (!m) return m.error();
    if (*m) {
      op.max_parallelism = *m;
      op.max_parallelism_explicit = true;
    } else if (job.max_parallelism) {
      op.max_parallelism = job.max_parallelism;
      op.max_parallelism_explicit = true;
    }
    if (o.contains("states") && !o["states"].is_null()) {
      if (!o["states"].is_array()) return bad_job("job manifest: " + where + "\"states\" must be an array");
      std::vector<JobState> states;
      for (const auto& s : o["states"]) {
        if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
          return bad_job("job manifest: " + where + "every state needs a \"name\"");
        JobState st;
        st.name = s["name"].get<std::string>();
        auto k = str(s, "kind");
        if (!k) return k.error();
        st.kind = ascii_lower(*k);
        auto ks = str(s, "key_serializer");
        if (!ks) return ks.error();
        st.key_serializer = *ks;
        auto vs = str(s, "value_serializer");
        if (!vs) return vs.error();
        st.value_serializer = *vs;
        if (s.contains("ttl")) st.ttl = ttl_value(s["ttl"]);
        states.push_back(std::move(st));
      }
      op.states = std::move(states);
    }
    if (o.contains("ignore") && o["ignore"].is_array()) {
      std::string who = !op.uid.empty() ? op.uid
                        : op.uid_hash   ? hex(*op.uid_hash)
                        : op.operator_id ? hex(*op.operator_id)
                                         : std::string();
      if (who.empty())
        return bad_job("job manifest: " + where + "\"ignore\" needs the operator's uid, uid_hash or operator_id");
      for (const auto& x : o["ignore"]) job.ignore.push_back(x.get<std::string>() + ":" + who);
    }
    job.operators.push_back(std::move(op));
  }
  return job;
}

Result<NewJob> parse_rest_job(const nlohmann::json& j) {
  NewJob job;
  job.input_kind = JobInputKind::kRest;
  job.kind = to_string(job.input_kind);
  job.complete = false;
  if (!j.is_object() || !j.contains("vertices") || !j["vertices"].is_array())
    return bad_job("REST job details: expected an object with a \"vertices\" array (GET /jobs/:jobid)");
  const auto& vs = j["vertices"];
  for (size_t i = 0; i < vs.size(); ++i) {
    const auto& v = vs[i];
    if (!v.is_object()) return bad_job("REST job details: vertices[" + std::to_string(i) + "] must be an object");
    JobOperator op;
    OperatorId id;
    if (!v.contains("id") || !parse_id(v["id"], id))
      return bad_job("REST job details: vertices[" + std::to_string(i) + "] has no 32-hex \"id\"");
    op.operator_id = id;
    op.chain_head_only = true;
    if (v.contains("name") && v["name"].is_string()) op.name = v["name"].get<std::string>();
    op.origin = "vertex " + v["id"].get<std::string>();
    // Flink's parallelism and max parallelism are within 1..32768; anything
    // else is not what a running job reports (and would be truncated here).
    for (const char* k : {"parallelism", "maxParallelism"}) {
      if (!v.contains(k) || v[k].is_null()) continue;
      auto p = v[k].is_number_integer() ? flink_parallelism(v[k]) : std::nullopt;
      if (!p)
        return bad_job("REST job details: vertices[" + std::to_string(i) + "] \"" + k +
                       "\" must be an integer within 1..32768, found " + v[k].dump());
      if (std::string_view(k) == "parallelism") {
        op.parallelism = *p;
      } else {
        op.max_parallelism = *p;
        op.max_parallelism_effective = true;
      }
    }
    job.operators.push_back(std::move(op));
  }
  job.notes.push_back(
      "REST job details list one vertex per operator chain: its id is the chain head's operator id. Operators chained "
      "behind a head are invisible, so state of a snapshot operator that matches no vertex id cannot be judged: it may "
      "belong to a chained operator (restored) or to a removed one (not restored).");
  job.notes.push_back(
      "REST maxParallelism is the runtime value: whether it was set explicitly (then a mismatch fails) or derived (then "
      "Flink adopts the snapshot's value) cannot be told.");
  return job;
}

Result<NewJob> parse_rest_plan(const nlohmann::json& j) {
  NewJob job;
  job.input_kind = JobInputKind::kRestPlan;
  job.kind = to_string(job.input_kind);
  job.complete = false;
  const nlohmann::json* plan = j.is_object() && j.contains("plan") && j["plan"].is_object() ? &j["plan"] : &j;
  if (!plan->is_object() || !plan->contains("nodes") || !(*plan)["nodes"].is_array())
    return bad_job("REST job plan: expected {\"plan\": {\"nodes\": [...]}} (GET /jobs/:jobid/plan)");
  const auto& ns = (*plan)["nodes"];
  for (size_t i = 0; i < ns.size(); ++i) {
    const auto& n = ns[i];
    std::string where = "REST job plan: plan.nodes[" + std::to_string(i) + "]";
    if (!n.is_object()) return bad_job(where + " must be an object");
    OperatorId id;
    if (!n.contains("id") || !parse_id(n["id"], id)) return bad_job(where + " has no 32-hex \"id\"");
    JobOperator op;
    op.operator_id = id;
    op.chain_head_only = true;
    if (n.contains("description") && n["description"].is_string()) op.name = n["description"].get<std::string>();
    if (n.contains("operator") && n["operator"].is_string() && op.name.empty()) op.name = n["operator"].get<std::string>();
    if (op.name.size() > 200) op.name = op.name.substr(0, 200) + "...";
    op.origin = "plan node " + n["id"].get<std::string>();
    if (n.contains("parallelism")) {
      if (!n["parallelism"].is_number_integer() || n["parallelism"].get<int64_t>() < 1 || n["parallelism"].get<int64_t>() > 32768)
        return bad_job(where + ".parallelism must be an integer within 1..32768");
      op.parallelism = n["parallelism"].get<int32_t>();
    }
    job.operators.push_back(std::move(op));
  }
  job.notes.push_back(
      "REST job plan nodes are job vertices: their ids are the chain heads' operator ids. Operators chained behind a "
      "head are invisible, so state of a snapshot operator that matches no node id cannot be judged.");
  job.notes.push_back(
      "a REST job plan carries no max parallelism: give it with --config (pipeline.max-parallelism) or use GET "
      "/jobs/:jobid, whose vertices have it");
  return job;
}

Result<NewJob> job_from_snapshot(std::shared_ptr<SnapshotFile> file) {
  NewJob job;
  job.input_kind = JobInputKind::kSnapshot;
  job.kind = to_string(job.input_kind);
  job.snapshot = file;
  const Snapshot& s = file->snapshot;
  StateReadOptions ro;
  ro.statistics = false;
  auto states = read_states(*file, ro);
  for (size_t i = 0; i < s.operators.size(); ++i) {
    const auto& o = s.operators[i];
    JobOperator op;
    op.operator_id = o.id;
    op.uid = modified_utf8_to_utf8(o.uid);
    op.name = modified_utf8_to_utf8(o.name);
    op.origin = "new snapshot operator " + o.id_hex();
    op.parallelism = o.parallelism;
    op.max_parallelism = o.max_parallelism;
    op.max_parallelism_effective = true;
    if (states) {
      for (const auto& os : *states) {
        if (os.operator_index != i) continue;
        if (os.handles_failed || os.handles_missing || os.handles_unsupported) break;
        std::vector<JobState> v;
        for (const auto& st : os.states) {
          JobState js;
          js.name = st.name;
          js.kind = st.kind;
          js.key_serializer = st.key_serializer;
          js.value_serializer = st.value_serializer;
          js.ttl = st.ttl;
          v.push_back(std::move(js));
        }
        // A stateless operator registers nothing we can see: leave it unknown.
        if (!v.empty()) op.states = std::move(v);
      }
    }
    job.operators.push_back(std::move(op));
  }
  if (s.version <= 2)
    job.notes.push_back("the new snapshot is metadata v2: stateless operators may be missing from it");
  job.notes.push_back(
      "a snapshot records the runtime max parallelism only: whether the new job sets it explicitly cannot be told");
  if (!states) job.notes.push_back("state schemas of the new snapshot could not be read: " + states.error().message);
  return job;
}

Result<NewJob> load_job(const std::string& path) {
  io::FileSystem* fsys = nullptr;
  Result<io::FileInfo> info = Error::no_input("");
  if (path != "-") {
    auto f = io::file_system_for(path);
    if (!f) return f.error();
    fsys = *f;
    info = fsys->stat(path);
    if (!info) return Error::no_input("job description '" + path + "' does not exist");
  }
  // A snapshot directory or a _metadata file?
  bool is_snapshot = false;
  std::string text;                         // a job description read from a pipe
  std::shared_ptr<const io::Buffer> bytes;  // ... or from the file system seam
  bool have_text = false;
  if (path != "-" && info->is_directory) {
    if (fsys->stat(io::join_uri(path, "_metadata"))) is_snapshot = true;
    else return bad_job("'" + path + "' is a directory without _metadata: not a job description");
  } else if (path != "-") {
    // Read once: a pipe (`--job <(flink-savepoint inspect --emit-manifest SNAP)`) cannot be read twice,
    // and the file-system seam reads regular files only: a job description from a pipe is read here,
    // bounded like any job description.
    if (!info->is_regular && path.find("://") == std::string::npos) {
      std::ifstream in(path, std::ios::binary);
      if (!in) return Error::no_input("cannot open job description '" + path + "'");
      constexpr size_t kMaxJob = 64u << 20;
      char buf[65536];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<size_t>(in.gcount()));
        if (text.size() > kMaxJob) return bad_job("'" + path + "' is larger than 64 MiB: not a job description");
      }
      if (text.size() >= 4 && text.compare(0, 4, "\x49\x60\x67\x2D") == 0)
        return bad_job("'" + path + "' is a snapshot read from a pipe: give a snapshot of the new job as a file or directory");
      have_text = true;
    }
    auto b = have_text ? Result<std::shared_ptr<const io::Buffer>>(Error::usage("")) : io::read_file(path);
    std::string_view head = b ? (*b)->bytes().substr(0, 4) : std::string_view();
    if (head == std::string_view("\x49\x60\x67\x2D", 4)) {
      is_snapshot = true;
      if (!info->is_regular)
        return bad_job("'" + path + "' is a snapshot read from a pipe: give a snapshot of the new job as a file or directory");
    } else if (b) {
      bytes = *b;
      have_text = true;
    }
  }
  if (is_snapshot) {
    auto sf = open_snapshot(path);
    if (!sf) {
      Error e = sf.error();
      e.message = "new job snapshot: " + e.message;
      return e;
    }
    auto job = job_from_snapshot(std::make_shared<SnapshotFile>(std::move(*sf)));
    if (job) job->source = path;
    return job;
  }
  if (!have_text) {
    auto t = read_text(path);  // "-": standard input
    if (!t) return t.error();
    bytes = *t;
  }
  auto parsed = parse_strict_json(bytes ? bytes->bytes() : std::string_view(text), path);
  if (!parsed) return parsed.error();
  const nlohmann::json& j = *parsed;
  std::string kind = detect_job_kind(j);
  Result<NewJob> job = Error::usage("");
  if (kind == "manifest") job = parse_job_manifest(j);
  else if (kind == "sql-plan") job = parse_sql_plan(j);
  else if (kind == "rest") job = parse_rest_job(j);
  else if (kind == "rest-plan") job = parse_rest_plan(j);
  else
    return bad_job("'" + path +
                   "' is JSON but not a job description `check` knows: expected a job manifest (\"operators\"), a SQL "
                   "compiled plan (\"nodes\" with stream-exec types), REST job details (\"vertices\") or a REST job plan "
                   "(\"plan\": {\"nodes\"})");
  if (job) job->source = path;
  return job;
}

}  // namespace fsp
