// Admission: "may I start more work here?" from conditions on pressure.
//
//   auto c = pressure::parse_condition("memory full avg10<10");
//   auto a = pressure::admit(pressure::Target::cgroup("batch.slice"), {*c});
//   if (a && a->admitted) start_job(); else log(a ? a->reason : a.error().message());
#pragma once

#include <string>
#include <vector>

#include <pressure/condition.hpp>
#include <pressure/error.hpp>
#include <pressure/reader.hpp>

namespace pressure {

struct Admission {
  bool admitted = false;
  // One line: the measured values and which condition refused, e.g.
  // "refused: cpu some 2s=35.20% is not <20%".
  std::string reason;
  // The value each condition measured, in percent, in order.
  std::vector<double> measured;
};

// Admits when every condition holds. Averages are read at once; window conditions ("2s<20%")
// sample `total` twice, sleeping for the longest window in between.
Result<Admission> admit(const Target& target, const std::vector<Condition>& conditions,
                        const ReaderOptions& options = {});

}  // namespace pressure
