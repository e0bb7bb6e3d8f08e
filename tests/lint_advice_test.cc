// lint's advice (issue 11): fixes in text mode, no TTL advice on Flink-internal
// states (window contents, timers), SQL advice for SQL operators.
#include <set>

#include "flink_savepoint/lint.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {
std::vector<fsp::LintFinding> ttl_findings(const fs::path& p) {
  auto sf = fsp::open_snapshot(p.string());
  EXPECT_TRUE(sf.ok()) << p;
  fsp::LintOptions o;
  o.state_options.statistics = false;
  auto r = fsp::lint(*sf, o);
  EXPECT_TRUE(r.states_read) << r.states_note;
  std::vector<fsp::LintFinding> v;
  for (const auto& f : r.findings)
    if (f.check == "ttl") v.push_back(f);
  return v;
}
}  // namespace

TEST(LintAdvice, NoTtlAdviceOnWindowContentsOrTimers) {
  FSP_REQUIRE_SHARED(shared);
  // complexKeyed: a window operator ("window-contents" in a GlobalWindow namespace, window timers) and a keyed "values" list.
  auto v = ttl_findings(shared / "testdata/flink-repo/flink-tests/src/test/resources/operatorstate/complexKeyed-flink1.17");
  std::set<std::string> names;
  for (const auto& f : v) names.insert(f.state);
  EXPECT_FALSE(names.count("window-contents"));
  for (const auto& n : names) EXPECT_EQ(n.rfind("_timer_state/", 0), std::string::npos) << n;
  EXPECT_TRUE(names.count("values"));  // a user state still gets the advice
  for (const auto& f : v) EXPECT_NE(f.fix.find("StateTtlConfig"), std::string::npos) << f.fix;
}

TEST(LintAdvice, SqlOperatorsGetSqlAdvice) {
  FSP_REQUIRE_SHARED(shared);
  fs::path p = shared / "testdata/flink-repo/flink-table/flink-table-planner/src/test/resources/restore-tests/"
                        "stream-exec-group-aggregate_1/group-aggregate-distinct/savepoint";
  auto v = ttl_findings(p);
  ASSERT_EQ(v.size(), 7u);  // accState, three distinct accumulators (map) and their null states
  for (const auto& f : v) {
    EXPECT_NE(f.fix.find("table.exec.state.ttl"), std::string::npos) << f.state << ": " << f.fix;
    EXPECT_NE(f.fix.find("STATE_TTL"), std::string::npos) << f.fix;
    EXPECT_EQ(f.fix.find("StateTtlConfig"), std::string::npos) << f.fix;
  }
  // Text mode shows the fixes too.
  auto c = fsp::test::run_command(fsp::test::cli_path() + " lint " + p.string());
  EXPECT_EQ(c.exit_code, 0);
  EXPECT_NE(c.out.find("fixes:\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("[ttl] fd970eaa00fa5e59244acc8d122a40ff / accState: set table.exec.state.ttl"), std::string::npos)
      << c.out;
}
