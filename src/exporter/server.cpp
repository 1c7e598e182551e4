#include "exporter/server.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/http_module.hpp"
#include "exporter/metrics.hpp"

namespace pressure::exporter {

namespace {

constexpr std::string_view k_index =
    "<!DOCTYPE html>\n<html><head><title>pressure exporter</title></head><body>\n"
    "<h1>pressure exporter</h1>\n<p>Linux pressure stall information (PSI) of the system and its "
    "cgroups.</p>\n"
    "<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

// The module says only "0" when binding fails; bind a socket of our own the same way to learn why.
Error bind_error(const ListenAddress& address, const std::string& host) {
  std::string where = address.to_string();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return Error(Errc::invalid_argument, "cannot listen on " + where + ": host '" + host +
                                             "' does not resolve (" + ::gai_strerror(rc) + ")");
  int err = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int sock = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (sock < 0) {
      err = errno;
      continue;
    }
    http::socket_options(sock);
    bool bound = ::bind(sock, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(sock, 1) == 0;
    err = bound ? 0 : errno;
    ::close(sock);
    if (bound) break;
  }
  ::freeaddrinfo(found);
  switch (err) {
    case EADDRINUSE:
      return Error(Errc::system,
                   "cannot listen on " + where + ": the port is already in use (another exporter?)", where,
                   err);
    case EACCES:
      return Error(Errc::permission,
                   "cannot listen on " + where +
                       ": permission denied (ports below 1024 need root or "
                       "CAP_NET_BIND_SERVICE)",
                   where, err);
    case EADDRNOTAVAIL:
      return Error(Errc::invalid_argument, "cannot listen on " + where + ": not an address of this machine",
                   where, err);
    case 0:
      return Error(Errc::system, "cannot listen on " + where + " (the address was busy a moment ago)", where);
    default: return Error(Errc::system, "cannot listen on " + where + ": " + std::strerror(err), where, err);
  }
}

// The module's file name and where it is looked for, from the build (src/exporter/CMakeLists.txt).
constexpr const char* k_module_name = PRESSURE_HTTP_MODULE_NAME;
constexpr const char* k_module_from_bindir = PRESSURE_HTTP_MODULE_FROM_BINDIR;  // installed, relative
constexpr const char* k_module_built = PRESSURE_HTTP_MODULE_BUILT;              // this build tree
constexpr const char* k_build_dir = PRESSURE_BUILD_DIR;
constexpr const char* k_module_installed = PRESSURE_HTTP_MODULE_INSTALLED;  // installed, absolute
constexpr const char* k_build_id = PRESSURE_HTTP_BUILD_ID;

// Where the HTTP module may be: $PRESSURE_HTTP_MODULE alone when set; else, for a program
// inside this build tree (tests, benches), the build's own module; else the install layout
// relative to this program (so an installed tree can move), then the configured prefix.
std::vector<std::string> module_candidates() {
  if (const char* chosen = std::getenv("PRESSURE_HTTP_MODULE"); chosen != nullptr && *chosen != '\0')
    return {chosen};
  std::vector<std::string> paths;
  std::array<char, 4096> exe{};
  ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n > 0) {
    std::string dir(exe.data(), static_cast<std::size_t>(n));
    dir.erase(dir.rfind('/') + 1);
    if (dir.starts_with(std::string(k_build_dir) + "/")) paths.emplace_back(k_module_built);
    paths.push_back(dir + k_module_from_bindir + "/" + k_module_name);
  }
  paths.emplace_back(k_module_installed);
  return paths;
}

Result<http::Create> load_module() {
  std::vector<std::string> paths = module_candidates();
  for (const std::string& path : paths) {
    if (::access(path.c_str(), F_OK) != 0) continue;
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      return fail(Errc::system, "cannot load the HTTP module " + path + ": " + (why ? why : "dlopen failed"),
                  path);
    }
    void* entry = ::dlsym(handle, http::k_entry_point);
    void* build_id = ::dlsym(handle, http::k_build_id_symbol);
    if (entry == nullptr || build_id == nullptr) {
      ::dlclose(handle);
      return fail(Errc::system,
                  "cannot load the HTTP module " + path + ": it has no " + http::k_entry_point +
                      " (a module of another pressure version?)",
                  path);
    }
    std::string theirs = reinterpret_cast<const char* (*)()>(build_id)();
    if (theirs != k_build_id) {
      ::dlclose(handle);
      return fail(Errc::system,
                  "cannot load the HTTP module " + path + ": it comes from another build (" + theirs +
                      "; this program: " + k_build_id + ")",
                  path);
    }
    return reinterpret_cast<http::Create>(entry);  // stays loaded for the life of the process
  }
  std::string looked;
  for (const std::string& path : paths) looked += (looked.empty() ? "" : ", ") + path;
  return fail(Errc::system,
              std::string("cannot serve: the HTTP module ") + k_module_name +
                  " is not installed (looked for " + looked + "; PRESSURE_HTTP_MODULE names it elsewhere)",
              paths.front());
}

