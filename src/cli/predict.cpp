#include "cli/predict.hpp"

#include <cmath>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <pressure/decay.hpp>
#include <pressure/window.hpp>

#include "cli/cli.hpp"
#include "cli/format.hpp"

namespace pressure::cli {
namespace {

double seconds(std::chrono::nanoseconds d) {
  return std::round(std::chrono::duration<double>(d).count() * 10.0) / 10.0;
}

struct LinePrediction {
  const Stall* stall;
  std::optional<double> share;  // stall now, fraction of the sample; unknown if total went back
  DecayPrediction decay;
};

nlohmann::ordered_json prediction_json(const LinePrediction& p) {
  nlohmann::ordered_json j;
  j["avg10"] = p.stall->avg10.value();
  j["avg60"] = p.stall->avg60.value();
  j["avg300"] = p.stall->avg300.value();
  if (p.share) {
    j["stall_now"] = std::round(*p.share * 100.0 * 100.0) / 100.0;
    j["accruing"] = *p.share > 0.0;
  } else {
    j["stall_now"] = nullptr;
    j["accruing"] = nullptr;
  }
  j["below_now"] = !p.decay.never && p.decay.updates_max == 0;
  j["never"] = p.decay.never;
  if (p.decay.never) {
    j["seconds"] = nullptr;
    j["seconds_min"] = nullptr;
    j["seconds_max"] = nullptr;
  } else {
    j["seconds"] = seconds(p.decay.estimate);
    j["seconds_min"] = seconds(p.decay.earliest);
    j["seconds_max"] = seconds(p.decay.latest);
  }
  j["updates_min"] = p.decay.updates_min;
  j["updates_max"] = p.decay.updates_max;
  return j;
}

std::string prediction_text(const LinePrediction& p) {
  if (p.decay.never) return fmt::format("never: {:.1f}% stall keeps it up", p.share.value_or(0.0) * 100.0);
  if (p.decay.updates_max == 0) return "below now";
  return fmt::format("{:.0f}s ({:.0f}-{:.0f}s){}", seconds(p.decay.estimate), seconds(p.decay.earliest),
                     seconds(p.decay.latest),
                     !p.share         ? ", stall now unknown (counter reset)"
                     : *p.share > 0.0 ? ", stall accruing"
                                      : "");
}

}  // namespace

CLI::App* add_predict(CLI::App& app, PredictOptions& options) {
  CLI::App* predict = app.add_subcommand(
      "predict", "say when the kernel's averages will have decayed below thresholds, if no new stall comes");
  options.target.add_to(*predict);
  predict
      ->add_option("--below", options.below,
                   "thresholds, e.g. \"avg10=0.01,avg60=0.03\" (each strictly below)")
      ->capture_default_str();
  predict->add_option("--sample", options.sample, "seconds to watch total for stall still accruing")
      ->check(seconds_between(0.01, 3600))
      ->capture_default_str();
  predict->add_flag("--json", options.json, "one JSON object");
  return predict;
}

namespace {

// Each line of resource `r`: its prediction as JSON, and its row appended to `table`.
nlohmann::ordered_json predict_lines(const Snapshot& before, const Snapshot& after, Resource r,
                                     const Thresholds& thresholds, std::string& table) {
  const Pressure& p = *after[r];
  nlohmann::ordered_json lines;
  for (Line l : k_lines) {
    if (!p[l]) {
      lines[std::string(to_string(l))] = nullptr;
      continue;
    }
    double measured = stall_share(before, after, r, l);
    std::optional<double> share = std::isnan(measured) ? std::nullopt : std::optional<double>(measured);
    // The kernel truncates each 2 s sample to a whole percent before averaging.
    auto background = static_cast<unsigned>(std::floor(share.value_or(0.0) * 100.0));
    LinePrediction prediction{&*p[l], share, time_until_below(*p[l], thresholds, background)};
    lines[std::string(to_string(l))] = prediction_json(prediction);
    table += fmt::format("{:<8} {:<4} {:>6} {:>6} {:>6} {:>6.1f}%  {}\n", to_string(r), to_string(l),
                         format_percent(prediction.stall->avg10), format_percent(prediction.stall->avg60),
                         format_percent(prediction.stall->avg300), share.value_or(0.0) * 100.0,
                         prediction_text(prediction));
  }
  return lines;
}

}  // namespace

int run_predict(const GlobalOptions& global, const PredictOptions& options) {
  Result<Thresholds> thresholds = parse_thresholds(options.below);
  if (!thresholds) return report(thresholds.error());
  Reader reader(options.target.target(), global.reader_options());
  Result<Snapshot> before = reader.snapshot();
  if (!before) return report(before.error());
  std::this_thread::sleep_for(std::chrono::duration<double>(options.sample));
  Result<Snapshot> after = reader.snapshot();
  if (!after) return report(after.error());
  Result<std::string> where = reader.resolved_path();
  if (!where) return report(where.error());

  nlohmann::ordered_json j;
  j["target"] = *where;
  if (options.target.pid) j["pid"] = *options.target.pid;
  j["time"] =
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::milliseconds>(after->time.time_since_epoch()).count()) /
      1000.0;
  nlohmann::ordered_json below;
  for (Average a : k_averages)
    if ((*thresholds)[a]) below[std::string(to_string(a))] = (*thresholds)[a]->value();
  j["below"] = below;
  j["sample_seconds"] =
      std::round(std::chrono::duration<double>(after->monotonic - before->monotonic).count() * 1000.0) /
      1000.0;
  nlohmann::ordered_json unavailable = nlohmann::ordered_json::object();

  std::string table = fmt::format("{}  {}  below {}, stall sampled over {:.2f}s\n", *where,
                                  format_time(after->time), thresholds->to_string(), options.sample);
  table += fmt::format("{:<8} {:<4} {:>6} {:>6} {:>6} {:>7}  {}\n", "RESOURCE", "LINE", "AVG10", "AVG60",
                       "AVG300", "NOW", "BELOW IN");
  int code = k_exit_ok;
  for (Resource r : k_resources) {
    std::string name(to_string(r));
    const Result<Pressure>& p = (*after)[r];
    if (!p) {
      j[name] = nullptr;
      unavailable[name] = p.error().message();
      table += fmt::format("{:<8} {}\n", name, p.error().message());
      if (p.error().code() != Errc::unavailable) code = report(p.error());
      continue;
    }
    j[name] = predict_lines(*before, *after, r, *thresholds, table);
  }
  j["unavailable"] = unavailable;
  if (options.json)
    std::cout << json_line(j) << '\n';
  else
    std::cout << table;
  return code;
}

}  // namespace pressure::cli
