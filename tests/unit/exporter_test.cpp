// The exporter: listen addresses, cgroup globs, rendering from fixture trees (names, labels,
// escaping, a missing resource), and the HTTP server on loopback.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pressure/pressure.hpp>

#include "exporter/accept_encoding.hpp"
#include "exporter/server.hpp"
#include "support/command.hpp"

namespace pressure::exporter {
namespace {

using test::fixture;

// ---- listen addresses ----

struct GoodAddress {
  const char* text;
  const char* host;
  int port;
};

TEST(ListenAddress, Accepted) {
  const GoodAddress table[] = {
      {"127.0.0.1:9101", "127.0.0.1", 9101},
      {":9101", "", 9101},
      {"[::1]:9101", "::1", 9101},
      {"[::]:0", "::", 0},
      {"0.0.0.0:65535", "0.0.0.0", 65535},
      {"localhost:80", "localhost", 80},
      {"metrics.example.org:9101", "metrics.example.org", 9101},
      {"[fe80::1%lo]:9101", nullptr, 0},  // a zone: inet_pton refuses it, so it must fail
  };
  for (const GoodAddress& row : table) {
    Result<ListenAddress> a = parse_listen_address(row.text);
    if (row.host == nullptr) {
      EXPECT_FALSE(a) << row.text;
      continue;
    }
    ASSERT_TRUE(a) << row.text << ": " << a.error().message();
    EXPECT_EQ(a->host, row.host) << row.text;
    EXPECT_EQ(a->port, row.port) << row.text;
    EXPECT_EQ(a->to_string(), row.text);  // round trip
  }
}

struct BadAddress {
  const char* text;
  const char* says;  // part of the message
};

TEST(ListenAddress, RefusedWithAReason) {
  const BadAddress table[] = {
      {"", "empty"},
      {"9101", "no port"},
      {"127.0.0.1", "no port"},
      {"127.0.0.1:", "no port after"},
      {"127.0.0.1:65536", "out of range"},
      {"127.0.0.1:99999999999999999999", "out of range"},
      {"127.0.0.1:-1", "not a number"},
      {"127.0.0.1:+80", "not a number"},
      {"127.0.0.1:9x", "not a number"},
      {"127.0.0.1:80 ", "not a number"},
      {" 127.0.0.1:80", "not a host name"},
      {"::1:9101", "brackets"},
      {"[::1]9101", "after ']'"},
      {"[::1]", "after ']'"},
      {"[::1:9101", "closing"},
      {"[1.2.3.4]:80", "not an IPv6"},
      {"256.1.1.1:80", "not an IPv4"},
      {"1.2.3:80", "not an IPv4"},
      {"host_name:80", "not a host name"},
      {"-bad:80", "not a host name"},
      {"bad-.example:80", "not a host name"},
      {"a..b:80", "not a host name"},
  };
  for (const BadAddress& row : table) {
    Result<ListenAddress> a = parse_listen_address(row.text);
    ASSERT_FALSE(a) << "'" << row.text << "' was accepted";
    EXPECT_EQ(a.error().code(), Errc::invalid_argument);
    EXPECT_NE(a.error().message().find(row.says), std::string::npos) << a.error().message();
    EXPECT_NE(a.error().message().find("'" + std::string(row.text) + "'"), std::string::npos)
        << "the message names the value: " << a.error().message();
  }
}

// cgroup selectors: tests/unit/cgroup_set_test.cpp (one syntax for every program).

// ---- rendering ----

TEST(Metrics, ExactDecimals) {
  EXPECT_EQ(seconds_text(0), "0.000000");
  EXPECT_EQ(seconds_text(12914566), "12.914566");
  EXPECT_EQ(seconds_text(7), "0.000007");
  EXPECT_EQ(seconds_text(std::numeric_limits<std::uint64_t>::max()), "18446744073709.551615");
  EXPECT_EQ(ratio_text(Percent::from_hundredths(1678)), "0.1678");
  EXPECT_EQ(ratio_text(Percent::from_hundredths(10000)), "1.0000");
  EXPECT_EQ(ratio_text(Percent::from_hundredths(5)), "0.0005");
}

TEST(Metrics, LabelValuesEscaped) {
  std::string out;
  append_label_value(out, "a\"b\\c\nd");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const std::string& l : lines_of(text))
    if (l == line) return true;
  return false;
}

bool has_prefix(const std::string& text, const std::string& prefix) {
  for (const std::string& l : lines_of(text))
    if (l.rfind(prefix, 0) == 0) return true;
  return false;
}

ExporterOptions fixture_options(const std::string& proc, std::vector<std::string> globs = {"*"}) {
  ExporterOptions options;
  options.reader = ReaderOptions{fixture(proc), fixture("cgroup-tree"), nullptr};
  options.cgroups.clear();
  for (const std::string& g : globs) options.cgroups.push_back(*parse_cgroup_selector(g));
  return options;
}

// The sample value of the system's `name` as the library reads the same fixture.
std::string expected_total(const ReaderOptions& reader, Resource resource, Line line) {
  Result<Pressure> p = read(resource, Target::system(), reader);
  EXPECT_TRUE(p && (*p)[line]);
  return seconds_text((*p)[line]->total_us);
}

TEST(Metrics, SystemNamesOfNodeExporter) {
  ExporterOptions options = fixture_options("kernel-6.1-irq");
  ReaderOptions reader = options.reader;
  Exporter exporter(std::move(options));
  std::string text = exporter.render();
  const std::pair<const char*, std::pair<Resource, Line>> names[] = {
      {"node_pressure_cpu_waiting_seconds_total", {Resource::cpu, Line::some}},
      {"node_pressure_memory_waiting_seconds_total", {Resource::memory, Line::some}},
      {"node_pressure_memory_stalled_seconds_total", {Resource::memory, Line::full}},
      {"node_pressure_io_waiting_seconds_total", {Resource::io, Line::some}},
      {"node_pressure_io_stalled_seconds_total", {Resource::io, Line::full}},
      {"node_pressure_irq_stalled_seconds_total", {Resource::irq, Line::full}},
  };
  for (const auto& [name, which] : names) {
    EXPECT_TRUE(has_line(text, std::string("# TYPE ") + name + " counter")) << name;
    EXPECT_TRUE(has_prefix(text, std::string("# HELP ") + name + " ")) << name;
    EXPECT_TRUE(has_line(text, std::string(name) + " " + expected_total(reader, which.first, which.second)))
        << name << "\n"
        << text;
  }
  // node_exporter has no system cpu full (undefined there; the kernel prints zeros).
  EXPECT_FALSE(has_prefix(text, "node_pressure_cpu_stalled"));
  EXPECT_FALSE(has_prefix(text, "pressure_avg_ratio{resource=\"cpu\",line=\"full\""));
  for (const char* r : {"cpu", "memory", "io", "irq"})
    EXPECT_TRUE(has_line(text, std::string("pressure_resource_available{resource=\"") + r + "\"} 1")) << r;
  Result<Pressure> cpu = read(Resource::cpu, Target::system(), reader);
  EXPECT_TRUE(has_line(text, "pressure_avg_ratio{resource=\"cpu\",line=\"some\",window=\"60s\"} " +
                                 ratio_text(cpu->some->avg60)));
}

TEST(Metrics, CgroupNamesOfCadvisorWithCgroupLabel) {
  ExporterOptions options = fixture_options("kernel-6.1-irq");
  ReaderOptions reader = options.reader;
  Exporter exporter(std::move(options));
  std::string text = exporter.render();
  Result<Pressure> memory = read(Resource::memory, Target::cgroup("batch.slice"), reader);
  ASSERT_TRUE(memory);
  EXPECT_TRUE(has_line(
      text, "container_pressure_memory_stalled_seconds_total{cgroup=\"/batch.slice\",unit=\"batch.slice\"} " +
                seconds_text(memory->full->total_us)));
  EXPECT_TRUE(has_line(
      text,
      "pressure_avg_ratio{cgroup=\"/batch.slice\",unit=\"batch.slice\",resource=\"memory\",line=\"full\","
      "window=\"10s\"} " +
          ratio_text(memory->full->avg10)));
  for (const char* name :
       {"cpu_waiting", "cpu_stalled", "memory_waiting", "memory_stalled", "io_waiting", "io_stalled"})
    EXPECT_TRUE(has_line(text, std::string("# TYPE container_pressure_") + name + "_seconds_total counter"));
  // "*" is the top level only; the group with PSI switched off is left out and counted.
  EXPECT_FALSE(has_prefix(text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/batch.slice/"));
  EXPECT_FALSE(has_prefix(text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/psi-off.slice\""));
  EXPECT_TRUE(has_line(text, "pressure_exported_cgroups 2"));
  EXPECT_TRUE(has_line(text, "pressure_scrape_errors_total{scope=\"cgroup\",reason=\"unsupported\"} 1"))
      << text;
  // Samples of one family are together, and each family is declared once.
  std::map<std::string, int> declared;
  std::string previous_family;
  std::set<std::string> closed;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("# TYPE ", 0) == 0) ++declared[line.substr(7, line.find(' ', 7) - 7)];
    if (line.empty() || line[0] == '#') continue;
    std::string family = line.substr(0, line.find_first_of("{ "));
    if (family != previous_family) {
      EXPECT_EQ(closed.count(family), 0u) << family << " is split";
      closed.insert(previous_family);
      previous_family = family;
    }
  }
  for (const auto& [name, count] : declared) EXPECT_EQ(count, 1) << name;
}

TEST(Metrics, MissingResourceLeftOutAndCounted) {
  Exporter exporter(fixture_options("malformed", {}));
  std::string text = exporter.render();
  EXPECT_FALSE(has_prefix(text, "node_pressure_memory_")) << text;
  EXPECT_TRUE(has_prefix(text, "node_pressure_cpu_waiting_seconds_total "));
  EXPECT_TRUE(has_prefix(text, "node_pressure_io_stalled_seconds_total "));
  EXPECT_TRUE(has_line(text, "pressure_resource_available{resource=\"memory\"} 0"));
  EXPECT_TRUE(has_line(text, "pressure_resource_available{resource=\"cpu\"} 1"));
  EXPECT_TRUE(has_line(text, "pressure_scrape_errors_total{scope=\"system\",reason=\"malformed\"} 1"))
      << text;
  text = exporter.render();  // a counter over scrapes
  EXPECT_TRUE(has_line(text, "pressure_scrape_errors_total{scope=\"system\",reason=\"malformed\"} 2"))
      << text;
}

TEST(Metrics, ResourceTheKernelLacksIsNotAnError) {
  Exporter exporter(fixture_options("kernel-4.20", {}));
  std::string text = exporter.render();
  EXPECT_FALSE(has_prefix(text, "node_pressure_irq_"));
  EXPECT_TRUE(has_line(text, "pressure_resource_available{resource=\"irq\"} 0"));
  EXPECT_FALSE(has_prefix(text, "pressure_scrape_errors_total{"));
  EXPECT_TRUE(has_line(text, "# TYPE pressure_scrape_errors_total counter"));
}

TEST(Metrics, NoPsiAtAll) {
  Exporter exporter(fixture_options("psi-disabled", {}));
  std::string text = exporter.render();
  EXPECT_FALSE(has_prefix(text, "node_pressure_"));
  for (const char* r : {"cpu", "memory", "io", "irq"})
    EXPECT_TRUE(has_line(text, std::string("pressure_resource_available{resource=\"") + r + "\"} 0"));
  EXPECT_TRUE(has_prefix(text, "pressure_scrape_errors_total{scope=\"system\",reason=\"")) << text;
}

TEST(Metrics, GlobsResolveEveryScrape) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {"batch.slice/*", "**", "batch.slice", "nothere/*"}));
  Scrape scrape = exporter.collect();
  std::vector<std::string> paths;
  for (const CgroupSnapshot& g : scrape.cgroups) paths.push_back(g.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"/batch.slice", "/batch.slice/job-1.scope", "/system.slice"}));
  EXPECT_EQ(exporter.errors().count({"cgroup", "not_found"}), 0u);  // a glob may match nothing

  Exporter literal(fixture_options("kernel-6.1-irq", {"/no-such.slice", "/"}));
  scrape = literal.collect();
  ASSERT_EQ(scrape.cgroups.size(), 1u);
  EXPECT_EQ(scrape.cgroups[0].path, "/");
  EXPECT_EQ(literal.errors().at({"cgroup", "not_found"}), 1u);  // a named group must exist
}