// Loaded once, on the first listen(); a program that never serves never maps the module.
const Result<http::Create>& http_module() {
  static const Result<http::Create> loaded = load_module();
  return loaded;
}

}  // namespace

struct MetricsServer::Impl {
  explicit Impl(std::unique_ptr<http::Server> s) : server(std::move(s)) {}

  // Serves until stop(); the module's stop() is sticky, so a stop() before serve() counts too.
  bool serve() { return server->serve() || stopping; }

  void stop() {
    stopping = true;
    server->stop();
    std::lock_guard lock(thread_mutex);
    if (thread.joinable()) thread.join();
  }

  std::unique_ptr<http::Server> server;
  ListenAddress bound;
  std::atomic<bool> stopping{false};
  std::mutex thread_mutex;
  std::thread thread;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
MetricsServer::MetricsServer(MetricsServer&&) noexcept = default;
MetricsServer& MetricsServer::operator=(MetricsServer&& other) noexcept {
  if (this != &other) {
    stop();
    m_impl = std::move(other.m_impl);
  }
  return *this;
}
MetricsServer::~MetricsServer() { stop(); }

Result<MetricsServer> MetricsServer::listen(const ListenAddress& address, Exporter& exporter,
                                            ServerOptions options) {
  const Result<http::Create>& create = http_module();
  if (!create) return tl::unexpected(create.error());
  http::Settings settings{[&exporter](std::string& body) { exporter.render(body); }, k_content_type, k_index,
                          options.max_connections, options.deadline};
  std::unique_ptr<http::Server> server((*create)(settings));
  if (!server)
    return fail(Errc::system,
                "cannot listen on " + address.to_string() + ": the HTTP server failed to start");
  auto impl = std::make_unique<Impl>(std::move(server));
  // Every interface: "::" (IPv6 with IPv4 mapped), or "0.0.0.0" where the host has no IPv6.
  std::vector<std::string> hosts = address.all_interfaces() ? std::vector<std::string>{"::", "0.0.0.0"}
                                                            : std::vector<std::string>{address.host};
  for (const std::string& host : hosts) {
    if (int port = impl->server->bind(host, address.port); port > 0) {
      impl->bound = ListenAddress{address.host, port};
      return MetricsServer(std::move(impl));
    }
  }
  return tl::unexpected(bind_error(address, hosts.back()));
}

Result<MetricsServer> MetricsServer::listen(std::string_view address, Exporter& exporter,
                                            ServerOptions options) {
  Result<ListenAddress> parsed = parse_listen_address(address);
  if (!parsed) return tl::unexpected(parsed.error());
  return listen(*parsed, exporter, options);
}

Result<void> MetricsServer::load() {
  const Result<http::Create>& create = http_module();
  if (!create) return tl::unexpected(create.error());
  return {};
}

const ListenAddress& MetricsServer::address() const { return m_impl->bound; }

std::string MetricsServer::url() const {
  ListenAddress shown = m_impl->bound;
  if (shown.all_interfaces()) shown.host = "127.0.0.1";
  return "http://" + shown.to_string() + "/metrics";
}

Result<void> MetricsServer::run() {
  if (!m_impl->serve())
    return fail(Errc::system,
                "the metrics server on " + m_impl->bound.to_string() + " stopped accepting connections");
  return {};
}

void MetricsServer::start() {
  std::lock_guard lock(m_impl->thread_mutex);
  if (m_impl->thread.joinable() || m_impl->stopping) return;
  Impl* impl = m_impl.get();  // stays put when the MetricsServer is moved
  m_impl->thread = std::thread([impl] { (void)impl->serve(); });
}

void MetricsServer::stop() {
  if (m_impl) m_impl->stop();
}

}  // namespace pressure::exporter
