#include "test_support.h"

#include "flink_savepoint/byte_writer.h"
#include "flink_savepoint/metadata.h"
#include "flink_savepoint/s3_file_system.h"
#include "flink_savepoint/state.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fsp::test {

std::optional<std::filesystem::path> shared_dir() {
  std::filesystem::path p;
  if (const char* env = std::getenv("FSP_SHARED_DIR"); env && *env) {
    p = env;
  } else {
    p = std::filesystem::path(FSP_SOURCE_DIR) / ".." / "shared";
  }
  if (std::filesystem::exists(p / "testdata" / "flink-repo" / "MANIFEST.tsv")) return std::filesystem::canonical(p);
  return std::nullopt;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string(ci) == "true";
}

std::string cli_path() { return FSP_CLI_PATH; }

std::string store_env(const std::string& endpoint) {
  return "env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_ENDPOINT_URL=" + endpoint + " AWS_REGION=us-east-1 ";
}

void use_test_server_in_process(const std::string& endpoint) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_ENDPOINT_URL", endpoint.c_str(), 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  io::register_object_stores();
}

std::string unique_prefix(const std::string& bucket, const std::string& name) {
  return "s3://" + bucket + "/" + name + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

std::optional<std::string> s3_test_endpoint() {
  const char* e = std::getenv("FSP_TEST_S3_ENDPOINT");
  if (e && *e) return std::string(e);
  return std::nullopt;
}
const char* source_dir_path() { return FSP_SOURCE_DIR; }
const char* make_sample_program() { return FSP_MAKE_SAMPLE_PATH; }
const char* fault_inject_library() { return FSP_FAULT_INJECT_PATH; }

CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* f = popen(command.c_str(), "r");
  if (!f) return r;
  std::array<char, 65536> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) r.out.append(buf.data(), n);
  int st = pclose(f);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

CommandResult run_cli(const std::string& args) { return run_command(shell_quote(cli_path()) + " " + args + " 2>&1"); }

std::string shell_quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void write_file(const std::filesystem::path& p, std::string_view bytes) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << p;
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "fsp-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
  std::error_code ec;
  path = std::filesystem::canonical(tmpl, ec);  // the real path: tests compare paths the tool resolved
  if (ec) path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

std::string be_utf(std::string_view s) {
  std::string out;
  ByteWriter(out).utf(s);
  return out;
}

std::string be_i32(int32_t v) {
  std::string out;
  ByteWriter(out).i32(v);
  return out;
}

std::string be_i64(int64_t v) {
  std::string out;
  ByteWriter(out).i64(v);
  return out;
}

std::filesystem::path sample_with_value_serializer(const std::string& tag, const std::string& value_snapshot,
                                                   std::optional<int32_t> version) {
  namespace fs = std::filesystem;
  const char* kLong = "org.apache.flink.api.common.typeutils.base.LongSerializer$LongSerializerSnapshot";
  fs::path src = fs::path(FSP_SOURCE_DIR) / "testdata" / "sample-savepoint";
  fs::path dir = fs::temp_directory_path() / ("fsp-" + tag + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(src)) fs::copy_file(e.path(), dir / e.path().filename());

  const std::string old_value = be_utf("VALUE_SERIALIZER") + be_i32(2) + be_utf(kLong) + be_i32(3);
  const std::string new_value = be_utf("VALUE_SERIALIZER") + be_i32(2) + value_snapshot;
  const int64_t delta = static_cast<int64_t>(new_value.size()) - static_cast<int64_t>(old_value.size());

  std::string meta = read_file(dir / "_metadata");
  auto snap = decode_metadata(meta);
  EXPECT_TRUE(snap.ok()) << (snap.ok() ? "" : snap.error().to_string());
  if (!snap.ok()) return dir;
  Snapshot& s = *snap;
  for (auto& st : s.operators[1].subtasks) {
    KeyedHandle& k = st.managed_keyed;
    fs::path file = dir / std::string(k.delegate.path);
    std::string bytes = read_file(file);
    size_t at = bytes.find(old_value);
    EXPECT_NE(at, std::string::npos) << file;
    if (at == std::string::npos) continue;
    bytes.replace(at, old_value.size(), new_value);
    write_file(file, bytes);
    std::string offsets;
    ByteWriter w(offsets);
    for (size_t i = 0; i < k.offsets.size(); ++i) w.i64(k.offsets[i] == 0 ? 0 : k.offsets[i] + delta);
    k.offsets = BeLongs{s.store(offsets)};
    k.delegate.state_size = static_cast<int64_t>(bytes.size());
  }
  if (version) s.version = *version;
  auto enc = encode_metadata(s);
  EXPECT_TRUE(enc.ok()) << (enc.ok() ? "" : enc.error().to_string());
  if (enc.ok()) write_file(dir / "_metadata", *enc);
  return dir;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<ManifestRow> manifest() {
  std::vector<ManifestRow> rows;
  auto sd = shared_dir();
  if (!sd) return rows;
  std::ifstream in(*sd / "testdata" / "flink-repo" / "MANIFEST.tsv");
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    size_t start = 0;
    for (;;) {
      size_t t = s.find('\t', start);
      v.push_back(s.substr(start, t == std::string::npos ? std::string::npos : t - start));
      if (t == std::string::npos) break;
      start = t + 1;
    }
    return v;
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cols = split(line);
    if (header.empty()) {
      header = cols;
      continue;
    }
    auto col = [&](const char* name) -> std::string {
      for (size_t i = 0; i < header.size() && i < cols.size(); ++i)
        if (header[i] == name) return cols[i];
      return {};
    };
    ManifestRow r;
    r.path = col("path");
    r.flink_version = col("flink_version");
    r.state_backend = col("state_backend");
    r.kind = col("kind");
    r.savepoint_format = col("savepoint_format");
    r.metadata_version = std::atoi(col("metadata_version").c_str());
    r.checkpoint_id = std::atoll(col("checkpoint_id").c_str());
    std::string n = col("num_operators");
    r.num_operators = n.empty() ? -1 : std::atoi(n.c_str());
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<ManifestRow> rows_matching(const std::string& needle) {
  std::vector<ManifestRow> out;
  for (auto& r : manifest())
    if (r.path.find(needle) != std::string::npos) out.push_back(r);
  return out;
}

const StateInfo* find_state(const std::vector<OperatorStates>& ops, const std::string& op_id, const std::string& name) {
  for (const auto& op : ops)
    if (op.operator_id == op_id)
      for (const auto& s : op.states)
        if (s.name == name) return &s;
  return nullptr;
}

}  // namespace fsp::test
