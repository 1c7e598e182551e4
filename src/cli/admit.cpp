#include "cli/admit.hpp"
#include "cli/format.hpp"

#include <cmath>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <pressure/admit.hpp>

namespace pressure::cli {

CLI::App* add_admit(CLI::App& app, AdmitOptions& options) {
  CLI::App* admit = app.add_subcommand(
      "admit",
      "answer 'may I start more work here?': exit 0 when every CONDITION holds, 1 when one does not");
  options.target.add_to(*admit);
  admit
      ->add_option("condition", options.conditions,
                   "e.g. \"memory full avg10<10\" or \"cpu some 2s<20%\" (the stall share over the last 2 s)")
      ->required();
  admit->add_flag("--json", options.json, "one JSON object instead of a line");
  return admit;
}

int run_admit(const GlobalOptions& global, const AdmitOptions& options) {
  std::vector<Condition> conditions;
  for (const std::string& text : options.conditions) {
    Result<Condition> c = parse_condition(text);
    if (!c) return report(c.error());
    conditions.push_back(*c);
  }
  Result<Admission> a = admit(options.target.target(), conditions, global.reader_options());
  if (!a) return report(a.error());
  if (options.json) {
    nlohmann::ordered_json j;
    j["admitted"] = a->admitted;
    j["reason"] = a->reason;
    nlohmann::ordered_json measured = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < conditions.size(); ++i) {
      double v = a->measured[i];
      // Keyed by the whole condition: two conditions on one subject stay apart.
      measured[options.conditions[i]] =
          std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
    }
    j["measured"] = measured;
    fmt::print("{}\n", json_line(j));
  } else {
    fmt::print("{}\n", a->reason);
  }
  return a->admitted ? 0 : 1;
}

}  // namespace pressure::cli
