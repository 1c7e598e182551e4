// What a Prometheus scrape of `pressure serve` costs, in one run:
//
//   1000 cgroups   `pressure serve --cgroup pressure-bench-serve-<pid>/*` over 1000 real cgroups:
//                  latency of a scrape (client side, kept-alive connection, gzip as Prometheus
//                  asks) and the server's CPU per scrape (all its threads, from
//                  /proc/PID/task/*/schedstat), against the floor of reading the same groups
//                  in-process with pressure::scan_cgroups. With --before BINARY, another build
//                  of `pressure` (e.g. main before a change) serves the same groups and is
//                  scraped in alternating rounds: latency and CPU after/before in one run. The
//                  server's RSS and open fds are reported after the scrapes.
//   system only    `pressure serve --no-cgroups` beside node_exporter with only its pressure
//                  collector (`--collector.disable-defaults --collector.pressure`), scraped in
//                  alternating rounds: latency and CPU per scrape, and their ratios.
//
// The bench makes <cgroup2 mount>/pressure-bench-serve-<pid> with children g0000..g0999 and
// removes them (children first, then the parent) on exit, on error and on SIGINT/SIGTERM/
// SIGHUP/SIGQUIT/SIGPIPE/SIGABRT; the servers it starts are killed by pid (and die with it).
// Needs root (or write access to the cgroup2 mount).
//
//   serve_bench [--cgroups 1000] [--rounds 5] [--scrapes 20] [--system-scrapes 400] [--before BINARY]
//
// Exits 0 whatever the times are; 1 when the cgroups or servers cannot be made or scraped.
#include <pressure/reader.hpp>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dirent.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup_tree.hpp"
#include "common.hpp"

namespace {

constexpr long k_max_cgroups = 100000;

// ---- What we own: the cgroups and the servers. Removal is async-signal-safe.

using bench::child_name;
using bench::g_children;
using bench::g_parent;
using bench::g_parent_made;
using bench::remove_tree;
std::array<volatile pid_t, 3> g_servers{0, 0, 0};

void kill_servers() {
  for (auto& pid : g_servers) {
    pid_t p = pid;
    if (p > 0) {
      ::kill(p, SIGKILL);
      ::waitpid(p, nullptr, 0);
      pid = 0;
    }
  }
}

void clean_up_at_exit() {
  int saved = errno;
  kill_servers();
  if (int failures = remove_tree(); failures > 0)
    std::fprintf(stderr, "serve_bench: could not remove %d cgroups under %s; rmdir %s/g* %s\n", failures,
                 g_parent, g_parent, g_parent);
  errno = saved;
}

constexpr std::array<int, 6> k_signals{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGABRT};

extern "C" void on_signal(int sig) {
  kill_servers();
  remove_tree();
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "serve_bench: %s\n", message.c_str());
  std::exit(1);  // atexit kills the servers and removes the cgroups
}

// ---- Options.

struct Options {
  long cgroups = 1000;
  long rounds = 5;
  long scrapes = 20;
  long system_scrapes = 400;
  std::string before;  // another pressure binary to compare with
};

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    if (bench::count_option(argc, argv, i, "--cgroups", options.cgroups, 1, k_max_cgroups)) continue;
    if (std::string_view(argv[i]) == "--before" && i + 1 < argc) {
      options.before = argv[++i];
      continue;
    }
    if (bench::count_option(argc, argv, i, "--rounds", options.rounds, 1, 10000)) continue;
    if (bench::count_option(argc, argv, i, "--scrapes", options.scrapes, 1, 100000)) continue;
    if (bench::count_option(argc, argv, i, "--system-scrapes", options.system_scrapes, 1, 1000000)) continue;
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--cgroups N] [--rounds N] [--scrapes N] [--system-scrapes N]\n"
          "  Creates N cgroups under <cgroup2 mount>/pressure-bench-serve-<pid>, scrapes\n"
          "  `pressure serve` exporting them (--scrapes per round) against scan_cgroups of the\n"
          "  same groups, then `pressure serve --no-cgroups` against node_exporter's pressure\n"
          "  collector (--system-scrapes per round each), and removes the cgroups.\n",
          argv[0]);
      std::exit(0);
    }
    std::fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
    std::exit(2);
  }
  return options;
}

// ---- Servers.

struct Server {
  const char* name;
  pid_t pid = -1;
  int port = 0;
  int stderr_fd = -1;
};

// A port free now on loopback (bound then closed).
int free_port() {
  int sock = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    die(std::string("no free port: ") + std::strerror(errno));
  ::close(sock);
  return ntohs(address.sin_port);
}

Server spawn(const char* name, std::vector<std::string> argv, std::size_t slot) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) die("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(pipe_fds[1], 2);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  g_servers[slot] = pid;
  ::close(pipe_fds[1]);
  return Server{name, pid, 0, pipe_fds[0]};
}

