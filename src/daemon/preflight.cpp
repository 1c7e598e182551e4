#include "daemon/preflight.hpp"

#include <filesystem>

#include <sys/un.h>

#include "exporter/listen.hpp"
#include "sys/control.hpp"

namespace pressure::daemon {
namespace {

Error in_rule(const policy::Rule& rule, const std::string& what, Errc code = Errc::invalid_argument) {
  return Error(code, rule.source + ": rule '" + rule.name + "': " + what, rule.source);
}

}  // namespace

Result<void> preflight(const Config& config) {
  for (const policy::Rule& rule : config.rules) {
    if (rule.action == policy::ActionKind::exec && !rule.command.empty()) {
      if (Result<std::string> found = sys::find_program(rule.command.front()); !found)
        return tl::unexpected(in_rule(rule, "exec: cannot run " + found.error().message()));
    }
    if (rule.prekill) {
      if (Result<std::string> found = sys::find_program(rule.prekill->command.front()); !found)
        return tl::unexpected(in_rule(rule, "prekill: cannot run " + found.error().message()));
    }
    if (!rule.notify_socket.empty() && rule.notify_socket.size() >= sizeof(sockaddr_un::sun_path))
      return tl::unexpected(in_rule(rule, "notify.socket: the path is " +
                                              std::to_string(rule.notify_socket.size()) +
                                              " bytes; a unix socket path holds at most " +
                                              std::to_string(sizeof(sockaddr_un::sun_path) - 1)));
    if (!rule.notify_file.empty()) {
      std::filesystem::path folder = std::filesystem::path(rule.notify_file).parent_path();
      std::error_code ec;
      if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
        return tl::unexpected(
            in_rule(rule, "notify.file: the folder " + folder.string() + " does not exist", Errc::not_found));
    }
  }
  if (!config.listen.empty()) {
    Result<exporter::ListenAddress> address = exporter::parse_listen_address(config.listen);
    if (!address) return tl::unexpected(address.error().with_context("[daemon] listen: "));
    if (Result<void> local = sys::check_local_address(address->host); !local)
      return tl::unexpected(local.error().with_context("[daemon] listen: "));
  }
  return {};
}

}  // namespace pressure::daemon
