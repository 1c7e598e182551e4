// The exporter's HTTP server against hostile and careless clients, over real loopback sockets:
// the request parser's table, every refusal as a client sees it, pipelining, the head deadline,
// the connection cap, and a real scrape beside dozens of clients that trickle a byte a second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include <pressure/pressure.hpp>

#include "exporter/http_request.hpp"
#include "exporter/server.hpp"
#include "support/command.hpp"
#include "support/raw_http.hpp"

namespace pressure::exporter {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using http::Parsed;
using test::RawResponse;

ExporterOptions fixture_options() {
  ExporterOptions options;
  options.reader = ReaderOptions{test::fixture("kernel-6.1-irq"), test::fixture("cgroup-tree"), nullptr};
  options.cgroups = {*parse_cgroup_selector("**")};
  return options;
}

// ---- the parser

TEST(HttpRequest, ParsesHeadsAndRefusesMalformedOnes) {
  struct Row {
    std::string bytes;
    Parsed::State state;
    int status;  // of a refusal
  };
  using S = Parsed::State;
  const std::vector<Row> rows = {
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", S::request, 0},
      {"GET /metrics HTTP/1.1\nHost: x\n\n", S::request, 0},  // bare LF line ends
      {"\r\n\r\nGET / HTTP/1.1\r\n\r\n", S::request, 0},      // blank lines before it
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n", S::incomplete, 0},
      {"GET /metr", S::incomplete, 0},
      {"\r", S::incomplete, 0},
      {"", S::incomplete, 0},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", S::refused, 400},  // a TLS hello
      {"GET  / HTTP/1.1\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1 x\r\n\r\n", S::refused, 400},
      {"GET metrics HTTP/1.1\r\n\r\n", S::refused, 400},
      {"GET /a\x01 HTTP/1.1\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\n folded\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", S::refused, 400},
      {std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), S::refused, 400},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", S::refused, 400},
      {"GET / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", S::refused, 400},
      {"GET / HTTP/2.0\r\n\r\n", S::refused, 505},
      {"GET / HTTP/1\r\n\r\n", S::refused, 400},
      {"GET /" + std::string(3000, 'a') + " HTTP/1.1\r\n\r\n", S::refused, 414},
      {"GET /" + std::string(3000, 'a'), S::refused, 414},  // before its end arrives
      {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a'), S::refused, 431},
      {"GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", S::refused, 431},
  };
  for (const Row& row : rows) {
    Parsed p = http::parse_request(row.bytes, {});
    EXPECT_EQ(p.state, row.state) << row.bytes.substr(0, 80);
    EXPECT_EQ(p.status, row.status) << row.bytes.substr(0, 80);
    if (p.state == S::refused) {
      EXPECT_FALSE(p.why.empty());
    }
  }
}

TEST(HttpRequest, ReadsWhatTheAnswerDependsOn) {
  std::string two =
      "GET /metrics?x=1 HTTP/1.1\r\nAccept-Encoding: br\r\naccept-encoding: gzip;q=0.5\r\n\r\nHEAD /";
  Parsed p = http::parse_request(two, {});
  ASSERT_EQ(p.state, Parsed::State::request);
  EXPECT_EQ(p.request.method, http::Method::get);
  EXPECT_EQ(p.request.path, "/metrics");
  EXPECT_TRUE(p.request.keep_alive);
  EXPECT_TRUE(p.request.wants_gzip);  // two fields are one list
  EXPECT_FALSE(p.request.has_body);
  EXPECT_EQ(p.size, two.size() - 6);
  EXPECT_EQ(http::parse_request(two.substr(p.size), {}).state, Parsed::State::incomplete);

  Parsed old = http::parse_request("HEAD http://h:1/x HTTP/1.0\r\nAccept-Encoding: gzip;q=0\r\n\r\n", {});
  ASSERT_EQ(old.state, Parsed::State::request);
  EXPECT_EQ(old.request.method, http::Method::head);
  EXPECT_EQ(old.request.path, "/x");
  EXPECT_FALSE(old.request.keep_alive);
  EXPECT_FALSE(old.request.wants_gzip);
  EXPECT_TRUE(http::parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {}).request.keep_alive);
  EXPECT_FALSE(http::parse_request("GET / HTTP/1.1\r\nConnection: te, close\r\n\r\n", {}).request.keep_alive);
  EXPECT_TRUE(http::parse_request("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", {}).request.has_body);
  EXPECT_TRUE(
      http::parse_request("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", {}).request.has_body);
  EXPECT_FALSE(http::parse_request("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", {}).request.has_body);
  EXPECT_EQ(http::parse_request("DELETE / HTTP/1.1\r\n\r\n", {}).request.method, http::Method::other);
}