// `pressure serve --listen 127.0.0.1:0 ARGS...`: reads the port it says it got.
Server start_pressure(const std::vector<std::string>& args, std::size_t slot,
                      const std::string& binary = PRESSURE_BINARY) {
  std::vector<std::string> argv{binary, "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  Server server = spawn("pressure serve", argv, slot);
  std::string said;
  char buffer[512];
  const std::string marker = "serving http://127.0.0.1:";
  while (said.find('\n', said.find(marker)) == std::string::npos || said.find(marker) == std::string::npos) {
    ssize_t n = ::read(server.stderr_fd, buffer, sizeof buffer);
    if (n <= 0) die("pressure serve exited: " + said);
    said.append(buffer, static_cast<std::size_t>(n));
  }
  server.port = std::atoi(said.c_str() + said.find(marker) + marker.size());
  if (server.port <= 0) die("pressure serve said no port: " + said);
  return server;
}

Server start_node_exporter(std::size_t slot) {
  const char* binary =
      std::getenv("NODE_EXPORTER") ? std::getenv("NODE_EXPORTER") : "/usr/bin/prometheus-node-exporter";
  if (::access(binary, X_OK) != 0)
    die(std::string("no node_exporter at ") + binary + " (apt install prometheus-node-exporter)");
  int port = free_port();
  Server server = spawn("node_exporter",
                        {binary, "--collector.disable-defaults", "--collector.pressure",
                         "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                        slot);
  server.port = port;
  for (int i = 0; i < 200; ++i) {
    if (httplib::Client("127.0.0.1", port).Get("/metrics")) return server;
    ::usleep(25000);
  }
  die("node_exporter did not answer on 127.0.0.1:" + std::to_string(port));
}

// CPU time of every thread of `pid`, in ns.
double cpu_ns(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* tasks = ::opendir(dir.c_str());
  if (tasks == nullptr) die("cannot read " + dir);
  double total = 0;
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + entry->d_name + "/schedstat");
    double on_cpu = 0;
    if (in >> on_cpu) total += on_cpu;
  }
  ::closedir(tasks);
  return total;
}

struct Figures {
  std::vector<double> latency_ns;  // per round: median over its scrapes
  std::vector<double> cpu_ns;      // per round: server CPU / scrapes
  std::size_t bytes = 0;
};

// `scrapes` GETs of /metrics on one kept-alive connection.
void scrape_round(const Server& server, long scrapes, Figures& figures, httplib::Client& client) {
  std::vector<double> latencies;
  double cpu_before = cpu_ns(server.pid);
  for (long i = 0; i < scrapes; ++i) {
    std::int64_t start = bench::now_ns();
    auto response = client.Get("/metrics");
    std::int64_t stop = bench::now_ns();
    if (!response || response->status != 200)
      die(std::string(server.name) + " scrape failed: " +
          (response ? std::to_string(response->status) : httplib::to_string(response.error())));
    figures.bytes = response->body.size();
    latencies.push_back(static_cast<double>(stop - start));
  }
  figures.cpu_ns.push_back((cpu_ns(server.pid) - cpu_before) / static_cast<double>(scrapes));
  figures.latency_ns.push_back(bench::median(latencies));
}

std::unique_ptr<httplib::Client> client_for(const Server& server) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", server.port);
  client->set_keep_alive(true);
  client->set_read_timeout(60, 0);
  client->set_default_headers({{"Accept-Encoding", "gzip"}});  // as Prometheus asks
  return client;
}

double ms(double ns) { return ns / 1e6; }

long status_kib(pid_t pid, const char* key) {
  std::string status = bench::read_text("/proc/" + std::to_string(pid) + "/status");
  std::size_t at = status.find(key);
  return at == std::string::npos ? -1 : std::strtol(status.c_str() + at + std::strlen(key), nullptr, 10);
}