// A cgroup tree of plain files whose names need escaping.
class OddNames : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/pressure-test-exporter-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    m_root = dir;
    for (const std::string& name :
         {std::string("quo\"te"), std::string("back\\slash"), std::string("new\nline")}) {
      std::filesystem::create_directory(m_root + "/" + name);
      for (const char* file : {"cpu.pressure", "memory.pressure", "io.pressure"})
        std::filesystem::copy_file(fixture("cgroup-tree/batch.slice/") + file,
                                   m_root + "/" + name + "/" + file);
    }
  }
  void TearDown() override {
    if (!m_root.empty()) std::filesystem::remove_all(m_root);
  }
  std::string m_root;
};

TEST_F(OddNames, LabelValuesEscaped) {
  ExporterOptions options;
  options.reader = ReaderOptions{fixture("kernel-6.1-irq"), m_root, nullptr};
  Exporter exporter(std::move(options));
  std::string text = exporter.render();
  EXPECT_TRUE(has_prefix(text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/quo\\\"te\"} "));
  EXPECT_TRUE(has_prefix(text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/back\\\\slash\"} "));
  EXPECT_TRUE(has_prefix(text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/new\\nline\"} "));
  EXPECT_TRUE(has_line(text, "pressure_exported_cgroups 3"));

  // Prometheus's own parser and linter agree.
  std::string file = m_root + ".prom";
  std::ofstream(file) << text;
  test::CommandResult check = test::run_command({"/bin/sh", "-c", "promtool check metrics < '" + file + "'"});
  std::filesystem::remove(file);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(Metrics, SourcesAppended) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {}));
  exporter.add_source([](std::string& out) {
    out +=
        "# HELP pressure_daemon_actions_total Actions taken\n# TYPE pressure_daemon_actions_total counter\n";
    out += "pressure_daemon_actions_total{action=\"kill\"} 3\n";
  });
  std::string text = exporter.render();
  EXPECT_TRUE(has_line(text, "pressure_daemon_actions_total{action=\"kill\"} 3"));
  EXPECT_GT(text.find("pressure_daemon_actions_total{"), text.find("pressure_scrape_errors_total"));
}