// ---- the server, as clients see it

struct Served {
  explicit Served(ServerOptions options = {}) : exporter(fixture_options()) {
    Result<MetricsServer> listening = MetricsServer::listen("127.0.0.1:0", exporter, options);
    EXPECT_TRUE(listening) << listening.error().message();
    server.emplace(std::move(*listening));
    server->start();
    port = server->address().port;
  }
  Exporter exporter;
  std::optional<MetricsServer> server;
  int port = 0;
};

bool whole_metrics(const RawResponse& r) {
  return r.status == 200 && r.body.find("pressure_exported_cgroups ") != std::string::npos;
}

// One row per hostile or careless request: the status it gets, and whether the connection is
// closed after it (else it still serves a request).
TEST(MetricsServer, HostileRequestsGetTheirStatus) {
  struct Row {
    std::string bytes;
    int status;
    bool closes;
  };
  const std::string pad(200, 'p');
  std::string big_head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 50; ++i) big_head += "X-Pad-" + std::to_string(i) + ": " + pad + "\r\n";
  const std::vector<Row> rows = {
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, false},
      {"GET /metrics?match[]=x HTTP/1.1\r\n\r\n", 200, false},
      {"GET http://localhost:9101/metrics HTTP/1.1\r\n\r\n", 200, false},
      {"\r\nGET / HTTP/1.1\nHost: x\n\n", 200, false},
      {"GET / HTTP/1.0\r\n\r\n", 200, true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, false},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 200, true},
      {"GET /metric HTTP/1.1\r\n\r\n", 404, false},
      {"DELETE /metrics HTTP/1.1\r\n\r\n", 405, false},
      {"get /metrics HTTP/1.1\r\n\r\n", 405, false},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 405, true},
      {"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, true},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413, true},
      {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413, true},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413, true},
      {"GET /" + std::string(3000, 'a') + " HTTP/1.1\r\n\r\n", 414, true},
      {big_head + "\r\n", 431, true},
      {"GET / HTTP/2.0\r\n\r\n", 505, true},
      {"GET / HTTP/1.1 x\r\n\r\n", 400, true},
      {"GET metrics HTTP/1.1\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400, true},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, true},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, true},
  };
  Served served;
  for (const Row& row : rows) {
    std::string shown = row.bytes.substr(0, 60);
    int fd = test::connect_loopback(served.port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(test::send_all(fd, row.bytes)) << shown;
    std::string pending;
    std::optional<RawResponse> r = test::read_response(fd, pending);
    ASSERT_TRUE(r) << "no answer to " << shown;
    EXPECT_EQ(r->status, row.status) << shown << "\n" << r->body;
    EXPECT_EQ(r->header("connection") == "close", row.closes) << shown;
    if (row.status == 405) {
      EXPECT_EQ(r->header("allow"), "GET, HEAD") << shown;
    }
    if (row.closes) {
      EXPECT_TRUE(test::closed_by_server(fd)) << shown;
    } else {
      ASSERT_TRUE(test::send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n"));
      std::optional<RawResponse> next = test::read_response(fd, pending);
      EXPECT_TRUE(next && whole_metrics(*next)) << "after " << shown;
    }
    ::close(fd);
  }
}

// Several requests in one write are answered, whole and in order, on the one connection.
TEST(MetricsServer, AnswersPipelinedRequestsInOrder) {
  Served served;
  int fd = test::connect_loopback(served.port);
  ASSERT_GE(fd, 0);
  std::string pipeline =
      "GET /metrics HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\n";
  for (int i = 0; i < 20; ++i) pipeline += "GET /metrics HTTP/1.1\r\n\r\nGET /nothing HTTP/1.1\r\n\r\n";
  pipeline += "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(test::send_all(fd, pipeline));
  std::string pending;
  std::optional<RawResponse> gz = test::read_response(fd, pending);
  ASSERT_TRUE(gz);
  EXPECT_EQ(gz->header("content-encoding"), "gzip");
  std::optional<RawResponse> head = test::read_response(fd, pending, true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_GT(std::stoul(head->header("content-length")), 1000u);  // the GET's length, no body
  for (int i = 0; i < 20; ++i) {
    std::optional<RawResponse> metrics = test::read_response(fd, pending);
    ASSERT_TRUE(metrics && whole_metrics(*metrics)) << i;
    std::optional<RawResponse> missing = test::read_response(fd, pending);
    ASSERT_TRUE(missing) << i;
    EXPECT_EQ(missing->status, 404);
  }
  std::optional<RawResponse> index = test::read_response(fd, pending);
  ASSERT_TRUE(index);
  EXPECT_NE(index->body.find("href=\"/metrics\""), std::string::npos);
  EXPECT_TRUE(test::closed_by_server(fd));
  ::close(fd);
}

// A head that trickles in is cut at the deadline, however steadily its bytes come.
TEST(MetricsServer, AHeadThatTricklesIsCutAtTheDeadline) {
  Served served(ServerOptions{64, 600ms});
  int fd = test::connect_loopback(served.port);
  ASSERT_GE(fd, 0);
  auto start = Clock::now();
  ASSERT_TRUE(test::send_all(fd, "GET /metrics HTTP/1.1\r\nX-Slow: "));
  bool sending = true;
  while (sending && Clock::now() - start < 6s) {  // ten deadlines
    std::this_thread::sleep_for(50ms);
    sending = test::send_all(fd, "a");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) break;
  }
  std::string pending;
  std::optional<RawResponse> r = test::read_response(fd, pending);
  auto lasted = Clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(test::closed_by_server(fd));
  EXPECT_GE(lasted, 600ms);
  EXPECT_LT(lasted, 3 * 600ms) << "the deadline was extended by the trickling bytes";
  ::close(fd);
}

// When the cap is reached, a new connection closes the one that has waited longest.
TEST(MetricsServer, AFullServerClosesItsLongestWaitingConnection) {
  Served served(ServerOptions{4, 10s});
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(test::connect_loopback(served.port));
    ASSERT_TRUE(test::send_all(idle.back(), "GET / HTTP/1.1\r\n"));
    std::this_thread::sleep_for(20ms);  // an order of arrival
  }
  int fresh = test::connect_loopback(served.port);
  ASSERT_TRUE(test::send_all(fresh, "GET /metrics HTTP/1.1\r\n\r\n"));
  std::string pending;
  std::optional<RawResponse> r = test::read_response(fresh, pending);
  ASSERT_TRUE(r && whole_metrics(*r));
  EXPECT_TRUE(test::closed_by_server(idle.front()));
  ASSERT_TRUE(test::send_all(idle.back(), "\r\n"));  // the newest of them still served
  std::string rest;
  std::optional<RawResponse> kept = test::read_response(idle.back(), rest);
  EXPECT_TRUE(kept && kept->status == 200);
  for (int fd : idle) ::close(fd);
  ::close(fresh);
}

