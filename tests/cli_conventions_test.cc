// CLI conventions: help, "did you mean", units, completions, man pages.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace fsp {
namespace {

std::string cli() { return test::cli_path(); }
std::string sample() { return std::string(FSP_SOURCE_DIR) + "/testdata/sample-savepoint"; }

TEST(CliConventions, HelpCommand) {
  auto all = test::run_command(cli() + " help");
  ASSERT_EQ(all.exit_code, 0);
  EXPECT_NE(all.out.find("inspect"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("relocate"), std::string::npos);
  auto one = test::run_command(cli() + " help inspect");
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_NE(one.out.find("--states"), std::string::npos) << one.out;
  EXPECT_EQ(one.out, test::run_command(cli() + " inspect --help").out);
  auto bad = test::run_command(cli() + " help inspekt 2>&1");
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_NE(bad.out.find("did you mean 'inspect'?"), std::string::npos) << bad.out;
}

TEST(CliConventions, DidYouMeanCommand) {
  auto r = test::run_command(cli() + " insp x 2>&1");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.out.find("error: unknown command 'insp'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hint: did you mean 'inspect'?"), std::string::npos) << r.out;
  auto typo = test::run_command(cli() + " relcoate x 2>&1");
  EXPECT_EQ(typo.exit_code, 64);
  EXPECT_NE(typo.out.find("did you mean 'relocate'?"), std::string::npos) << typo.out;
  auto far = test::run_command(cli() + " frobnicate 2>&1");
  EXPECT_EQ(far.exit_code, 64);
  EXPECT_EQ(far.out.find("did you mean"), std::string::npos) << far.out;
  EXPECT_NE(far.out.find("commands: "), std::string::npos) << far.out;
}

TEST(CliConventions, DidYouMeanFlag) {
  auto r = test::run_command(cli() + " inspect " + sample() + " --state 2>&1");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.out.find("unknown option '--state' for 'inspect'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("did you mean '--states'?"), std::string::npos) << r.out;
  auto j = test::run_command(cli() + " inspect " + sample() + " --hadles --json 2>&1 >/dev/null");
  EXPECT_EQ(j.exit_code, 64);
  EXPECT_NE(j.out.find("\"hint\":\"did you mean '--handles'?"), std::string::npos) << j.out;
}

TEST(CliConventions, KubectlOutputFlag) {
  auto r = test::run_command(cli() + " inspect " + sample() + " -o json 2>&1");
  EXPECT_EQ(r.exit_code, 64);
  EXPECT_NE(r.out.find("use --json"), std::string::npos) << r.out;
}

TEST(CliConventions, SizesWithUnits) {
  auto ok = test::run_command(cli() + " lint " + sample() + " --large-heap-state 1g --json");
  EXPECT_NE(ok.exit_code, 64) << ok.out;
  auto tiny = test::run_command(cli() + " lint " + sample() + " --large-heap-state '64 kb'");
  EXPECT_NE(tiny.exit_code, 64) << tiny.out;
  auto bad = test::run_command(cli() + " lint " + sample() + " --large-heap-state 5parsecs 2>&1");
  EXPECT_EQ(bad.exit_code, 64);
  EXPECT_NE(bad.out.find("unknown unit 'parsecs'"), std::string::npos) << bad.out;
}

TEST(CliConventions, FlinkShortFlags) {
  // flink run's -n is --allowNonRestoredState: a manifest naming no operator drops all state.
  test::TempDir tmp;
  const auto& dir = tmp.path;
  std::ofstream(dir / "job.json") << R"({"schema_version": 1, "operators": []})";
  std::string base = cli() + " check " + sample() + " --job " + (dir / "job.json").string();
  auto strict = test::run_command(base + " --json");
  auto longf = test::run_command(base + " --allowNonRestoredState --json");
  auto shortf = test::run_command(base + " -n --json");
  EXPECT_EQ(strict.exit_code, 1) << strict.out;
  EXPECT_NE(longf.exit_code, 1) << longf.out;
  EXPECT_EQ(shortf.exit_code, longf.exit_code);
  EXPECT_EQ(shortf.out, longf.out);
}

TEST(CliConventions, VersionNamesFlinkCoverage) {
  auto r = test::run_command(cli() + " --version");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("flink-savepoint 0.1.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Flink 1.3 to 2.3"), std::string::npos) << r.out;
}

TEST(CliConventions, CompletionScripts) {
  test::TempDir tmp;
  const auto& dir = tmp.path;
  auto bash = test::run_command(cli() + " completion bash > " + (dir / "c.bash").string() + " && bash -n " +
                                (dir / "c.bash").string() + " && echo syntax-ok");
  EXPECT_EQ(bash.exit_code, 0);
  EXPECT_NE(bash.out.find("syntax-ok"), std::string::npos);
  std::string script = test::read_file(dir / "c.bash");
  EXPECT_NE(script.find("complete -o filenames -F _flink_savepoint flink-savepoint"), std::string::npos);
  EXPECT_NE(script.find("--states"), std::string::npos);
  EXPECT_NE(script.find("--print-copy-plan"), std::string::npos);
  // The script completes commands when sourced.
  auto words = test::run_command("bash -c 'source " + (dir / "c.bash").string() +
                                 "; COMP_WORDS=(flink-savepoint ins); COMP_CWORD=1; _flink_savepoint; echo ${COMPREPLY[@]}'");
  EXPECT_EQ(words.out, "inspect\n");
  auto flags = test::run_command("bash -c 'source " + (dir / "c.bash").string() +
                                 "; COMP_WORDS=(flink-savepoint inspect x --sta); COMP_CWORD=3; _flink_savepoint; echo ${COMPREPLY[@]}'");
  EXPECT_EQ(flags.out, "--states\n");
  auto zsh = test::run_command(cli() + " completion zsh");
  EXPECT_EQ(zsh.exit_code, 0);
  EXPECT_EQ(zsh.out.rfind("#compdef flink-savepoint", 0), 0u);
  EXPECT_NE(zsh.out.find("'--states["), std::string::npos);
  auto fish = test::run_command(cli() + " completion fish");
  EXPECT_EQ(fish.exit_code, 0);
  EXPECT_NE(fish.out.find("complete -c flink-savepoint -n '__fish_seen_subcommand_from inspect' -l states"), std::string::npos);
  auto bad = test::run_command(cli() + " completion tcsh 2>&1");
  EXPECT_EQ(bad.exit_code, 64);
}

TEST(CliConventions, ManPages) {
  auto top = test::run_command(cli() + " manpage");
  ASSERT_EQ(top.exit_code, 0);
  EXPECT_EQ(top.out.rfind(".TH FLINK-SAVEPOINT 1", 0), 0u) << top.out.substr(0, 80);
  EXPECT_NE(top.out.find("flink\\-savepoint\\-inspect"), std::string::npos);
  auto insp = test::run_command(cli() + " manpage inspect");
  ASSERT_EQ(insp.exit_code, 0);
  EXPECT_EQ(insp.out.rfind(".TH FLINK-SAVEPOINT-INSPECT 1", 0), 0u);
  EXPECT_NE(insp.out.find("\\-\\-states"), std::string::npos);
  EXPECT_NE(insp.out.find(".SH EXIT STATUS"), std::string::npos);
  // man renders it without warnings.
  auto rendered = test::run_command(cli() + " manpage inspect | MANWIDTH=80 man -l - 2>&1 | head -5");
  EXPECT_NE(rendered.out.find("FLINK-SAVEPOINT-INSPECT"), std::string::npos) << rendered.out;
  EXPECT_EQ(test::run_command(cli() + " manpage nosuchcommand 2>/dev/null").exit_code, 64);
}

// A file at a fresh temporary path with the given bytes.
std::string temp_file(const std::string& name, const std::string& bytes) {
  auto dir = std::filesystem::temp_directory_path() / ("fsp-kinds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

// inspect's stderr and exit code for a file.
test::CommandResult inspect_err(const std::string& path) {
  return test::run_command(cli() + " inspect " + path + " 2>&1 >/dev/null");
}

TEST(CliConventions, ForeignFilesAreNamed) {
  std::string meta = test::read_file(sample() + "/_metadata");
  ASSERT_GT(meta.size(), 100u);
  auto empty = inspect_err(temp_file("empty", ""));
  EXPECT_EQ(empty.exit_code, 65);
  EXPECT_NE(empty.out.find("error: the file is empty (0 bytes) at byte 0"), std::string::npos) << empty.out;
  EXPECT_NE(empty.out.find("incomplete copy"), std::string::npos) << empty.out;

  std::string gz = temp_file("meta.gz", "");
  ASSERT_EQ(test::run_command("gzip -c " + sample() + "/_metadata > " + gz).exit_code, 0);
  auto g = inspect_err(gz);
  EXPECT_EQ(g.exit_code, 65);
  EXPECT_NE(g.out.find("gzip-compressed"), std::string::npos) << g.out;
  EXPECT_NE(g.out.find("gunzip -c FILE | flink-savepoint inspect -"), std::string::npos) << g.out;
  // The hint works: the decompressed stream is the sample again.
  auto piped = test::run_command("gunzip -c " + gz + " | " + cli() + " inspect - --json");
  EXPECT_EQ(piped.exit_code, 0);

  auto z = inspect_err(temp_file("meta.zst", std::string("\x28\xB5\x2F\xFD\x24\x10", 6) + meta));
  EXPECT_EQ(z.exit_code, 65);
  EXPECT_NE(z.out.find("zstd-compressed"), std::string::npos) << z.out;
  auto zip = inspect_err(temp_file("meta.zip", std::string("PK\x03\x04\x14\x00", 6) + meta));
  EXPECT_EQ(zip.exit_code, 65);
  EXPECT_NE(zip.out.find("zip archive"), std::string::npos) << zip.out;
  auto js = inspect_err(temp_file("job.json", "{\"operators\": []}\n"));
  EXPECT_EQ(js.exit_code, 65);
  EXPECT_NE(js.out.find("JSON text"), std::string::npos) << js.out;

  // Random bytes: the generic message, with the magic number it expected.
  std::string noise;
  uint32_t x = 2463534242u;
  for (int i = 0; i < 4096; ++i) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    noise += static_cast<char>(x & 0xFF);
  }
  noise[0] = '\x01';  // not printable text, no known magic
  auto rnd = inspect_err(temp_file("random", noise));
  EXPECT_EQ(rnd.exit_code, 65);
  EXPECT_NE(rnd.out.find("this is not a Flink _metadata file"), std::string::npos) << rnd.out;
  EXPECT_NE(rnd.out.find("0x4960672D"), std::string::npos) << rnd.out;
}

TEST(CliConventions, TruncatedFileSaysSo) {
  std::string meta = test::read_file(sample() + "/_metadata");
  auto r = inspect_err(temp_file("truncated", meta.substr(0, meta.size() / 2)));
  EXPECT_EQ(r.exit_code, 65);
  EXPECT_NE(r.out.find("it looks truncated (an incomplete copy or upload?)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(" + std::to_string(meta.size() / 2) + " bytes)"), std::string::npos) << r.out;
}

TEST(CliConventions, AncientVersionsNameTheirFlink) {
  std::string magic("\x49\x60\x67\x2D", 4);
  auto v0 = inspect_err(temp_file("v0", magic + std::string("\x00\x00\x00\x00", 4) + std::string(32, '\0')));
  EXPECT_EQ(v0.exit_code, 65);
  EXPECT_NE(v0.out.find("written by Flink 1.1 (metadata version 0)"), std::string::npos) << v0.out;
  EXPECT_NE(v0.out.find("restore it with Flink 1.2 or 1.3"), std::string::npos) << v0.out;
  auto v1 = inspect_err(temp_file("v1", magic + std::string("\x00\x00\x00\x01", 4) + std::string(32, '\0')));
  EXPECT_EQ(v1.exit_code, 65);
  EXPECT_NE(v1.out.find("written by Flink 1.2 (metadata version 1)"), std::string::npos) << v1.out;
  EXPECT_NE(v1.out.find("Flink 1.3 to 1.10"), std::string::npos) << v1.out;
  auto inspect = test::run_command(cli() + " inspect " + sample());
  EXPECT_EQ(inspect.out.find("Flink Flink"), std::string::npos) << inspect.out;
}

}  // namespace
}  // namespace fsp