TEST(Metrics, CgroupsOnly) {
  ExporterOptions options = fixture_options("kernel-6.1-irq");
  options.system = false;
  Exporter exporter(std::move(options));
  std::string text = exporter.render();
  EXPECT_FALSE(has_prefix(text, "node_pressure_"));
  EXPECT_FALSE(has_prefix(text, "pressure_resource_available"));
  EXPECT_FALSE(has_prefix(text, "# TYPE pressure_resource_available"));
  EXPECT_FALSE(has_prefix(text, "pressure_avg_ratio{resource="));
  EXPECT_TRUE(has_prefix(
      text, "container_pressure_cpu_waiting_seconds_total{cgroup=\"/batch.slice\",unit=\"batch.slice\"} "));
}

TEST(Metrics, AveragesCanBeLeftOut) {
  ExporterOptions options = fixture_options("kernel-6.1-irq");
  options.averages = false;
  Exporter exporter(std::move(options));
  std::string text = exporter.render();
  EXPECT_FALSE(has_prefix(text, "pressure_avg_ratio"));
  EXPECT_TRUE(has_prefix(text, "container_pressure_io_waiting_seconds_total{"));
}

// ---- the server ----

ListenAddress loopback_any_port() { return *parse_listen_address("127.0.0.1:0"); }