// 100 clients trickling a byte a second (reconnecting when cut) fill the default cap of 64 and
// more, yet a scrape is answered as fast as on the idle server; stop() does not wait for them
// either. (The thread-pool server this replaced, with 64 threads, never answered.)
TEST(MetricsServer, ScrapesPromptlyBesideAHundredSlowClients) {
  Served served;  // the defaults: 64 connections, 5 s deadline
  int failures = 0;
  double quiet = test::median_scrape(served.port, 15, 100ms, "pressure_exported_cgroups ", &failures);
  ASSERT_EQ(failures, 0);
  test::SlowClients slow(served.port, 100);
  std::this_thread::sleep_for(2s);
  EXPECT_GE(slow.open_now(), 90);
  // Over 4.5 s, across the slow clients' deadline, their cuts and reconnections.
  double attacked = test::median_scrape(served.port, 15, 300ms, "pressure_exported_cgroups ", &failures);
  EXPECT_EQ(failures, 0);
  EXPECT_GT(slow.reconnects(), 0) << "the deadline never cut a slow client";
  EXPECT_LT(attacked, quiet * 10) << "median scrape quiet " << quiet << " s, beside slow clients "
                                  << attacked;
  auto before_stop = Clock::now();
  served.server->stop();
  double stopping = std::chrono::duration<double>(Clock::now() - before_stop).count();
  EXPECT_LT(stopping, 0.5 * 5) << "stop() waited " << stopping << " s for the slow clients";
  std::printf("median scrape: quiet %.5f s, beside 100 slow clients %.5f s (%d reconnects); stop %.5f s\n",
              quiet, attacked, slow.reconnects(), stopping);
}

}  // namespace
}  // namespace pressure::exporter