long open_fds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return -1;
  long n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  bench::warn_about_build("serve_bench");
  if (::access("/proc/pressure/cpu", R_OK) != 0) die("no /proc/pressure/cpu: PSI is off on this kernel");
  pressure::Result<std::string> mount = pressure::cgroup2_root();
  if (!mount) die(mount.error().message());

  std::string parent_name = "pressure-bench-serve-" + std::to_string(::getpid());
  std::snprintf(g_parent, sizeof g_parent, "%s/%s", mount->c_str(), parent_name.c_str());
  std::atexit(clean_up_at_exit);
  for (int sig : k_signals) std::signal(sig, on_signal);
  if (::mkdir(g_parent, 0755) != 0)
    die(std::string("cannot create ") + g_parent + ": " + std::strerror(errno));
  g_parent_made = 1;
  char path[sizeof g_parent + 32];
  std::size_t base = std::strlen(g_parent);
  std::memcpy(path, g_parent, base);
  path[base] = '/';
  for (long i = 0; i < options.cgroups; ++i) {
    child_name(i, path + base + 1);
    g_children = static_cast<std::sig_atomic_t>(i + 1);
    if (::mkdir(path, 0755) != 0) die(std::string("cannot create ") + path + ": " + std::strerror(errno));
  }

  // ---- 1000 cgroups: scrapes against the in-process scan of the same groups.
  Server groups = start_pressure({"--cgroup", parent_name + "/*"}, 0);
  auto groups_client = client_for(groups);
  {
    auto check = groups_client->Get("/metrics");
    std::string expect = "pressure_exported_cgroups " + std::to_string(options.cgroups) + "\n";
    if (!check || check->body.find(expect) == std::string::npos)
      die("the exporter does not export the " + std::to_string(options.cgroups) + " cgroups");
  }
  std::optional<Server> before;
  std::unique_ptr<httplib::Client> before_client;
  if (!options.before.empty()) {
    before = start_pressure({"--cgroup", parent_name + "/*"}, 1, options.before);
    before_client = client_for(*before);
  }
  Figures cgroup_figures, before_figures;
  std::vector<double> scan_ns;
  for (long round = 0; round < options.rounds; ++round) {
    if (before && round % 2 == 0) scrape_round(*before, options.scrapes, before_figures, *before_client);
    scrape_round(groups, options.scrapes, cgroup_figures, *groups_client);
    if (before && round % 2 == 1) scrape_round(*before, options.scrapes, before_figures, *before_client);
    std::vector<double> scans;
    for (long i = 0; i < options.scrapes; ++i) {
      std::int64_t start = bench::now_ns();
      auto scanned = pressure::scan_cgroups("/" + parent_name);
      std::int64_t stop = bench::now_ns();
      if (!scanned || scanned->size() != static_cast<std::size_t>(options.cgroups))
        die("scan_cgroups failed");
      scans.push_back(static_cast<double>(stop - start));
    }
    scan_ns.push_back(bench::median(scans));
  }
  long server_rss = status_kib(groups.pid, "VmRSS:");
  long server_fds = open_fds(groups.pid);
  groups_client.reset();
  ::kill(groups.pid, SIGTERM);
  ::waitpid(groups.pid, nullptr, 0);
  g_servers[0] = 0;
  if (before) {
    before_client.reset();
    ::kill(before->pid, SIGTERM);
    ::waitpid(before->pid, nullptr, 0);
    g_servers[1] = 0;
  }

  // ---- The system only: pressure serve beside node_exporter's pressure collector, alternating.
  Server ours = start_pressure({"--no-cgroups"}, 1);
  Server node = start_node_exporter(2);
  auto ours_client = client_for(ours);
  auto node_client = client_for(node);
  Figures ours_figures;
  Figures node_figures;
  for (long round = 0; round < options.rounds; ++round) {
    if (round % 2 == 0) {
      scrape_round(ours, options.system_scrapes, ours_figures, *ours_client);
      scrape_round(node, options.system_scrapes, node_figures, *node_client);
    } else {
      scrape_round(node, options.system_scrapes, node_figures, *node_client);
      scrape_round(ours, options.system_scrapes, ours_figures, *ours_client);
    }
  }
  ours_client.reset();
  node_client.reset();
  kill_servers();

  double latency = bench::median(cgroup_figures.latency_ns);
  double cpu = bench::median(cgroup_figures.cpu_ns);
  double scan = bench::median(scan_ns);
  std::printf(
      "serve %ld cgroups: scrape %.2f ms, server CPU %.2f ms/scrape; in-process scan_cgroups %.2f ms; "
      "ratio scrape/scan %.2f, CPU/scan %.2f (%zu bytes)\n",
      options.cgroups, ms(latency), ms(cpu), ms(scan), latency / scan, cpu / scan, cgroup_figures.bytes);
  std::printf("  the server: RSS %ld KiB, %ld open fds\n", server_rss, server_fds);
  if (before) {
    double before_latency = bench::median(before_figures.latency_ns);
    double before_cpu = bench::median(before_figures.cpu_ns);
    std::printf(
        "  before (%s): scrape %.2f ms, server CPU %.2f ms/scrape; after/before latency %.2f, CPU %.2f "
        "(targets: scrape <= 12 ms, CPU <= 0.5x before)\n",
        options.before.c_str(), ms(before_latency), ms(before_cpu), latency / before_latency,
        cpu / before_cpu);
  }
  double ours_latency = bench::median(ours_figures.latency_ns);
  double ours_cpu = bench::median(ours_figures.cpu_ns);
  double node_latency = bench::median(node_figures.latency_ns);
  double node_cpu = bench::median(node_figures.cpu_ns);
  std::printf(
      "serve system only: pressure %.3f ms (CPU %.3f ms/scrape, %zu bytes), node_exporter pressure-only "
      "%.3f ms (CPU %.3f ms/scrape, %zu bytes); ratio pressure/node_exporter latency %.2f, CPU %.2f\n",
      ms(ours_latency), ms(ours_cpu), ours_figures.bytes, ms(node_latency), ms(node_cpu), node_figures.bytes,
      ours_latency / node_latency, ours_cpu / node_cpu);
  return 0;
}