TEST(MetricsServer, ServesMetricsIndexHeadAnd404) {
  Exporter exporter(fixture_options("kernel-6.1-irq"));
  Result<MetricsServer> server = MetricsServer::listen(loopback_any_port(), exporter);
  ASSERT_TRUE(server) << server.error().message();
  int port = server->address().port;
  ASSERT_GT(port, 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(port) + "/metrics");
  server->start();

  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_TRUE(has_prefix(metrics->body, "node_pressure_irq_stalled_seconds_total "));
  auto index = client.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("href=\"/metrics\""), std::string::npos);
  auto head = client.Head("/metrics");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  auto missing = client.Get("/metric");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("/metrics"), std::string::npos);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_NE(post->status, 200);
  server->stop();
  server->stop();  // idempotent
  EXPECT_FALSE(httplib::Client("127.0.0.1", port).Get("/metrics"));
}

TEST(AcceptEncoding, GzipOnlyWhenItsQualityIsAboveZero) {
  for (const char* yes : {"gzip", "GZIP", "x-gzip", "deflate, gzip, br", "gzip;q=0.5", "gzip; q=1.0", "*",
                          "br, *;q=0.1", "gzip;q=0.001", "gzip;q=0, gzip"})
    EXPECT_TRUE(accepts_gzip(yes)) << yes;
  for (const char* no : {"", "br", "identity", "gzip;q=0", "gzip;q=0.000", "gzip;q=0, *", "*;q=0", "gzipped",
                         "gzip;q=2", "gzip;q=abc", "gzip;q=", "deflate;q=1, gzip;q=0"})
    EXPECT_FALSE(accepts_gzip(no)) << no;
}

