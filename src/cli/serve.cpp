#include "cli/serve.hpp"

#include <csignal>

#include <fmt/core.h>

#include "cli/cli.hpp"
#include "core/printable.hpp"
#include "exporter/server.hpp"
#include "sys/stop_signals.hpp"

namespace pressure::cli {

CLI::App* add_serve(CLI::App& app, ServeOptions& options) {
  CLI::App* serve = app.add_subcommand(
      "serve", "serve Prometheus metrics (/metrics) of the system and of cgroups until SIGINT/SIGTERM");
  options.listen = std::string(exporter::k_default_listen);
  serve
      ->add_option("--listen", options.listen,
                   "HOST:PORT, [IPv6]:PORT, or :PORT for every interface (as node_exporter); port 0 takes "
                   "a free port. Default 127.0.0.1:9101, loopback only")
      ->option_text("ADDR");
  CLI::Option* cgroup = serve
                            ->add_option("--cgroup", options.cgroups,
                                         "export the cgroups matching GLOB (relative to the cgroup2 mount; "
                                         "'*' one level, '**' any depth, '/' the root); repeatable. "
                                         "Default '*': every top-level group")
                            ->option_text("GLOB");
  serve->add_flag("--no-cgroups", options.no_cgroups, "export the system only")->excludes(cgroup);
  serve->add_flag("--no-averages", options.no_averages, "leave out the pressure_avg_ratio gauges");
  serve->add_flag("--no-name-labels", options.no_name_labels,
                  "leave out the unit, container_id and pod_uid labels of cgroup samples");
  return serve;
}

int run_serve(const GlobalOptions& global, const ServeOptions& options) {
  Result<exporter::ListenAddress> address = exporter::parse_listen_address(options.listen);
  if (!address) {
    fmt::print(stderr, "pressure: --listen: {}\n", address.error().message());
    return k_exit_usage;
  }
  exporter::ExporterOptions exporter_options;
  exporter_options.reader = global.reader_options();
  // No PSI at all is said at once (exit 3), as `show` does, rather than served as empty scrapes.
  if (Result<Snapshot> probe = Reader(Target::system(), exporter_options.reader).snapshot();
      !probe && probe.error().code() == Errc::unsupported)
    return report(probe.error());
  exporter_options.averages = !options.no_averages;
  exporter_options.names = !options.no_name_labels;
  exporter_options.on_notice = [](const std::string& notice) {
    fmt::print(stderr, "pressure: serve: {}\n", core::printable(notice));
  };
  exporter_options.cgroups.clear();
  for (const std::string& text : options.cgroups) {
    Result<CgroupSelector> glob = parse_cgroup_selector(text);
    if (!glob) {
      fmt::print(stderr, "pressure: --cgroup: {}\n", glob.error().message());
      return k_exit_usage;
    }
    exporter_options.cgroups.push_back(std::move(*glob));
  }
  if (!options.no_cgroups && options.cgroups.empty()) {
    // The default: where there is no cgroup2 mount, the system alone (said once); asked-for
    // globs without a mount are an error.
    if (Result<std::string> root = cgroup2_root(exporter_options.reader); root)
      exporter_options.cgroups = exporter::ExporterOptions::default_cgroups();
    else
      fmt::print(stderr, "pressure: notice: exporting the system only: {}\n", root.error().message());
  } else if (!exporter_options.cgroups.empty()) {
    if (Result<std::string> root = cgroup2_root(exporter_options.reader); !root) return report(root.error());
  }
  exporter::Exporter exporter(std::move(exporter_options));

  // Before any thread starts (threads inherit the mask): the stop happens on this thread.
  Result<sys::StopSignals> stop = sys::StopSignals::take();
  if (!stop) return report(stop.error());
  std::signal(SIGPIPE, SIG_IGN);  // a client closing early is that request's problem

  Result<exporter::MetricsServer> server = exporter::MetricsServer::listen(*address, exporter);
  if (!server) return report(server.error());
  server->start();
  fmt::print(stderr, "pressure: serving {} (listening on {})\n", server->url(),
             server->address().to_string());
  std::fflush(stderr);
  stop->wait();
  server->stop();
  return k_exit_ok;
}

}  // namespace pressure::cli
