// Numbers as the kernel and our users write them. Pure.
#pragma once

#include <cstdint>
#include <string_view>

namespace pressure::core {

// "12.34", "12.3", "12" -> 1234, 1230, 1200. At most three digits before the dot and two after
// it (anything finer would not be exact, and the kernel prints exactly two); no sign, no
// exponent. False if `s` is anything else.
bool parse_hundredths(std::string_view s, std::uint32_t& out);

}  // namespace pressure::core