// gzip when asked (as Prometheus does), never brotli (httplib's is seconds per large scrape).
TEST(MetricsServer, CompressesWithGzipOnly) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {"**"}));
  Result<MetricsServer> server = MetricsServer::listen(loopback_any_port(), exporter);
  ASSERT_TRUE(server);
  server->start();
  httplib::Client client("127.0.0.1", server->address().port);
  std::string plain;
  for (const char* accept : {"gzip", "deflate, gzip, br", "br", "", "gzip;q=0", "*"}) {
    httplib::Headers headers;
    if (*accept != '\0') headers.emplace("Accept-Encoding", accept);
    auto r = client.Get("/metrics", headers);  // the client inflates gzip itself
    ASSERT_TRUE(r) << accept;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Encoding"), accepts_gzip(accept) ? "gzip" : "") << accept;
    EXPECT_TRUE(has_prefix(r->body,
                           "container_pressure_cpu_waiting_seconds_total{cgroup=\"/batch.slice/"
                           "job-1.scope\",unit=\"job-1.scope\"} "))
        << accept;
    EXPECT_TRUE(has_line(r->body, "pressure_exported_cgroups 3")) << accept;
  }
}

TEST(MetricsServer, PortInUse) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {}));
  Result<MetricsServer> first = MetricsServer::listen(loopback_any_port(), exporter);
  ASSERT_TRUE(first);
  ListenAddress taken = first->address();
  Result<MetricsServer> second = MetricsServer::listen(taken, exporter);
  ASSERT_FALSE(second) << "two servers on one port";
  EXPECT_EQ(second.error().code(), Errc::system);
  EXPECT_NE(second.error().message().find("already in use"), std::string::npos) << second.error().message();
  EXPECT_NE(second.error().message().find(taken.to_string()), std::string::npos);
}

TEST(MetricsServer, AddressesThatCannotBeBound) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {}));
  Result<MetricsServer> malformed = MetricsServer::listen("127.0.0.1:http", exporter);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), Errc::invalid_argument);
  EXPECT_TRUE(MetricsServer::listen("127.0.0.1:0", exporter));
  Result<MetricsServer> foreign = MetricsServer::listen(*parse_listen_address("192.0.2.1:0"), exporter);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code(), Errc::invalid_argument);
  EXPECT_NE(foreign.error().message().find("not an address of this machine"), std::string::npos)
      << foreign.error().message();
  Result<MetricsServer> unknown =
      MetricsServer::listen(*parse_listen_address("no-such-host.invalid:0"), exporter);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code(), Errc::invalid_argument);
  EXPECT_NE(unknown.error().message().find("does not resolve"), std::string::npos)
      << unknown.error().message();
}

TEST(MetricsServer, StopsWhateverItsState) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {}));
  {
    Result<MetricsServer> never_started = MetricsServer::listen(loopback_any_port(), exporter);
    ASSERT_TRUE(never_started);
  }
  for (int i = 0; i < 20; ++i) {  // stop racing the start of the serving thread
    Result<MetricsServer> server = MetricsServer::listen(loopback_any_port(), exporter);
    ASSERT_TRUE(server);
    server->start();
    server->stop();
  }
  Result<MetricsServer> moved = MetricsServer::listen(loopback_any_port(), exporter);
  ASSERT_TRUE(moved);
  moved->start();
  MetricsServer owner = std::move(*moved);
  auto got = httplib::Client("127.0.0.1", owner.address().port).Get("/metrics");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);
}

// Scrapes from several threads at once, with a source added meanwhile: every answer complete.
TEST(MetricsServer, ConcurrentScrapes) {
  Exporter exporter(fixture_options("kernel-6.1-irq", {"**"}));
  Result<MetricsServer> server = MetricsServer::listen(loopback_any_port(), exporter, ServerOptions{});
  ASSERT_TRUE(server);
  server->start();
  int port = server->address().port;
  std::atomic<int> good{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t)
    clients.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(t % 2 == 0);
      for (int i = 0; i < 40; ++i) {
        auto r = client.Get("/metrics");
        bool ok = r && r->status == 200 &&
                  r->body.find("pressure_scrape_errors_total") != std::string::npos &&
                  r->body.find("cgroup=\"/batch.slice/job-1.scope\"") != std::string::npos;
        ++(ok ? good : bad);
      }
    });
  exporter.add_source(
      [](std::string& out) { out += "# TYPE pressure_test_source gauge\npressure_test_source 1\n"; });
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(good.load(), 240);
  server->stop();
}

}  // namespace
}  // namespace pressure::exporter
